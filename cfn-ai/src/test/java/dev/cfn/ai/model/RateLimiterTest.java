package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final FakeTime time = new FakeTime();

  @Test
  void requestsPerMinuteQueueCallersBehindTheBucket() {
    RateLimiter limiter =
        new RateLimiter(
            "p", new ProviderConfig.RateLimit(2, 0, Duration.ofMinutes(5)), time::nanoTime);

    assertThat(limiter.reserve(0)).isZero();
    assertThat(limiter.reserve(0)).isZero();
    // The bucket is empty: one request refills every 30 s, and callers queue in order.
    assertThat(limiter.reserve(0)).isEqualTo(Duration.ofSeconds(30));
    assertThat(limiter.reserve(0)).isEqualTo(Duration.ofSeconds(60));

    time.advance(Duration.ofSeconds(60));
    assertThat(limiter.availableRequests()).isCloseTo(0.0, within(1e-9));
    time.advance(Duration.ofMinutes(10));
    assertThat(limiter.availableRequests()).as("capped at one minute's worth").isEqualTo(2.0);
  }

  @Test
  void aCallThatWouldWaitLongerThanTheBoundFailsClearlyAndTakesNothing() {
    RateLimiter limiter =
        new RateLimiter(
            "zai", new ProviderConfig.RateLimit(1, 0, Duration.ofSeconds(10)), time::nanoTime);
    limiter.reserve(0);

    assertThatThrownBy(() -> limiter.reserve(0))
        .isInstanceOfSatisfying(
            ModelException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(ModelException.Kind.RATE_LIMITED);
              assertThat(e.retryable()).isTrue();
              assertThat(e.retryAfter()).contains(Duration.ofSeconds(60));
            })
        .hasMessageContaining("client-side rate limit of provider 'zai'")
        .hasMessageContaining("max-wait");
    // The refused call reserved nothing: after a minute the next one passes at once.
    time.advance(Duration.ofSeconds(60));
    assertThat(limiter.reserve(0)).isZero();
  }

  @Test
  void tokensAreEstimatedBeforeAndCorrectedAfterTheCall() {
    RateLimiter limiter =
        new RateLimiter(
            "p", new ProviderConfig.RateLimit(0, 6000, Duration.ofMinutes(1)), time::nanoTime);

    assertThat(limiter.reserve(5000)).isZero();
    assertThat(limiter.availableTokens()).isEqualTo(1000.0);
    // The call used less than estimated: the difference comes back.
    limiter.settle(5000, 1200);
    assertThat(limiter.availableTokens()).isEqualTo(4800.0);

    // A call that used more than estimated leaves a debt the next caller waits out.
    assertThat(limiter.reserve(4000)).isZero();
    limiter.settle(4000, 6800);
    assertThat(limiter.availableTokens()).isEqualTo(-2000.0);
    assertThat(limiter.reserve(1000)).isEqualTo(Duration.ofSeconds(30)); // 3000 tokens at 100/s
  }

  @Test
  void anEstimateAboveCapacityIsChargedAsTheWholeBucket() {
    RateLimiter limiter =
        new RateLimiter(
            "p", new ProviderConfig.RateLimit(0, 1000, Duration.ofMinutes(2)), time::nanoTime);
    assertThat(limiter.reserve(50_000)).isZero();
    assertThat(limiter.reserve(10)).isEqualTo(Duration.ofMillis(600));
  }

  @Test
  void noLimitsMeansNoWaiting() {
    RateLimiter limiter = new RateLimiter("p", ProviderConfig.RateLimit.NONE, time::nanoTime);
    for (int i = 0; i < 1000; i++) {
      assertThat(limiter.reserve(1_000_000)).isZero();
    }
  }
}
