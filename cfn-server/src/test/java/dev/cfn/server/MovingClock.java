package dev.cfn.server;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock the test moves by hand, in UTC, starting at 2026-12-01T00:00:00Z: what a node, its
 * availability, its alert engine or its token store read as the time, so that minutes pass in a
 * moment and no assertion depends on timing. Safe to read from other threads.
 */
public final class MovingClock extends Clock {
  private volatile Instant now = Instant.parse("2026-12-01T00:00:00Z");

  /** Moves the time on by {@code d}. */
  public void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
