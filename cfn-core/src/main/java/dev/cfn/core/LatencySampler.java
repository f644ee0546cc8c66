package dev.cfn.core;

import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Feeds the end-to-end latency timer with one message in {@code every}: reading the clock and
 * recording into a percentile histogram for every message would cost more than delivering it.
 * Carriers sample by their own delivery count; virtual threads at random with the same rate.
 */
final class LatencySampler {
  private final Timer timer;
  private final int every;
  private final long mask;

  LatencySampler(Timer timer, int every) {
    if (every < 1 || Integer.bitCount(every) != 1) {
      throw new IllegalArgumentException(
          "latency sample rate must be a power of two >= 1, was " + every);
    }
    this.timer = timer;
    this.every = every;
    this.mask = every - 1L;
  }

  void sample(long sequence, long createdNanos) {
    if ((sequence & mask) == 0) {
      timer.record(System.nanoTime() - createdNanos, TimeUnit.NANOSECONDS);
    }
  }

  void sampleShared(long createdNanos) {
    if (every == 1 || ThreadLocalRandom.current().nextInt(every) == 0) {
      timer.record(System.nanoTime() - createdNanos, TimeUnit.NANOSECONDS);
    }
  }
}
