package dev.cfn.core;

import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 4 of the message path, for RELIABLE messages only: journal the message (durable before the
 * send returns), then hand it to the enqueue stage. It also (re)delivers what is already journaled:
 * everything unacknowledged when a runtime opens the journal, retries scheduled by the acknowledge
 * stage, a full mailbox tried again later, replayed dead letters, and messages for an agent type
 * that is not registered yet (parked here until it is).
 */
final class JournalAppend {
  private static final Logger log = LoggerFactory.getLogger(JournalAppend.class);

  private final Journal journal;
  private final ReliableLedger ledger;
  private final Directory directory;
  private final Enqueue enqueue;
  private final Admit admit;
  private final RetryPolicy retry;
  private final ScheduledThreadPoolExecutor timer;
  private final Executor appends;
  private final ReliableReplies replies;
  // Recovered or sent messages whose agent type is not registered yet, by type.
  private final ConcurrentHashMap<String, List<Envelope>> parked = new ConcurrentHashMap<>();
  // Messages delivered while their append is still queued (appendQueuedThenAwait), by id, until
  // the append is durable; one whose append failed stays until afterAppend drops it.
  private final ConcurrentHashMap<Long, CompletableFuture<Void>> queued = new ConcurrentHashMap<>();
  // Outside senders' keyless messages are delivered while their appends are queued (true), or once
  // durable (false, the default); see AgentRuntime.Builder.earlyDelivery.
  private final boolean earlyDelivery;

  JournalAppend(
      Journal journal,
      ReliableLedger ledger,
      Directory directory,
      Enqueue enqueue,
      Admit admit,
      RetryPolicy retry,
      ScheduledThreadPoolExecutor timer,
      Executor appends,
      ReliableReplies replies,
      boolean earlyDelivery) {
    this.earlyDelivery = earlyDelivery;
    this.appends = appends;
    this.replies = replies;
    this.journal = journal;
    this.ledger = ledger;
    this.directory = directory;
    this.enqueue = enqueue;
    this.admit = admit;
    this.retry = retry;
    this.timer = timer;
  }

  Journal journal() {
    return journal;
  }

  /**
   * Journals {@code e}, then delivers it, and returns the id it is stored under: its own, or, for a
   * message whose idempotency key was already stored, the first message's (then nothing is appended
   * or delivered). From a caller's thread (or a blocking agent's virtual thread) a send's append is
   * durable when this returns, and a request without a key returns at once, its future failing if
   * the append fails (see {@link #appendQueuedThenDeliver}); either is delivered once durable, or,
   * with {@code earlyDelivery}, a message without a key as soon as its append is queued, so its
   * handler runs during the fsync (see {@link #appendQueuedThenAwait}). From a handler on a carrier
   * the carrier does not wait for the fsync: the append runs on a virtual thread of {@code appends}
   * as a deferred send of the handler's agent ({@link AgentCell#defer}), which is suspended after
   * its handler until the append is durable (and its own RELIABLE message is acknowledged only
   * then); a failed append goes to the agent's supervision and fails that RELIABLE message for a
   * retry. That deferred append cannot tell the handler about a duplicate key: it returns {@code
   * e}'s own id, and a duplicate is dropped when the append finds it.
   */
  long append(Envelope e) {
    if (e.recipient() == null) {
      throw new IllegalArgumentException(
          "RELIABLE delivery applies to point-to-point sends; publish topics BEST_EFFORT or send"
              + " RELIABLE to each recipient");
    }
    boolean keyed = e.headers().containsKey(Envelope.IDEMPOTENCY_KEY_HEADER);
    AgentCell sender = AgentCell.runningOnCarrier();
    ledger.pending.add(e.id());
    if (sender == null && !keyed && e.isRequest()) {
      appendQueuedThenDeliver(e);
      return e.id();
    }
    if (sender == null && !keyed && earlyDelivery) {
      appendQueuedThenAwait(e);
      return e.id();
    }
    if (sender == null) {
      long stored;
      try {
        stored = journal.appendOnce(e);
      } catch (RuntimeException failed) {
        ledger.pending.remove(e.id());
        throw failed;
      }
      if (stored != e.id()) {
        duplicate(e, stored);
        return stored;
      }
      deliver(e);
      return stored;
    }
    admit.accepted.increment(); // the drain waits for the append, counted finished below
    sender.defer(
        () ->
            CompletableFuture.supplyAsync(
                    () -> keyed ? journal.appendOnce(e) : appendPlain(e), appends)
                .whenComplete(
                    (stored, t) -> {
                      try {
                        if (t != null) {
                          ledger.pending.remove(e.id());
                        } else if (stored != e.id()) {
                          duplicate(e, stored);
                        } else {
                          deliver(e); // counted accepted by the mailbox...
                        }
                      } finally {
                        // ...before the append counts as finished: a drain never sees the two
                        // counts equal while the message is between the journal and its mailbox
                        admit.finishedElsewhere.increment();
                      }
                    })
                .thenApply(stored -> (Void) null));
    return e.id();
  }

  /**
   * An outside caller's RELIABLE request without a key: queued to the journal, and the caller does
   * not wait for the fsync, since all it holds is the future of the reply, which completes only
   * once the reply committed (after the request's append, with its acknowledgement) or fails with
   * the journal's error when the append failed. The request is delivered once durable (or, with
   * {@link AgentRuntime.Builder#earlyDelivery}, at once, as {@link #appendQueuedThenAwait} does).
   * While it is between the journal and its mailbox it counts as accepted, so a drain waits for it.
   */
  private void appendQueuedThenDeliver(Envelope e) {
    CompletableFuture<Void> stored;
    admit.accepted.increment(); // counted finished below, once the message is in its mailbox
    try {
      stored = journal.appendQueued(e);
    } catch (RuntimeException failed) {
      ledger.pending.remove(e.id());
      admit.finishedElsewhere.increment();
      throw failed;
    }
    if (earlyDelivery && !stored.isDone()) {
      queued.put(e.id(), stored);
      try {
        deliver(e);
      } finally {
        admit.finishedElsewhere.increment();
      }
      stored.whenComplete(
          (ok, t) -> {
            if (t == null) {
              queued.remove(e.id());
            } else {
              // the handler's acknowledgement is refused and afterAppend drops the message
              ledger.pending.remove(e.id());
              replies.failRequest(e.id(), cause(t));
            }
          });
      return;
    }
    stored.whenComplete(
        (ok, t) -> {
          try {
            if (t == null) {
              deliver(e);
            } else {
              ledger.pending.remove(e.id());
              replies.failRequest(e.id(), cause(t));
            }
          } finally {
            admit.finishedElsewhere.increment();
          }
        });
  }

  private static Throwable cause(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause()
        : t;
  }

  /**
   * An outside sender's message without a key, with {@link AgentRuntime.Builder#earlyDelivery}:
   * queued to the journal and delivered at once, so that its handler runs while the append is on
   * its way to disk; the caller waits for the append to be durable. The journal commits the
   * message's acknowledgement with or after its append and refuses it when the append failed
   * ({@link Journal#appendQueued}); a failure or a retry of the message waits for the append
   * ({@link #afterAppend}), and a message whose append failed is dropped there (its send threw:
   * nothing of it is acknowledged or kept).
   */
  private void appendQueuedThenAwait(Envelope e) {
    CompletableFuture<Void> stored;
    try {
      stored = journal.appendQueued(e);
    } catch (RuntimeException failed) {
      ledger.pending.remove(e.id());
      throw failed;
    }
    if (!stored.isDone()) {
      queued.put(e.id(), stored);
      stored.whenComplete(
          (ok, t) -> {
            if (t == null) {
              queued.remove(e.id()); // durable: nothing needs to wait for it any more
            }
          });
    }
    boolean delivered = !stored.isCompletedExceptionally();
    if (delivered) {
      deliver(e);
    }
    try {
      stored.join();
    } catch (java.util.concurrent.CompletionException failed) {
      if (!delivered) {
        queued.remove(e.id()); // nothing handles it, so nothing would drop it
      }
      ledger.pending.remove(e.id());
      if (failed.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw failed;
    }
  }

  /**
   * Runs {@code action} once {@code m} is durable in the journal: at once, unless {@code m} was
   * delivered while its append was still queued ({@link #appendQueuedThenAwait}); then after the
   * append, or never when it failed: {@code m} was not stored and its sender was told so, so it is
   * dropped (nothing of it is retried, acknowledged or dead-lettered).
   */
  void afterAppend(Envelope m, Runnable action) {
    CompletableFuture<Void> stored = queued.get(m.id());
    if (stored == null) {
      action.run();
      return;
    }
    stored.whenComplete(
        (ok, t) -> {
          if (t == null) {
            action.run();
            return;
          }
          queued.remove(m.id());
          ledger.pending.remove(m.id());
          ledger.attempts.remove(m.id());
          ledger.handled.remove(m.id());
          log.debug(
              "reliable message {} was handled while its append was queued, and the append"
                  + " failed: it is dropped (its sender was told it was not stored)",
              m.id());
        });
  }

  private long appendPlain(Envelope e) {
    journal.append(e);
    return e.id();
  }

  private void duplicate(Envelope e, long first) {
    ledger.pending.remove(e.id());
    log.debug(
        "reliable message {} not stored: its idempotency key was stored with message {}",
        e.id(),
        first);
  }

  /** The replies to RELIABLE requests (see {@link ReliableReplies}). */
  ReliableReplies replies() {
    return replies;
  }

  /** Re-reads the journal and redelivers every pending message; returns the count. */
  long recover() {
    long t0 = System.nanoTime();
    List<Journal.JournalEntry> entries = journal.recover();
    for (Journal.JournalEntry entry : entries) {
      Envelope e = entry.envelope();
      ledger.recovered.add(e.id());
      ledger.pending.add(e.id());
      if (entry.attempts() > 0) {
        ledger.attempts.put(e.id(), entry.attempts());
      }
      deliver(e);
    }
    ledger.recoverySeconds = (System.nanoTime() - t0) / 1e9;
    ledger.recoveredCount = entries.size();
    log.info(
        "recovered {} unacknowledged reliable messages from the journal in {} ms",
        entries.size(),
        String.format(Locale.ROOT, "%.1f", ledger.recoverySeconds * 1000));
    return entries.size();
  }

  /**
   * Offers a journaled message to its recipient, or parks it until its type is registered. A reply
   * to a RELIABLE request goes to {@link ReliableReplies} first, which completes a waiting future
   * or holds it for an external caller; only a reply to an agent that nothing waits for goes on to
   * the agent's mailbox.
   */
  void deliver(Envelope e) {
    if (e.isReply() && replies.offer(e)) {
      return;
    }
    AgentCell cell = directory.cellFor(e.recipient());
    if (cell == null) {
      if (!admit.isTerminated()) {
        String type = e.recipient().type();
        parked.computeIfAbsent(type, k -> Collections.synchronizedList(new ArrayList<>())).add(e);
        log.warn(
            "reliable message {} is for agent type '{}', which is not registered; it stays in"
                + " the journal and is delivered once the type is registered",
            e.id(),
            type);
        if (directory.isRegistered(type)) {
          typeRegistered(type); // registered while we parked it
        }
      }
      return;
    }
    if (!enqueue.offerReliable(cell, e)) {
      requeueLater(e);
    }
  }

  /** Moves dead letter {@code id} back to pending and delivers it; false if there is none. */
  boolean replay(long id) {
    return journal
        .replayDeadLetter(id)
        .map(
            e -> {
              ledger.attempts.remove(e.id());
              ledger.pending.add(e.id());
              ledger.handled.add(e.id()); // it was handled before: not a first delivery
              deliver(e);
              return true;
            })
        .orElse(false);
  }

  /** Delivers the messages parked for {@code type}, now that it is registered. */
  void typeRegistered(String type) {
    List<Envelope> waiting = parked.remove(type);
    if (waiting != null) {
      synchronized (waiting) {
        waiting.forEach(this::deliver);
      }
    }
  }

  /** Tries again after the first retry delay (a full mailbox, a stopped agent). */
  void requeueLater(Envelope e) {
    redeliver(e, retry.delay(1));
  }

  /** Delivers {@code e} again after {@code delay}, unless the runtime has terminated. */
  void redeliver(Envelope e, Duration delay) {
    if (admit.isTerminated()) {
      return; // stays in the journal; the next runtime on it redelivers
    }
    try {
      timer.schedule(
          () -> {
            ledger.redeliveries.incrementAndGet();
            deliver(e);
          },
          delay.toNanos(),
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException shuttingDown) {
      // the timer stopped: the message stays in the journal
    }
  }

  /** A reliable message still queued at a shutdown deadline: it stays pending in the journal. */
  void leftInJournal(Envelope m) {
    admit.finishedElsewhere.increment();
  }

  long recoveredCount() {
    return ledger.recoveredCount;
  }

  Map<String, Integer> parkedCounts() {
    Map<String, Integer> m = new TreeMap<>();
    parked.forEach((k, v) -> m.put(k, v.size()));
    return m;
  }
}
