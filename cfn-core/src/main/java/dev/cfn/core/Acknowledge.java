package dev.cfn.core;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 8 of the message path, for RELIABLE messages: once the handler returned, acknowledge the
 * message together with its effects in one journal transaction, then send its outbox; if it threw,
 * record the failure and redeliver with backoff, or dead-letter it after the last attempt. (A
 * BEST_EFFORT message is acknowledged by counting it delivered, in {@link Invoke}.)
 *
 * <p>Acknowledgements are asynchronous: the carrier goes on with the next message while the
 * journal's group commit makes the acknowledgement durable. Until then the message is still
 * pending, so a crash redelivers it and, since its effects were not committed either, they are
 * applied once when it is handled again.
 */
final class Acknowledge {
  private static final Logger log = LoggerFactory.getLogger(Acknowledge.class);

  private final Journal journal;
  private final ReliableLedger ledger;
  private final JournalAppend redelivery;
  private final DeadLetterSink deadLetters;
  private final RetryPolicy retry;

  Acknowledge(
      Journal journal,
      ReliableLedger ledger,
      JournalAppend redelivery,
      DeadLetterSink deadLetters,
      RetryPolicy retry) {
    this.journal = journal;
    this.ledger = ledger;
    this.redelivery = redelivery;
    this.deadLetters = deadLetters;
    this.retry = retry;
  }

  Journal journal() {
    return journal;
  }

  /** False when {@code m} was already acknowledged (a recovered duplicate): skip its handler. */
  boolean shouldHandle(Envelope m) {
    if (ledger.recovered.remove(m.id()) && journal.isAcknowledged(m.id())) {
      log.debug("skipping reliable message {}: already acknowledged", m.id());
      ledger.pending.remove(m.id());
      ledger.handled.remove(m.id());
      return false;
    }
    return true;
  }

  /**
   * True when {@code m}'s handler is about to run for the first time: the message was sent in this
   * process (not recovered from the journal, not a replayed dead letter) and no handler of it ran
   * before (no failed attempt, no acknowledgement that failed, no failed batch). Call it once per
   * handling, before {@link #shouldHandle}; see {@link Effects#firstDelivery()}.
   */
  boolean firstHandling(Envelope m) {
    boolean fresh = ledger.handled.add(m.id());
    return fresh && !ledger.recovered.contains(m.id()) && !ledger.attempts.containsKey(m.id());
  }

  /**
   * The handler succeeded: acknowledge with its effects, then send its outbox; {@code committed}
   * (may be null) runs once the acknowledgement has settled, either way. When nothing was applied
   * (the commit failed, or the message had been acknowledged before) the effects are {@linkplain
   * EffectsBuffer#discarded() discarded} first.
   */
  void succeeded(Envelope m, EffectsBuffer fx, Runnable committed) {
    List<Effect> effects = fx.effects();
    journal
        .acknowledge(m, effects)
        .whenComplete(
            (applied, error) -> {
              try {
                if (error != null || !Boolean.TRUE.equals(applied)) {
                  fx.discarded();
                }
                settle(m, effects, applied, error);
              } finally {
                if (committed != null) {
                  committed.run();
                }
              }
            });
  }

  /**
   * The handlers of {@code messages} (a batch of one agent's turn, see {@link
   * AgentType.Builder#reliableBatch}) succeeded: acknowledge them all with {@code effects} in one
   * transaction, then send the outbox and run {@code committed}. When that fails nothing was
   * acknowledged and every message is still pending: {@code failed} gets them (to handle again one
   * at a time, which also skips one that had been acknowledged before), and then {@code committed}
   * runs.
   */
  void succeededTogether(
      List<Envelope> messages,
      EffectsBuffer fx,
      java.util.function.Consumer<List<Envelope>> failed,
      Runnable committed) {
    if (messages.size() == 1) {
      succeeded(messages.getFirst(), fx, committed);
      return;
    }
    List<Effect> effects = fx.effects();
    CompletableFuture<Boolean> ack;
    try {
      ack = journal.acknowledgeTogether(messages, effects);
    } catch (RuntimeException e) {
      ack = CompletableFuture.failedFuture(e);
    }
    ack.whenComplete(
        (applied, error) -> {
          try {
            if (error != null || !Boolean.TRUE.equals(applied)) {
              log.debug(
                  "acknowledging {} reliable messages together failed ({}); they are handled"
                      + " again one at a time",
                  messages.size(),
                  error == null ? "not applied" : error.toString());
              fx.discarded();
              failed.accept(messages);
              return;
            }
            ledger.acknowledged.addAndGet(messages.size());
            for (Envelope m : messages) {
              ledger.attempts.remove(m.id());
              ledger.handled.remove(m.id());
            }
            for (Effect effect : effects) {
              if (effect instanceof Effect.Send send) {
                ledger.pending.add(send.envelope().id()); // before the messages leave
              }
            }
            for (Envelope m : messages) {
              ledger.pending.remove(m.id());
            }
            for (Effect effect : effects) {
              if (effect instanceof Effect.Send send) {
                redelivery.deliver(send.envelope());
              }
            }
          } finally {
            committed.run();
          }
        });
  }

  private void settle(Envelope m, List<Effect> effects, Boolean applied, Throwable error) {
    if (error != null) {
      // A message handled while its append was queued, whose append failed, is refused here and
      // dropped by afterAppend: it was never stored.
      redelivery.afterAppend(
          m,
          () -> {
            log.warn(
                "acknowledging reliable message {} failed ({}); it stays pending and is"
                    + " redelivered",
                m.id(),
                error.toString());
            redelivery.requeueLater(m);
          });
      return;
    }
    ledger.attempts.remove(m.id());
    ledger.handled.remove(m.id());
    if (Boolean.TRUE.equals(applied)) {
      ledger.acknowledged.incrementAndGet();
      for (Effect effect : effects) {
        if (effect instanceof Effect.Send send) {
          ledger.pending.add(send.envelope().id()); // before m leaves: the count never dips
        }
      }
      ledger.pending.remove(m.id());
      for (Effect effect : effects) {
        if (effect instanceof Effect.Send send) {
          redelivery.deliver(send.envelope());
        }
      }
    } else {
      ledger.pending.remove(m.id());
    }
  }

  /**
   * The handler threw: retry with backoff, or dead-letter after the last attempt (once the message
   * is durable, see {@link JournalAppend#afterAppend}).
   */
  void failed(Envelope m, Throwable cause) {
    redelivery.afterAppend(m, () -> failedStored(m, cause));
  }

  private void failedStored(Envelope m, Throwable cause) {
    int n = ledger.attempts.merge(m.id(), 1, Integer::sum);
    String error = cause.toString();
    if (n >= retry.maxAttempts()) {
      ledger.attempts.remove(m.id());
      journal
          .deadLetter(m, n, error)
          .whenComplete(
              (ok, x) -> {
                if (x != null) {
                  log.warn("dead-lettering reliable message {} failed: {}", m.id(), x.toString());
                  redelivery.requeueLater(m);
                  return;
                }
                ledger.pending.remove(m.id());
                ledger.handled.remove(m.id());
                // Logged once durable, so a dead letter seen here can be replayed at once.
                deadLetters.add(
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
              redelivery.redeliver(m, delay);
            });
  }
}
