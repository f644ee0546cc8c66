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
  // Recovered or sent messages whose agent type is not registered yet, by type.
  private final ConcurrentHashMap<String, List<Envelope>> parked = new ConcurrentHashMap<>();

  JournalAppend(
      Journal journal,
      ReliableLedger ledger,
      Directory directory,
      Enqueue enqueue,
      Admit admit,
      RetryPolicy retry,
      ScheduledThreadPoolExecutor timer,
      Executor appends) {
    this.appends = appends;
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
   * Journals {@code e}, then delivers it. From a caller's thread (or a blocking agent's virtual
   * thread) the append is durable when this returns. From a handler on a carrier the carrier does
   * not wait for the fsync: the append runs on a virtual thread of {@code appends} as a deferred
   * send of the handler's agent ({@link AgentCell#defer}), which is suspended after its handler
   * until the append is durable (and its own RELIABLE message is acknowledged only then); a failed
   * append goes to the agent's supervision and fails that RELIABLE message for a retry.
   */
  void append(Envelope e) {
    if (e.recipient() == null) {
      throw new IllegalArgumentException(
          "RELIABLE delivery applies to point-to-point sends; publish topics BEST_EFFORT or send"
              + " RELIABLE to each recipient");
    }
    AgentCell sender = AgentCell.runningOnCarrier();
    if (sender == null) {
      journal.append(e);
      deliver(e);
      return;
    }
    admit.accepted.increment(); // the drain waits for the append, counted finished below
    sender.defer(
        () ->
            CompletableFuture.runAsync(() -> journal.append(e), appends)
                .whenComplete((x, t) -> admit.finishedElsewhere.increment())
                .thenRun(() -> deliver(e)));
  }

  /** Re-reads the journal and redelivers every pending message; returns the count. */
  long recover() {
    long t0 = System.nanoTime();
    List<Journal.JournalEntry> entries = journal.recover();
    for (Journal.JournalEntry entry : entries) {
      Envelope e = entry.envelope();
      ledger.recovered.add(e.id());
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

  /** Offers a journaled message to its recipient, or parks it until its type is registered. */
  void deliver(Envelope e) {
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
