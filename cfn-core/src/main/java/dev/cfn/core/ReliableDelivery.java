package dev.cfn.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RELIABLE stage of the message path: journal before accepting, acknowledge after the handler
 * succeeds (with its effects, in one transaction), redeliver failures with backoff and jitter,
 * dead-letter after the last attempt, and redeliver everything unacknowledged when a runtime opens
 * the journal.
 *
 * <p>Acknowledgements are asynchronous: the carrier goes on with the next message while the
 * journal's group commit makes the acknowledgement durable. Until then the message is still
 * pending, so a crash redelivers it and, since its effects were not committed either, they are
 * applied once when it is handled again.
 */
final class ReliableDelivery {
  private static final Logger log = LoggerFactory.getLogger(ReliableDelivery.class);

  private final AgentRuntime runtime;
  private final Journal journal;
  private final RetryPolicy retry;
  private final ConcurrentHashMap<Long, Integer> attempts = new ConcurrentHashMap<>();
  // Recovered messages are checked against the acknowledged ids before their handler runs.
  private final Set<Long> recovered = ConcurrentHashMap.newKeySet();
  // Recovered messages whose agent type is not registered yet, by type.
  private final ConcurrentHashMap<String, List<Envelope>> parked = new ConcurrentHashMap<>();
  final AtomicLong acknowledged = new AtomicLong();
  final AtomicLong redeliveries = new AtomicLong();
  volatile double recoverySeconds = Double.NaN;
  volatile long recoveredCount;

  ReliableDelivery(AgentRuntime runtime, Journal journal, RetryPolicy retry) {
    this.runtime = runtime;
    this.journal = journal;
    this.retry = retry;
  }

  /** Re-reads the journal and redelivers every pending message; returns the count. */
  long recover() {
    long t0 = System.nanoTime();
    List<Journal.JournalEntry> entries = journal.recover();
    for (Journal.JournalEntry entry : entries) {
      Envelope e = entry.envelope();
      recovered.add(e.id());
      if (entry.attempts() > 0) {
        attempts.put(e.id(), entry.attempts());
      }
      deliver(e);
    }
    recoverySeconds = (System.nanoTime() - t0) / 1e9;
    recoveredCount = entries.size();
    log.info(
        "recovered {} unacknowledged reliable messages from the journal in {} ms",
        entries.size(),
        String.format(java.util.Locale.ROOT, "%.1f", recoverySeconds * 1000));
    return entries.size();
  }

  /** Journals {@code e} (durable on return), then delivers it. */
  void send(Envelope e) {
    if (e.recipient() == null) {
      throw new IllegalArgumentException(
          "RELIABLE delivery applies to point-to-point sends; publish topics BEST_EFFORT or send"
              + " RELIABLE to each recipient");
    }
    journal.append(e);
    deliver(e);
  }

  /** Offers a journaled message to its recipient, or parks it until its type is registered. */
  void deliver(Envelope e) {
    AgentCell cell = runtime.cellFor(e.recipient());
    if (cell == null) {
      if (!runtime.isTerminated()) {
        String type = e.recipient().type();
        parked
            .computeIfAbsent(type, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
            .add(e);
        log.warn(
            "reliable message {} is for agent type '{}', which is not registered; it stays in"
                + " the journal and is delivered once the type is registered",
            e.id(),
            type);
        if (runtime.isRegistered(type)) {
          typeRegistered(type); // registered while we parked it
        }
      }
      return;
    }
    if (!runtime.offerReliable(cell, e)) {
      requeueLater(e);
    }
  }

  /** Moves dead letter {@code id} back to pending and delivers it; false if there is none. */
  boolean replay(long id) {
    return journal
        .replayDeadLetter(id)
        .map(
            e -> {
              attempts.remove(e.id());
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
    schedule(e, retry.delay(1));
  }

  private void schedule(Envelope e, Duration delay) {
    if (runtime.isTerminated()) {
      return; // stays in the journal; the next runtime on it redelivers
    }
    try {
      runtime
          .timer()
          .schedule(
              () -> {
                redeliveries.incrementAndGet();
                deliver(e);
              },
              delay.toNanos(),
              TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
      // the timer stopped: the message stays in the journal
    }
  }

  /** False when {@code m} was already acknowledged (a recovered duplicate): skip its handler. */
  boolean shouldHandle(Envelope m) {
    if (recovered.remove(m.id()) && journal.isAcknowledged(m.id())) {
      log.debug("skipping reliable message {}: already acknowledged", m.id());
      return false;
    }
    return true;
  }

  /**
   * The handler succeeded: acknowledge with its effects, then send its outbox; {@code committed}
   * (may be null) runs once the acknowledgement has settled, either way.
   */
  void succeeded(Envelope m, List<Effect> effects, Runnable committed) {
    journal
        .acknowledge(m, effects)
        .whenComplete(
            (applied, error) -> {
              try {
                settle(m, effects, applied, error);
              } finally {
                if (committed != null) {
                  committed.run();
                }
              }
            });
  }

  private void settle(Envelope m, List<Effect> effects, Boolean applied, Throwable error) {
    if (error != null) {
      log.warn(
          "acknowledging reliable message {} failed ({}); it stays pending and is" + " redelivered",
          m.id(),
          error.toString());
      requeueLater(m);
      return;
    }
    attempts.remove(m.id());
    if (Boolean.TRUE.equals(applied)) {
      acknowledged.incrementAndGet();
      for (Effect effect : effects) {
        if (effect instanceof Effect.Send send) {
          deliver(send.envelope());
        }
      }
    }
  }

  /** The handler threw: retry with backoff, or dead-letter after the last attempt. */
  void failed(Envelope m, Throwable cause) {
    int n = attempts.merge(m.id(), 1, Integer::sum);
    String error = cause.toString();
    if (n >= retry.maxAttempts()) {
      attempts.remove(m.id());
      journal
          .deadLetter(m, n, error)
          .whenComplete(
              (ok, x) -> {
                if (x != null) {
                  log.warn("dead-lettering reliable message {} failed: {}", m.id(), x.toString());
                  requeueLater(m);
                  return;
                }
                // Logged once durable, so a dead letter seen here can be replayed at once.
                runtime.deadLetter(
                    m,
                    DeadLetter.Reason.HANDLER_FAILED,
                    "gave up after " + n + " attempts: " + error);
              });
      return;
    }
    Duration delay = retry.delay(n);
    journal
        .recordFailure(m, n, error)
        .whenComplete(
            (ok, x) -> {
              if (x != null) {
                log.warn("recording a failure of message {} failed: {}", m.id(), x.toString());
              }
              schedule(m, delay);
            });
  }

  /** A reliable message still queued at a shutdown deadline: it stays pending in the journal. */
  void leftInJournal(Envelope m) {
    runtime.finishedWithoutHandler();
  }

  int attemptsOf(long id) {
    return attempts.getOrDefault(id, 0);
  }

  Journal journal() {
    return journal;
  }

  Map<String, Integer> parkedCounts() {
    Map<String, Integer> m = new java.util.TreeMap<>();
    parked.forEach((k, v) -> m.put(k, v.size()));
    return m;
  }
}
