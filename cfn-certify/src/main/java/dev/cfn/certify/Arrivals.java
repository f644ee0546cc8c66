package dev.cfn.certify;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** Waits for messages to arrive: until all have, or none has for a while (then some were lost). */
final class Arrivals {
  /** How long without a single arrival before the rest are counted lost. */
  static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(5);

  private Arrivals() {}

  /**
   * Waits until {@code arrived} reaches {@code expected().getAsLong()}, or stops moving for {@link
   * #QUIET_NANOS}; returns the count then.
   */
  static long await(LongSupplier arrived, LongSupplier expected) throws InterruptedException {
    long last = arrived.getAsLong();
    long lastMove = System.nanoTime();
    while (true) {
      long now = arrived.getAsLong();
      if (now >= expected.getAsLong()) {
        return now;
      }
      if (now != last) {
        last = now;
        lastMove = System.nanoTime();
      } else if (System.nanoTime() - lastMove > QUIET_NANOS) {
        return now;
      }
      Thread.sleep(5);
    }
  }
}
