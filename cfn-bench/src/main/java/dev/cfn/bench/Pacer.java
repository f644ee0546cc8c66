package dev.cfn.bench;

import java.time.Duration;

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

  /** Sends one paced message, stamped with its intended send time. */
  interface Send {
    void send(long intended, boolean measured);
  }

  /**
   * What a paced run did: the messages sent (warm-up included) and the CPU over the measured
   * window.
   */
  record Run(long total, Cpu cpu) {}

  /**
   * The one paced loop every system's latency scenario uses: {@code warmup} then {@code measure} at
   * {@code rate}, calling {@code onMeasureStart} once when the measured window opens.
   */
  static Run run(int rate, Duration warmup, Duration measure, Runnable onMeasureStart, Send send) {
    Pacer pacer = new Pacer(System.nanoTime() + 1_000_000, rate);
    long warm = pacer.count(warmup.toNanos());
    long total = warm + pacer.count(measure.toNanos());
    Cpu cpu = null;
    for (long i = 0; i < total; i++) {
      if (i == warm) {
        onMeasureStart.run();
        cpu = new Cpu();
      }
      long intended = pacer.awaitSlot(i);
      send.send(intended, i >= warm);
    }
    return new Run(total, cpu == null ? new Cpu().stop() : cpu.stop());
  }
}
