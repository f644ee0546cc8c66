package dev.cfn.core;

import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a reply to a RELIABLE request goes once it is journaled (beside {@link JournalAppend},
 * which hands it here instead of to a mailbox). The reply was committed together with the
 * acknowledgement of its request (the replier's outbox), so it survives a crash; this class decides
 * who receives it:
 *
 * <ol>
 *   <li>a requester still waiting on its future in this runtime: the future completes and the reply
 *       is acknowledged in the journal (claimed);
 *   <li>else, for an agent requester (after a restart, or after its future timed out): {@link
 *       #offer} returns false and the reply goes to that agent's mailbox as a RELIABLE message,
 *       {@link Envelope#isReply()} true and its {@link Envelope#correlationId()} the request's id;
 *   <li>else, for a requester outside the runtime ({@link AgentRuntime#EXTERNAL}): the reply stays
 *       pending in the journal and is held here until a caller claims it with {@link #attach}
 *       ({@link AgentRuntime#awaitReply}, or a request sent again with the same idempotency key).
 * </ol>
 *
 * <p>A reply is claimed once: the first waiter receives it and it is acknowledged. The hand-over
 * between {@link #offer} and {@link #attach} takes one small lock, so a reply arriving while a
 * caller attaches is never missed by both.
 *
 * <p>A reply held for an external caller expires {@code retention} after it was made ({@link
 * Envelope#createdAt()}, which the journal keeps, so the deadline holds across restarts): it is
 * then acknowledged without being delivered, so it leaves both this map and the journal. One task
 * on the runtime's timer per held reply, cancelled (and removed) when the reply is claimed, so what
 * is held is bounded by the replies made within the retention and not yet claimed.
 */
final class ReliableReplies {
  private static final Logger log = LoggerFactory.getLogger(ReliableReplies.class);

  private final Replies replies;
  private final Journal journal;
  private final ReliableLedger ledger;
  private final ScheduledExecutorService timer;
  private final Duration retention;
  private final Object handoff = new Object();
  // Replies for EXTERNAL that no future waited for, by request id; guarded by handoff.
  private final Map<Long, Held> unclaimed = new HashMap<>();

  /** A reply held for an external caller, and the task that expires it (null: none scheduled). */
  private record Held(Envelope reply, ScheduledFuture<?> expiry) {}

  ReliableReplies(
      Replies replies,
      Journal journal,
      ReliableLedger ledger,
      ScheduledExecutorService timer,
      Duration retention) {
    this.replies = replies;
    this.journal = journal;
    this.ledger = ledger;
    this.timer = timer;
    this.retention = retention;
  }

  /**
   * Takes the journaled reply {@code reply}: true when it completed a waiting future or is held for
   * an external caller; false when it must be delivered to the requesting agent.
   */
  boolean offer(Envelope reply) {
    CompletableFuture<Envelope> waiting;
    synchronized (handoff) {
      waiting = replies.take(reply.correlationId());
      if (waiting == null) {
        if (!reply.recipient().equals(AgentRuntime.EXTERNAL)) {
          return false;
        }
        Held previous = unclaimed.put(reply.correlationId(), new Held(reply, expiry(reply)));
        if (previous != null && previous.expiry() != null) {
          previous.expiry().cancel(false); // the same reply delivered again
        }
        ledger.pending.remove(reply.id());
        log.debug("reply {} to request {} waits to be claimed", reply.id(), reply.correlationId());
        return true;
      }
    }
    waiting.complete(reply);
    claimed(reply);
    return true;
  }

  /**
   * The reply to RELIABLE request {@code requestId}: at once if it is held here, else when it
   * arrives; fails with a {@link java.util.concurrent.TimeoutException} after {@code timeout}.
   */
  CompletableFuture<Envelope> attach(long requestId, AgentId to, Duration timeout) {
    CompletableFuture<Envelope> future;
    Envelope held;
    synchronized (handoff) {
      future = replies.attach(requestId, to, timeout);
      Held h = unclaimed.remove(requestId);
      held = h == null ? null : h.reply();
      if (h != null && h.expiry() != null) {
        h.expiry().cancel(false);
      }
    }
    if (held != null) {
      CompletableFuture<Envelope> waiting = replies.take(requestId);
      if (waiting != null) {
        waiting.complete(held);
      }
      claimed(held);
    }
    return future;
  }

  /**
   * Fails the future waiting for request {@code requestId}, if any: its append failed, so it was
   * never stored and no reply will come.
   */
  void failRequest(long requestId, Throwable cause) {
    replies.fail(requestId, cause);
  }

  /** Replies held for an external caller, not yet claimed. */
  int unclaimedCount() {
    synchronized (handoff) {
      return unclaimed.size();
    }
  }

  /**
   * Schedules the expiry of {@code reply}, held for an external caller, at its creation plus the
   * retention (at once when that passed already, as for a reply recovered after a long stop).
   * Called under {@code handoff}; null when the timer has stopped (the runtime is shutting down:
   * the reply stays pending in the journal and the next runtime on it expires it).
   */
  private ScheduledFuture<?> expiry(Envelope reply) {
    long delayMillis =
        Math.max(0, Duration.between(Instant.now(), reply.createdAt().plus(retention)).toMillis());
    try {
      return timer.schedule(() -> expire(reply), delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopped) {
      return null;
    }
  }

  /** {@code reply} was not claimed within the retention: it is acknowledged, no longer held. */
  private void expire(Envelope reply) {
    synchronized (handoff) {
      Held h = unclaimed.get(reply.correlationId());
      if (h == null || h.reply() != reply) {
        return; // claimed meanwhile
      }
      unclaimed.remove(reply.correlationId());
    }
    log.info(
        "reply {} to request {} from outside the runtime was not claimed within {}: it expires"
            + " (acknowledged in the journal without being delivered)",
        reply.id(),
        reply.correlationId(),
        retention);
    claimed(reply);
  }

  /**
   * A reply was handed to its requester, or expired: acknowledge it, so it is not delivered again.
   * Nothing waits for this acknowledgement, so the journal may fold it into a later transaction
   * ({@link Journal#acknowledgeLazily}).
   */
  private void claimed(Envelope reply) {
    journal
        .acknowledgeLazily(reply)
        .whenComplete(
            (applied, error) -> {
              if (error != null) {
                log.warn(
                    "acknowledging reply {} failed ({}); it stays pending and is delivered again"
                        + " after a restart",
                    reply.id(),
                    error.toString());
                return;
              }
              ledger.pending.remove(reply.id());
              if (Boolean.TRUE.equals(applied)) {
                ledger.acknowledged.incrementAndGet();
              }
            });
  }
}
