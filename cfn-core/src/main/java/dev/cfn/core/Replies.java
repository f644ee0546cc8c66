package dev.cfn.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The requests waiting for a reply, by correlation id, each with its timeout. A reply completes its
 * future on the replier's thread; a timeout on the timer's.
 */
final class Replies {
  private final ConcurrentHashMap<Long, CompletableFuture<Envelope>> pending =
      new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor timer;

  Replies(ScheduledThreadPoolExecutor timer) {
    this.timer = timer;
  }

  /** Opens request {@code id}; its future fails with a timeout after {@code timeout}. */
  CompletableFuture<Envelope> open(long id, AgentId to, Duration timeout) {
    CompletableFuture<Envelope> future = new CompletableFuture<>();
    pending.put(id, future);
    try {
      ScheduledFuture<?> expiry =
          timer.schedule(
              () -> {
                if (pending.remove(id, future)) {
                  future.completeExceptionally(
                      new TimeoutException("no reply from " + to + " within " + timeout));
                }
              },
              timeout.toNanos(),
              TimeUnit.NANOSECONDS);
      future.whenComplete((r, x) -> expiry.cancel(false));
    } catch (RejectedExecutionException ex) {
      // The timer stops only once the runtime has terminated, so the delivery is refused and
      // fails the future like any send after shutdown; no timeout is needed.
    }
    return future;
  }

  /** Completes the request {@code reply} answers; false when it timed out or was answered. */
  boolean complete(Envelope reply) {
    CompletableFuture<Envelope> f = pending.remove(reply.correlationId());
    if (f == null) {
      return false;
    }
    f.complete(reply);
    return true;
  }

  /** Fails request {@code id}, if it is still waiting. */
  void fail(long id, Throwable cause) {
    CompletableFuture<Envelope> f = pending.remove(id);
    if (f != null) {
      f.completeExceptionally(cause);
    }
  }

  /** Fails every waiting request (the runtime shut down). */
  void failAll() {
    for (CompletableFuture<Envelope> f : pending.values()) {
      f.completeExceptionally(new IllegalStateException("the runtime shut down before a reply"));
    }
    pending.clear();
  }
}
