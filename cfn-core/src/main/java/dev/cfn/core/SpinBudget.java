package dev.cfn.core;

/**
 * How long one carrier may spin and yield when idle, adapted to the machine's load. The idle
 * strategy gives the budget for a machine with cores to spare; when the machine is oversubscribed,
 * spinning takes the CPU from the threads that have work (the senders, the other carriers), and
 * latency gets worse, not better.
 *
 * <p>Detection: a spinning carrier reads the clock on every pass; a gap of more than {@link
 * #PREEMPTED_NANOS} between two passes (a pass takes well under a microsecond) means the operating
 * system took the core away from it: the machine is oversubscribed. The carrier then halves its
 * budget and parks at once. Each time work arrives while it spins without being preempted, the
 * budget grows back (doubling, plus a microsecond) up to the strategy's. So under load the
 * low-latency profile degrades to the default one and below instead of fighting for cores, and it
 * returns to spinning once the load is gone. Parking never delays a wake-up: producers unpark a
 * parked carrier (see {@link Carrier}); the park bound is only a safety net.
 *
 * <p>Owned by one carrier thread; no synchronization.
 */
final class SpinBudget {
  /** A gap between two spin passes longer than this means the thread was preempted. */
  static final long PREEMPTED_NANOS = 50_000;

  private final long maxSpin;
  private final long maxYield;
  private long spin;
  private long yield;
  private long preemptions;

  SpinBudget(IdleStrategy strategy) {
    this.maxSpin = strategy.spin().toNanos();
    this.maxYield = strategy.yield().toNanos();
    this.spin = maxSpin;
    this.yield = maxYield;
  }

  /** Nanoseconds to spin now. */
  long spin() {
    return spin;
  }

  /** Nanoseconds to spin and then yield now, from the start of the idle period. */
  long spinAndYield() {
    return spin + yield;
  }

  /**
   * One spin pass saw {@code gapNanos} since the previous one. Returns true when that shows a
   * preemption: the budget was halved and the carrier should park now.
   */
  boolean preempted(long gapNanos) {
    if (gapNanos <= PREEMPTED_NANOS) {
      return false;
    }
    preemptions++;
    spin /= 2;
    yield /= 2;
    return true;
  }

  /** Work arrived while spinning without a preemption: grow back toward the strategy's budget. */
  void rewarded() {
    if (spin < maxSpin) {
      spin = Math.min(maxSpin, spin * 2 + 1_000);
    }
    if (yield < maxYield) {
      yield = Math.min(maxYield, yield * 2 + 1_000);
    }
  }

  /** Preemptions seen so far. */
  long preemptions() {
    return preemptions;
  }
}
