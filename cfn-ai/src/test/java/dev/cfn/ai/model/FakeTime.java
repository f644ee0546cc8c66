package dev.cfn.ai.model;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TimeSource} whose time moves only when a test advances it or code waits on it: a wait is
 * recorded and advances the time at once, so backoff, cool-downs and rate limits run without
 * sleeping and their waits can be asserted.
 */
final class FakeTime implements TimeSource {
  private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<Duration> sleeps = new CopyOnWriteArrayList<>();

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  @Override
  public Clock clock() {
    return Clock.fixed(EPOCH.plusNanos(nanos.get()), ZoneOffset.UTC);
  }

  @Override
  public void sleep(Duration duration) {
    sleeps.add(duration);
    advance(duration);
  }

  void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  /** Every wait the code under test asked for, in order. */
  List<Duration> sleeps() {
    return List.copyOf(sleeps);
  }
}
