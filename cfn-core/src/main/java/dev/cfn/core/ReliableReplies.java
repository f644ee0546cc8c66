package dev.cfn.core;

import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
 */
final class ReliableReplies {
  private static final Logger log = LoggerFactory.getLogger(ReliableReplies.class);

  private final Replies replies;
  private final Journal journal;
  private final ReliableLedger ledger;
  private final Object handoff = new Object();
  // Replies for EXTERNAL that no future waited for, by request id; guarded by handoff.
  private final Map<Long, Envelope> unclaimed = new HashMap<>();

  ReliableReplies(Replies replies, Journal journal, ReliableLedger ledger) {
    this.replies = replies;
    this.journal = journal;
    this.ledger = ledger;
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
        unclaimed.put(reply.correlationId(), reply);
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
      held = unclaimed.remove(requestId);
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

  /** Replies held for an external caller, not yet claimed. */
  int unclaimedCount() {
    synchronized (handoff) {
      return unclaimed.size();
    }
  }

  /** A reply was handed to its requester: acknowledge it, so it is not delivered again. */
  private void claimed(Envelope reply) {
    journal
        .acknowledge(reply, List.of())
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
