package dev.cfn.server;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * One token bucket per caller (a token id, or the address of a caller whose token was refused), so
 * that one client cannot starve the others: each bucket holds up to {@code burst} permits and
 * refills at {@code perSecond}. A refused call learns how long until a permit is back, which the
 * server sends as {@code Retry-After}.
 *
 * <p>Each bucket is updated under its own monitor (two fields change together); the map is bounded
 * by pruning full buckets when it grows past {@link #MAX_BUCKETS}, so a flood of addresses cannot
 * grow it without end.
 */
final class RateLimiter {
  static final int MAX_BUCKETS = 100_000;

  private final double perSecond;
  private final double burst;
  private final LongSupplier nanoTime;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  RateLimiter(double perSecond, int burst, LongSupplier nanoTime) {
    if (perSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException(
          "rate limit must be above 0 per second with a burst of at least 1");
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanoTime = nanoTime;
  }

  /** Takes a permit for {@code caller}: 0 when granted, else the nanoseconds to wait. */
  long acquire(String caller) {
    if (buckets.size() > MAX_BUCKETS) {
      long now = nanoTime.getAsLong();
      buckets.values().removeIf(b -> b.fullAt(now));
    }
    Bucket b = buckets.computeIfAbsent(caller, k -> new Bucket(burst, nanoTime.getAsLong()));
    return b.take(nanoTime.getAsLong());
  }

  private final class Bucket {
    private double permits;
    private long updated;

    Bucket(double permits, long now) {
      this.permits = permits;
      this.updated = now;
    }

    synchronized long take(long now) {
      refill(now);
      if (permits >= 1) {
        permits -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - permits) / perSecond * 1e9);
    }

    synchronized boolean fullAt(long now) {
      refill(now);
      return permits >= burst;
    }

    private void refill(long now) {
      permits = Math.min(burst, permits + (now - updated) / 1e9 * perSecond);
      updated = now;
    }
  }
}
