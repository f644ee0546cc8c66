package dev.cfn.bench;

/**
 * Paces a sender at a fixed rate. The send time of message {@code i} is fixed in advance ({@code
 * start + i * interval}); the sender spins until then and stamps the message with that intended
 * time, so latency measured from it includes any delay of the sender itself (no coordinated
 * omission: a stall counts against every message it delays). It spins rather than sleeps, since a
 * sleep on Linux overshoots by tens of microseconds.
 */
final class Pacer {
  private final long start;
  private final long intervalNanos;

  Pacer(long start, int ratePerSecond) {
    if (ratePerSecond < 1) {
      throw new IllegalArgumentException("rate must be at least 1 msg/s, was " + ratePerSecond);
    }
    this.start = start;
    this.intervalNanos = 1_000_000_000L / ratePerSecond;
  }

  /** Waits until message {@code i}'s intended time and returns it. */
  long awaitSlot(long i) {
    long intended = start + i * intervalNanos;
    while (System.nanoTime() - intended < 0) {
      Thread.onSpinWait();
    }
    return intended;
  }

  /** How many messages fit in {@code nanos}. */
  long count(long nanos) {
    return nanos / intervalNanos;
  }
}
