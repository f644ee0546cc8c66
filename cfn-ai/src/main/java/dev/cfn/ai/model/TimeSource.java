package dev.cfn.ai.model;

import java.time.Clock;
import java.time.Duration;

/**
 * The time the resilience layer reads and waits on: a monotonic nanosecond counter for circuit
 * breakers and rate limits, a wall clock for {@code Retry-After} dates, and a way to wait. Tests
 * substitute a source whose waits advance its own counter, so backoff, cool-downs and rate limits
 * are exercised without sleeping.
 */
interface TimeSource {
  /** The real time: {@link System#nanoTime()}, the UTC clock and {@link Thread#sleep(Duration)}. */
  TimeSource SYSTEM =
      new TimeSource() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public Clock clock() {
          return Clock.systemUTC();
        }

        @Override
        public void sleep(Duration duration) throws InterruptedException {
          if (duration.isPositive()) {
            Thread.sleep(duration);
          }
        }
      };

  long nanoTime();

  Clock clock();

  void sleep(Duration duration) throws InterruptedException;
}
