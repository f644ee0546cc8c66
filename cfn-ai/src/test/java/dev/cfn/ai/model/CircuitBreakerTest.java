package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final FakeTime time = new FakeTime();
  private final CircuitBreaker breaker =
      new CircuitBreaker("p", 3, Duration.ofSeconds(30), time::nanoTime);

  @Test
  void opensAfterConsecutiveFailuresOnly() {
    breaker.onFailure();
    breaker.onFailure();
    breaker.onSuccess(); // resets the count
    breaker.onFailure();
    breaker.onFailure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breaker.tryAcquire()).isTrue();

    breaker.onFailure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(breaker.tryAcquire()).isFalse();
    assertThat(breaker.remainingCoolDown()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void halfOpenLetsOneTrialThroughAndClosesOnSuccess() {
    open();
    time.advance(Duration.ofSeconds(29));
    assertThat(breaker.tryAcquire()).isFalse();

    time.advance(Duration.ofSeconds(1));
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(breaker.tryAcquire()).as("only one trial at a time").isFalse();

    breaker.onSuccess();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.tryAcquire()).isTrue();
  }

  @Test
  void failedTrialReopensForAnotherCoolDown() {
    open();
    time.advance(Duration.ofSeconds(30));
    assertThat(breaker.tryAcquire()).isTrue();
    breaker.onFailure();

    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(breaker.tryAcquire()).isFalse();
    time.advance(Duration.ofSeconds(30));
    assertThat(breaker.tryAcquire()).isTrue();
  }

  @Test
  void aTrialThatNeverReportsIsReplacedAfterACoolDown() {
    open();
    time.advance(Duration.ofSeconds(30));
    assertThat(breaker.tryAcquire()).isTrue(); // this caller vanishes
    time.advance(Duration.ofSeconds(10));
    assertThat(breaker.tryAcquire()).isFalse();
    time.advance(Duration.ofSeconds(20));
    assertThat(breaker.tryAcquire()).isTrue();
  }

  @Test
  void anAbandonedTrialIsReleasedWithoutClosingTheCircuit() {
    open();
    time.advance(Duration.ofSeconds(30));
    assertThat(breaker.tryAcquire()).isTrue(); // the trial's caller is interrupted
    breaker.onAbandoned();

    assertThat(breaker.state())
        .as("nothing proved the provider back")
        .isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(breaker.tryAcquire()).as("the next call is the trial, at once").isTrue();
    assertThat(breaker.tryAcquire()).as("still one trial at a time").isFalse();
    breaker.onFailure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void anAbandonedCallDoesNotResetTheFailureCount() {
    breaker.onFailure();
    breaker.onFailure();
    assertThat(breaker.tryAcquire()).isTrue();
    breaker.onAbandoned();
    breaker.onFailure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  private void open() {
    for (int i = 0; i < 3; i++) {
      breaker.onFailure();
    }
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
  }
}
