package dev.cfn.ai.model;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Client-side rate limits of one provider: a token bucket of requests per minute and one of tokens
 * per minute. Each starts full (one minute's worth) and refills continuously.
 *
 * <p>A call reserves one request and its estimated tokens at once. The buckets may go into debt;
 * the debt says how long the caller must wait, and callers queue up in the order they reserved. If
 * the wait would exceed {@code maxWait} the reservation is undone and the call fails with {@link
 * ModelException.Kind#RATE_LIMITED}. After the call, {@link #settle(long, long)} replaces the
 * estimate by the tokens the provider reported. An estimate above the per-minute capacity is
 * charged as the whole capacity, so a single large call can still pass once the bucket is full.
 *
 * <p>Time comes from a {@code nanoTime} source, so tests drive it without sleeping. Thread-safe.
 */
final class RateLimiter {
  private static final double NANOS_PER_MINUTE = 60e9;

  private final String provider;
  private final int requestsPerMinute;
  private final long tokensPerMinute;
  private final long maxWaitNanos;
  private final LongSupplier nanoTime;

  private double requests;
  private double tokens;
  private long lastRefill;

  RateLimiter(String provider, ProviderConfig.RateLimit limit, LongSupplier nanoTime) {
    this.provider = provider;
    this.requestsPerMinute = limit.requestsPerMinute();
    this.tokensPerMinute = limit.tokensPerMinute();
    this.maxWaitNanos = limit.maxWait().toNanos();
    this.nanoTime = nanoTime;
    this.requests = requestsPerMinute;
    this.tokens = tokensPerMinute;
    this.lastRefill = nanoTime.getAsLong();
  }

  boolean unlimited() {
    return requestsPerMinute == 0 && tokensPerMinute == 0;
  }

  /**
   * Reserves capacity for one call.
   *
   * @param estimatedTokens the call's estimated input plus output tokens
   * @return how long the caller must wait before sending (zero when capacity is there)
   * @throws ModelException of kind RATE_LIMITED when the wait would exceed the configured bound
   */
  synchronized Duration reserve(long estimatedTokens) {
    if (unlimited()) {
      return Duration.ZERO;
    }
    refill();
    long charge = tokensPerMinute == 0 ? 0 : Math.min(estimatedTokens, tokensPerMinute);
    double waitRequests =
        requestsPerMinute == 0 ? 0 : deficitNanos(requests - 1, requestsPerMinute);
    double waitTokens = tokensPerMinute == 0 ? 0 : deficitNanos(tokens - charge, tokensPerMinute);
    long wait = (long) Math.ceil(Math.max(waitRequests, waitTokens));
    if (wait > maxWaitNanos) {
      Duration w = Duration.ofNanos(wait);
      throw new ModelException(
          ModelException.Kind.RATE_LIMITED,
          provider,
          0,
          w,
          "client-side rate limit of provider '"
              + provider
              + "' ("
              + describe()
              + ") has no room for this call (about "
              + estimatedTokens
              + " tokens) within rate-limit.max-wait "
              + Duration.ofNanos(maxWaitNanos)
              + ": it would wait "
              + w.toMillis()
              + " ms; raise the limits or max-wait in the providers file, or send fewer calls",
          null);
    }
    if (requestsPerMinute > 0) {
      requests -= 1;
    }
    tokens -= charge;
    return Duration.ofNanos(wait);
  }

  /**
   * Replaces a call's estimated tokens by the tokens it used.
   *
   * @param estimatedTokens what {@link #reserve(long)} was given
   * @param actualTokens what the provider reported (0 refunds the estimate, e.g. for a failed call)
   */
  synchronized void settle(long estimatedTokens, long actualTokens) {
    if (tokensPerMinute == 0) {
      return;
    }
    refill();
    long charged = Math.min(estimatedTokens, tokensPerMinute);
    tokens = Math.min(tokensPerMinute, tokens + charged - actualTokens);
  }

  /** The tokens available now (negative while in debt); for tests and diagnostics. */
  synchronized double availableTokens() {
    refill();
    return tokens;
  }

  /** The requests available now (negative while in debt); for tests and diagnostics. */
  synchronized double availableRequests() {
    refill();
    return requests;
  }

  private static double deficitNanos(double after, long perMinute) {
    return after >= 0 ? 0 : -after * NANOS_PER_MINUTE / perMinute;
  }

  private void refill() {
    long now = nanoTime.getAsLong();
    long elapsed = now - lastRefill;
    if (elapsed <= 0) {
      return;
    }
    lastRefill = now;
    if (requestsPerMinute > 0) {
      requests =
          Math.min(requestsPerMinute, requests + elapsed * requestsPerMinute / NANOS_PER_MINUTE);
    }
    if (tokensPerMinute > 0) {
      tokens = Math.min(tokensPerMinute, tokens + elapsed * tokensPerMinute / NANOS_PER_MINUTE);
    }
  }

  private String describe() {
    return (requestsPerMinute == 0 ? "" : requestsPerMinute + " requests/min")
        + (requestsPerMinute != 0 && tokensPerMinute != 0 ? ", " : "")
        + (tokensPerMinute == 0 ? "" : tokensPerMinute + " tokens/min");
  }
}
