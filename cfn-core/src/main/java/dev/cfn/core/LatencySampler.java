package dev.cfn.core;

import java.util.concurrent.ThreadLocalRandom;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Message latency, recorded in HdrHistograms and read as percentiles by the metrics: two series,
 * end to end (message creation to handler completion) and the wait (message creation, just before
 * it is enqueued, to the start of its handler).
 *
 * <p>The hot path stays cheap in two ways. First, one message in {@code every} is timed (reading
 * the clock costs about as much as delivering a message). Second, each carrier records into its own
 * {@link SingleWriterRecorder}, so carriers never contend on a shared histogram; blocking agents on
 * virtual threads share one multi-writer {@link Recorder}. A read swaps the recorders' interval
 * histograms out and merges them, at most once a second; the percentiles describe the messages
 * delivered since the previous refresh.
 */
final class LatencySampler {
  private static final long HIGHEST = 3_600_000_000_000L; // one hour in nanoseconds
  private static final long REFRESH_NANOS = 1_000_000_000L;

  private final int every;
  private final long mask;
  private final Series completed;
  private final Series started;
  private long refreshedAt;

  LatencySampler(int every, int carrierCount) {
    if (every < 1 || Integer.bitCount(every) != 1) {
      throw new IllegalArgumentException(
          "latency sample rate must be a power of two >= 1, was " + every);
    }
    this.every = every;
    this.mask = every - 1L;
    this.completed = new Series(carrierCount);
    this.started = new Series(carrierCount);
    this.refreshedAt = System.nanoTime() - REFRESH_NANOS;
  }

  /** Called by carrier {@code carrier} for its {@code sequence}-th delivered message. */
  void sample(int carrier, long sequence, long createdNanos) {
    if ((sequence & mask) == 0) {
      completed.carriers[carrier].recordValue(clamp(System.nanoTime() - createdNanos));
    }
  }

  /** Called from virtual threads, which have no sequence of their own. */
  void sampleShared(long createdNanos) {
    if (every == 1 || ThreadLocalRandom.current().nextInt(every) == 0) {
      completed.shared.recordValue(clamp(System.nanoTime() - createdNanos));
    }
  }

  /**
   * Called by carrier {@code carrier} as the handler of its {@code sequence}-th message starts (the
   * sequence {@link #sample} will be given for it, so the same messages are timed).
   */
  void sampleStart(int carrier, long sequence, long createdNanos) {
    if ((sequence & mask) == 0) {
      started.carriers[carrier].recordValue(clamp(System.nanoTime() - createdNanos));
    }
  }

  /** {@link #sampleStart} from virtual threads. */
  void sampleStartShared(long createdNanos) {
    if (every == 1 || ThreadLocalRandom.current().nextInt(every) == 0) {
      started.shared.recordValue(clamp(System.nanoTime() - createdNanos));
    }
  }

  private static long clamp(long nanos) {
    return nanos < 0 ? 0 : Math.min(nanos, HIGHEST);
  }

  /** The {@code percentile} (0-100) of the current interval, in seconds. */
  synchronized double percentileSeconds(double percentile) {
    refresh();
    return completed.percentileSeconds(percentile);
  }

  /** The largest latency of the current interval, in seconds. */
  synchronized double maxSeconds() {
    refresh();
    return completed.interval.getTotalCount() == 0 ? 0 : completed.interval.getMaxValue() / 1e9;
  }

  /** Messages timed since the runtime started. */
  synchronized long count() {
    refresh();
    return completed.total;
  }

  /** The wait's {@code percentile} (0-100) over the current interval, in seconds. */
  synchronized double waitPercentileSeconds(double percentile) {
    refresh();
    return started.percentileSeconds(percentile);
  }

  /** Messages whose wait was timed since the runtime started. */
  synchronized long waitCount() {
    refresh();
    return started.total;
  }

  /** The sum of the timed waits since the runtime started, in seconds. */
  synchronized double waitSumSeconds() {
    refresh();
    return started.sumNanos / 1e9;
  }

  private void refresh() {
    long now = System.nanoTime();
    if (now - refreshedAt < REFRESH_NANOS) {
      return;
    }
    refreshedAt = now;
    completed.refresh();
    started.refresh();
  }

  /** One series: a recorder per carrier, one shared, and the merged interval. */
  private static final class Series {
    final SingleWriterRecorder[] carriers;
    final Recorder shared = new Recorder(HIGHEST, 3);
    final Histogram interval = new Histogram(HIGHEST, 3);
    final Histogram[] scratch; // one per recorder, handed back on each swap
    long total;
    double sumNanos;

    Series(int carrierCount) {
      this.carriers = new SingleWriterRecorder[carrierCount];
      for (int i = 0; i < carrierCount; i++) {
        carriers[i] = new SingleWriterRecorder(HIGHEST, 3);
      }
      this.scratch = new Histogram[carrierCount + 1];
    }

    double percentileSeconds(double percentile) {
      return interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(percentile) / 1e9;
    }

    void refresh() {
      interval.reset();
      for (int i = 0; i < carriers.length; i++) {
        scratch[i] = carriers[i].getIntervalHistogram(scratch[i]);
        interval.add(scratch[i]);
      }
      int last = carriers.length;
      scratch[last] = shared.getIntervalHistogram(scratch[last]);
      interval.add(scratch[last]);
      long n = interval.getTotalCount();
      total += n;
      if (n > 0) {
        sumNanos += interval.getMean() * n;
      }
    }
  }
}
