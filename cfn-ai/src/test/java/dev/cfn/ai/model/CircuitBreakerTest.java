package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.model.CircuitBreaker.State;
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

  // ---- the failure-rate window (resilience4j's count-based breaker)

  private final ProviderConfig.Circuit rate =
      new ProviderConfig.Circuit(10, 4, 50, Duration.ofSeconds(30), 2);
  private final CircuitBreaker window = new CircuitBreaker("w", rate, time::nanoTime);
  private final java.util.List<String> transitions =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  {
    window.addListener((b, from, to, reason) -> transitions.add(from + "->" + to + ": " + reason));
  }

  @Test
  void fewerCallsThanTheMinimumNeverOpenTheCircuitHoweverManyFailed() {
    window.onFailure();
    window.onFailure();
    window.onFailure();
    assertThat(window.state()).as("3 failures of 3 calls, minimum 4").isEqualTo(State.CLOSED);
    assertThat(window.failureRatePercent()).isEqualTo(-1);
    window.onFailure();
    assertThat(window.state()).isEqualTo(State.OPEN);
    assertThat(window.openReason())
        .isEqualTo("4 of the last 4 calls failed (100 %, threshold 50 %)");
  }

  @Test
  void theCircuitOpensWhenTheRateInTheWindowReachesTheThreshold() {
    for (int i = 0; i < 6; i++) {
      window.onSuccess();
    }
    window.onFailure();
    window.onFailure();
    window.onFailure();
    window.onFailure();
    assertThat(window.failureRatePercent()).isEqualTo(40);
    assertThat(window.state()).as("4 of 10").isEqualTo(State.CLOSED);
    window.onFailure(); // the oldest success leaves the window: 5 of 10
    assertThat(window.state()).isEqualTo(State.OPEN);
    assertThat(transitions)
        .containsExactly("CLOSED->OPEN: 5 of the last 10 calls failed (50 %, threshold 50 %)");
  }

  @Test
  void oldFailuresLeaveTheWindowSoScatteredNoiseNeverOpensIt() {
    // One failure in every four calls, for a thousand calls: 25 %, under the 50 % threshold.
    for (int i = 0; i < 1000; i++) {
      if (i % 4 == 0) {
        window.onFailure();
      } else {
        window.onSuccess();
      }
      assertThat(window.state()).isEqualTo(State.CLOSED);
    }
    assertThat(transitions).isEmpty();
  }

  @Test
  void halfOpenLetsTheConfiguredProbesThroughAndClosesWhenAllSucceed() {
    openWindow();
    assertThat(window.tryAcquire()).isFalse();
    time.advance(Duration.ofSeconds(30));
    assertThat(window.tryAcquire()).as("first probe").isTrue();
    assertThat(window.state()).isEqualTo(State.HALF_OPEN);
    assertThat(window.tryAcquire()).as("second probe").isTrue();
    assertThat(window.tryAcquire()).as("only two probes").isFalse();
    window.onSuccess();
    assertThat(window.state()).as("one of two probes back").isEqualTo(State.HALF_OPEN);
    window.onSuccess();
    assertThat(window.state()).isEqualTo(State.CLOSED);
    assertThat(window.failureRatePercent()).as("the window starts empty").isEqualTo(-1);
    assertThat(transitions)
        .extracting(t -> t.substring(0, t.indexOf(':')))
        .containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
  }

  @Test
  void oneFailedProbeOpensTheCircuitAgain() {
    openWindow();
    time.advance(Duration.ofSeconds(30));
    assertThat(window.tryAcquire()).isTrue();
    assertThat(window.tryAcquire()).isTrue();
    window.onSuccess();
    window.onFailure();
    assertThat(window.state()).isEqualTo(State.OPEN);
    assertThat(window.openReason()).isEqualTo("a probe call failed");
    assertThat(window.remainingCoolDown()).isEqualTo(Duration.ofSeconds(30));
    assertThat(window.tryAcquire()).isFalse();
  }

  @Test
  void theConsecutiveFormIsAWindowOfThatManyCallsThatAllFailed() {
    assertThat(ProviderConfig.Circuit.consecutive(3, Duration.ofSeconds(30)))
        .isEqualTo(new ProviderConfig.Circuit(3, 3, 100, Duration.ofSeconds(30), 1));
  }

  private void openWindow() {
    for (int i = 0; i < 4; i++) {
      window.onFailure();
    }
    assertThat(window.state()).isEqualTo(State.OPEN);
  }
}
