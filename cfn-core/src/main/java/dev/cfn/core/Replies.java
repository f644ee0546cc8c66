package dev.cfn.core;

import java.time.Duration;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;

/**
 * The requests waiting for a reply, by correlation id, each with its deadline. A reply completes
 * its future on the replier's thread; a timeout on this class's deadline thread.
 *
 * <p>No lock is shared by all requests: opening a request is a put into a concurrent map and an
 * offer to a lock-free multi-producer queue of deadlines (JCTools), and a reply is one map removal
 * (nothing to cancel). One daemon thread owns a heap of deadlines: it moves new deadlines from the
 * queue into the heap, completes the expired requests still waiting (a {@code remove(id, future)}
 * decides between a late timeout and a reply, so exactly one wins) and parks until the earliest
 * deadline. A producer that finds it parked with nothing to wait for, or for longer than the new
 * deadline, unparks it: it sets {@code sleepingUntil} before re-checking the queue, the producer
 * offers before reading it, so one of them sees the other and no deadline waits for a later one.
 */
final class Replies {
  private static final long IDLE = Long.MAX_VALUE;

  private final ConcurrentHashMap<Long, CompletableFuture<Envelope>> pending =
      new ConcurrentHashMap<>();
  private final MpscUnboundedXaddArrayQueue<Deadline> incoming =
      new MpscUnboundedXaddArrayQueue<>(1024);
  private final Thread sweeper;
  private volatile long sleepingUntil; // nanoTime the sweeper parks until; IDLE: no deadline
  private volatile boolean running = true;

  /** One request's deadline. */
  private record Deadline(
      long at, long id, CompletableFuture<Envelope> future, AgentId to, Duration timeout) {}

  Replies(String name) {
    this.sweeper = new Thread(this::sweep, name + "-request-deadlines");
    sweeper.setDaemon(true);
    sweeper.start();
  }

  /** Opens request {@code id}; its future fails with a timeout after {@code timeout}. */
  CompletableFuture<Envelope> open(long id, AgentId to, Duration timeout) {
    CompletableFuture<Envelope> future = new CompletableFuture<>();
    pending.put(id, future);
    long at = System.nanoTime() + timeout.toNanos();
    incoming.offer(new Deadline(at, id, future, to, timeout));
    long until = sleepingUntil;
    if (until - at > 0 || until == IDLE) {
      LockSupport.unpark(sweeper);
    }
    return future;
  }

  private void sweep() {
    PriorityQueue<Deadline> heap = new PriorityQueue<>((a, b) -> Long.compare(a.at() - b.at(), 0));
    while (running) {
      for (Deadline d; (d = incoming.poll()) != null; ) {
        if (!d.future().isDone()) {
          heap.add(d);
        }
      }
      long now = System.nanoTime();
      for (Deadline d = heap.peek(); d != null && d.at() - now <= 0; d = heap.peek()) {
        heap.poll();
        if (pending.remove(d.id(), d.future())) {
          d.future()
              .completeExceptionally(
                  new TimeoutException(
                      (d.to() == null ? "no reply" : "no reply from " + d.to())
                          + " to request "
                          + d.id()
                          + " within "
                          + d.timeout()));
        }
      }
      Deadline next = heap.peek();
      sleepingUntil = next == null ? IDLE : next.at();
      if (!incoming.isEmpty()) {
        continue; // arrived while we looked: take it in before sleeping
      }
      if (next == null) {
        LockSupport.park(this);
      } else {
        LockSupport.parkNanos(this, next.at() - System.nanoTime());
      }
      sleepingUntil = System.nanoTime(); // awake: producers need not unpark
    }
  }

  /**
   * Waits for the reply to request {@code id} a second time, or from a caller that did not open it
   * (re-attaching after a restart, or after a duplicate idempotency key). When the request is still
   * waiting, the returned future follows its future (with a deadline of its own); otherwise it is a
   * new waiting request. {@code to} names the replier in the timeout message (null: unknown).
   */
  CompletableFuture<Envelope> attach(long id, AgentId to, Duration timeout) {
    CompletableFuture<Envelope> existing = pending.get(id);
    if (existing != null) {
      return existing
          .copy()
          .orTimeout(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }
    return open(id, to, timeout);
  }

  /** Removes and returns the future waiting for request {@code id}, or null; completes nothing. */
  CompletableFuture<Envelope> take(long id) {
    return pending.remove(id);
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

  /** Fails every waiting request (the runtime shut down) and stops the deadline thread. */
  void failAll() {
    running = false;
    LockSupport.unpark(sweeper);
    for (CompletableFuture<Envelope> f : pending.values()) {
      f.completeExceptionally(new IllegalStateException("the runtime shut down before a reply"));
    }
    pending.clear();
  }
}
