package dev.cfn.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.locks.LockSupport;

/**
 * Stage 5 of the message path: puts a routed message into its agent's mailbox lane and schedules
 * the agent on its dispatcher (stage 6). Counts the message as accepted first and re-reads the
 * runtime's state after (see {@link Admit} for why), and applies the agent type's overflow policy
 * when the lane is full: REJECT throws at once, DROP_OLDEST dead-letters the oldest message of the
 * lane, BLOCK waits for room up to the send deadline.
 */
final class Enqueue {
  private final Admit admit;
  private final Directory directory;
  private final DeadLetterSink deadLetters;
  private final Counter rejections;
  private final Counter dropped;

  Enqueue(Admit admit, Directory directory, DeadLetterSink deadLetters, MeterRegistry registry) {
    this.admit = admit;
    this.directory = directory;
    this.deadLetters = deadLetters;
    this.rejections = Counter.builder(CfnMetrics.MAILBOX_REJECTIONS).register(registry);
    this.dropped = Counter.builder(CfnMetrics.MAILBOX_DROPPED).register(registry);
  }

  /** Offers {@code e} to {@code cell}'s mailbox, applying its overflow policy. */
  void enqueue(AgentCell cell, Envelope e, boolean internal) {
    // Count before the state check and the offer: see Admit.
    admit.accepted.increment();
    if (!admit.admits(internal)) {
      admit.finishedElsewhere.increment();
      refuse(e, internal);
      return;
    }
    if (cell.isStopped()) {
      AgentCell again = directory.cellFor(cell.id);
      if (again != null) {
        cell = again;
      }
    }
    Mailbox mb = cell.mailbox();
    if (!mb.offer(e)) {
      overflow(cell, mb, e);
    }
    cell.schedule();
  }

  /** Offers a journaled message; false when the lane is full (the journal stage retries later). */
  boolean offerReliable(AgentCell cell, Envelope e) {
    admit.accepted.increment();
    if (admit.isTerminated()) {
      admit.finishedElsewhere.increment();
      return true; // stays in the journal for the next runtime
    }
    if (!cell.mailbox().offer(e)) {
      admit.finishedElsewhere.increment();
      return false;
    }
    cell.schedule();
    return true;
  }

  /** A send refused after shutdown began: thrown to a caller outside, dead-lettered inside. */
  void refuse(Envelope e, boolean internal) {
    if (!internal) {
      throw Admit.refusal();
    }
    deadLetters.add(e, DeadLetter.Reason.SHUTDOWN, "sent after the runtime shut down");
  }

  private void overflow(AgentCell cell, Mailbox mb, Envelope e) {
    AgentType spec = cell.type.spec;
    switch (spec.overflow()) {
      case REJECT -> reject(cell, mb, "the policy is REJECT");
      case DROP_OLDEST -> {
        do {
          Envelope old = mb.dropOldest(e.priority());
          if (old != null) {
            dropped.increment();
            deadLetters.queued(
                old, DeadLetter.Reason.DROPPED_OLDEST, "dropped to make room in " + cell.id);
          }
        } while (!mb.offer(e));
      }
      case BLOCK -> {
        long deadline = System.nanoTime() + spec.sendDeadline().toNanos();
        long pause = 1_000;
        int spins = 0;
        while (!mb.offer(e)) {
          cell.schedule();
          long left = deadline - System.nanoTime();
          if (left <= 0 || admit.isTerminated()) {
            reject(cell, mb, "waited " + spec.sendDeadline() + " for space");
          }
          if (spins++ < 100) {
            Thread.onSpinWait();
          } else {
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, 1_000_000);
          }
        }
      }
    }
  }

  private void reject(AgentCell cell, Mailbox mb, String detail) {
    admit.finishedElsewhere.increment();
    rejections.increment();
    throw new MailboxFullException(cell.id, mb.capacity(), detail);
  }
}
