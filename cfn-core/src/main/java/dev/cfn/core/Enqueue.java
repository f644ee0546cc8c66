package dev.cfn.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Stage 5 of the message path: puts a routed message into its agent's mailbox lane and schedules
 * the agent on its dispatcher (stage 6). Counts the message as accepted first and re-reads the
 * runtime's state after (see {@link Admit} for why), and applies the agent type's overflow policy
 * when the lane is full: REJECT throws at once, DROP_OLDEST dead-letters the oldest message of the
 * lane, BLOCK waits for room up to the send deadline.
 *
 * <p>BLOCK never parks a carrier: a send from a handler on a carrier that meets a full lane is
 * deferred ({@link AgentCell#defer}); it waits as a {@link RoomWait} registered with the recipient,
 * which retries after each of the recipient's turns, while the sending agent is suspended after its
 * handler returns and the carrier runs other agents. A later send of the same handler queues behind
 * it, so the sender's messages keep their order. Past the send deadline the message is rejected and
 * the {@link MailboxFullException} goes to the sender's supervision. A sender outside the carriers
 * (a caller's thread, a blocking agent's virtual thread) waits for room itself, as before.
 */
final class Enqueue {
  private final Admit admit;
  private final Directory directory;
  private final DeadLetterSink deadLetters;
  private final Counter rejections;
  private final Counter dropped;
  private final ScheduledThreadPoolExecutor timer;
  private final Carrier[] carriers;

  Enqueue(
      Carrier[] carriers,
      Admit admit,
      Directory directory,
      DeadLetterSink deadLetters,
      ScheduledThreadPoolExecutor timer,
      MeterRegistry registry) {
    this.carriers = carriers;
    this.admit = admit;
    this.timer = timer;
    this.directory = directory;
    this.deadLetters = deadLetters;
    this.rejections = Counter.builder(CfnMetrics.MAILBOX_REJECTIONS).register(registry);
    this.dropped = Counter.builder(CfnMetrics.MAILBOX_DROPPED).register(registry);
  }

  /** Offers {@code e} to {@code cell}'s mailbox, applying its overflow policy. */
  void enqueue(AgentCell cell, Envelope e, boolean internal) {
    // Count before the state check and the offer: see Admit. A handler on one of this runtime's
    // carriers counts on its carrier, without an atomic read-modify-write (the ordering argument is
    // at Carrier.countAccepted); any other thread counts in the shared adder.
    Carrier.CarrierThread ct = Carrier.current(carriers);
    if (ct != null) {
      Carrier.countAccepted(ct);
    } else {
      admit.accepted.increment();
    }
    if (!admit.admits(internal)) {
      admit.finishedElsewhere.increment();
      refuse(e, internal);
      return;
    }
    AgentCell sender = ct != null ? ct.running : AgentCell.runningOnCarrier();
    if (sender != null && sender.hasDeferred()) {
      AgentCell target = cell;
      sender.defer(() -> offer(target, e, true)); // behind the sender's earlier deferred sends
      return;
    }
    CompletableFuture<Void> wait = offer(cell, e, sender != null);
    if (wait != null) {
      sender.defer(() -> wait);
    }
  }

  /**
   * Offers an accepted message. Returns null once it is in the mailbox (or dropped or rejected by
   * the policy); when the lane is full under BLOCK and {@code mayDefer}, returns a future that
   * completes when it got in instead of waiting.
   */
  private CompletableFuture<Void> offer(AgentCell cell, Envelope e, boolean mayDefer) {
    if (cell.isStopped()) {
      AgentCell again = directory.cellFor(cell.id);
      if (again != null) {
        cell = again;
      }
    }
    Mailbox mb = cell.mailbox();
    if (!mb.offer(e)) {
      if (mayDefer && cell.type.spec.overflow() == OverflowPolicy.BLOCK) {
        return new RoomWait(cell, mb, e).start();
      }
      overflow(cell, mb, e);
    }
    cell.schedule();
    return null;
  }

  /**
   * A deferred BLOCK send waiting for room in {@code target}'s mailbox: tried now, then after each
   * of the target's turns (it registers with the target before trying again, so a turn that makes
   * room after a failed try always finds it), until the send deadline. One monitor per wait makes
   * the tries exclusive, so the message is offered at most once.
   */
  final class RoomWait implements Runnable {
    private final AgentCell target;
    private final Mailbox mailbox;
    private final Envelope message;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    RoomWait(AgentCell target, Mailbox mailbox, Envelope message) {
      this.target = target;
      this.mailbox = mailbox;
      this.message = message;
    }

    CompletableFuture<Void> start() {
      Duration deadline = target.type.spec.sendDeadline();
      try {
        timer.schedule(this::expire, deadline.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException terminated) {
        expire();
        return done;
      }
      run();
      return done;
    }

    @Override
    public void run() {
      if (!tryOffer()) {
        target.waitForRoom(this);
        tryOffer();
      }
    }

    private synchronized boolean tryOffer() {
      if (done.isDone()) {
        return true;
      }
      if (target.isStopped()) {
        deadLetters.queued(
            message, DeadLetter.Reason.AGENT_STOPPED, "agent " + target.id + " stopped");
        done.complete(null);
        return true;
      }
      if (!mailbox.offer(message)) {
        return false;
      }
      target.schedule();
      done.complete(null);
      return true;
    }

    private synchronized void expire() {
      if (done.isDone()) {
        return;
      }
      admit.finishedElsewhere.increment();
      rejections.increment();
      done.completeExceptionally(
          new MailboxFullException(
              target.id,
              mailbox.capacity(),
              "waited " + target.type.spec.sendDeadline() + " for space"));
    }

    /** At shutdown: the message never got in; it becomes a dead letter. Returns 1 if so. */
    synchronized int abandon() {
      if (done.isDone()) {
        return 0;
      }
      deadLetters.queued(
          message, DeadLetter.Reason.SHUTDOWN, "still waiting for room at the shutdown deadline");
      done.complete(null);
      return 1;
    }
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
        // A sender outside the runtime (or a blocking agent's virtual thread) parks until the
        // recipient's next turn signals it (AgentCell.waitForRoom), instead of polling: hundreds
        // of senders polling one full mailbox used the CPU its agent needed to make room. The
        // waiter is registered before the offer is tried again, so a turn that makes room after
        // a failed try always unparks this thread (no lost signal); an unpark that comes after
        // the sender got in, or a spurious one, costs one more try. The park is bounded, so a
        // recipient that stops taking turns (stopped, or the runtime shutting down) is noticed.
        long deadline = System.nanoTime() + spec.sendDeadline().toNanos();
        Unpark wake = new Unpark(Thread.currentThread());
        try {
          while (!mb.offer(e)) {
            cell.schedule();
            long left = deadline - System.nanoTime();
            if (left <= 0 || admit.isTerminated()) {
              reject(cell, mb, "waited " + spec.sendDeadline() + " for space");
            }
            if (wake.registered.compareAndSet(false, true)) {
              cell.waitForRoom(wake); // once: a turn takes it off before it unparks us
            }
            if (mb.offer(e)) {
              break;
            }
            LockSupport.parkNanos(Math.min(left, MAX_BLOCKED_PARK_NANOS));
          }
        } finally {
          wake.done = true; // still registered: the next turn drops it without waking anyone
        }
      }
    }
  }

  /** The longest a blocked outside sender parks before it looks at the mailbox again. */
  static final long MAX_BLOCKED_PARK_NANOS = 10_000_000L;

  /**
   * A sender blocked on a full mailbox (see {@link OverflowPolicy#BLOCK}), registered with the
   * recipient at most once at a time ({@code registered}); the recipient's turn takes it off and
   * unparks the sender ({@link #run}), or drops it once the sender is {@code done} (it got in or
   * gave up), so a stale registration never uses up a wake-up meant for a waiting sender.
   */
  static final class Unpark implements Runnable {
    private final Thread sender;
    final java.util.concurrent.atomic.AtomicBoolean registered =
        new java.util.concurrent.atomic.AtomicBoolean();
    volatile boolean done;

    Unpark(Thread sender) {
      this.sender = sender;
    }

    @Override
    public void run() {
      registered.set(false);
      LockSupport.unpark(sender);
    }
  }

  private void reject(AgentCell cell, Mailbox mb, String detail) {
    admit.finishedElsewhere.increment();
    rejections.increment();
    throw new MailboxFullException(cell.id, mb.capacity(), detail);
  }
}
