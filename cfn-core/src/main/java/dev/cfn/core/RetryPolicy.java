package dev.cfn.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a failed {@link DeliveryMode#RELIABLE} message is retried: attempt n (from 1) waits {@code
 * initialDelay * multiplier^(n-1)}, capped at {@code maxDelay}, with "full jitter" (a uniformly
 * random delay between half of that and all of it) so that many failing messages do not retry in
 * lockstep. After {@code maxAttempts} failed attempts the message goes to the dead-letter store.
 *
 * @param initialDelay delay before the second attempt
 * @param multiplier growth factor per attempt, at least 1
 * @param maxDelay the cap on one delay
 * @param maxAttempts attempts in all before dead-lettering, at least 1
 */
public record RetryPolicy(
    Duration initialDelay, double multiplier, Duration maxDelay, int maxAttempts) {

  /** 100 ms doubling to 30 s, 10 attempts. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(Duration.ofMillis(100), 2.0, Duration.ofSeconds(30), 10);

  /** Validates the policy. */
  public RetryPolicy {
    Objects.requireNonNull(initialDelay, "initialDelay");
    Objects.requireNonNull(maxDelay, "maxDelay");
    if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
      throw new IllegalArgumentException(
          "retry delays must satisfy 0 <= initialDelay <= maxDelay, were "
              + initialDelay
              + " and "
              + maxDelay);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("retry multiplier must be >= 1, was " + multiplier);
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
    }
  }

  /** The delay without jitter after failed attempt {@code attempt} (from 1). */
  public Duration baseDelay(int attempt) {
    double nanos = initialDelay.toNanos() * Math.pow(multiplier, Math.max(0, attempt - 1));
    long capped = (long) Math.min(nanos, (double) maxDelay.toNanos());
    return Duration.ofNanos(capped);
  }

  /** The delay with jitter: uniform in [base/2, base]. */
  public Duration delay(int attempt) {
    long base = baseDelay(attempt).toNanos();
    if (base <= 1) {
      return Duration.ofNanos(base);
    }
    long half = base / 2;
    return Duration.ofNanos(half + ThreadLocalRandom.current().nextLong(base - half + 1));
  }
}
