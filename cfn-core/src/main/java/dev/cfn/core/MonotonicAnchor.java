package dev.cfn.core;

import java.time.Instant;

/**
 * Maps {@link System#nanoTime()} readings to wall-clock instants through one anchor pair taken when
 * this class loads, so that message timestamps are monotonic and cost one {@code nanoTime} call,
 * while still printable as dates.
 */
final class MonotonicAnchor {
  private static final long ANCHOR_NANOS = System.nanoTime();
  private static final Instant ANCHOR_INSTANT = Instant.now();

  private MonotonicAnchor() {}

  static Instant toInstant(long nanos) {
    return ANCHOR_INSTANT.plusNanos(nanos - ANCHOR_NANOS);
  }
}
