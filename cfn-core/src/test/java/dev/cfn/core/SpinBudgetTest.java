package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The idle budget backs off when a spinning carrier is preempted and recovers when it pays. */
class SpinBudgetTest {

  @Test
  void aPreemptionHalvesTheBudgetAndAskForAParkAtOnce() {
    SpinBudget b = new SpinBudget(IdleStrategy.LOW_LATENCY);
    assertThat(b.spin()).isEqualTo(Duration.ofMillis(2).toNanos());
    assertThat(b.preempted(200)).as("a normal pass").isFalse();
    assertThat(b.preempted(SpinBudget.PREEMPTED_NANOS + 1)).isTrue();
    assertThat(b.spin()).isEqualTo(Duration.ofMillis(1).toNanos());
    assertThat(b.spinAndYield()).isEqualTo(Duration.ofMillis(1).toNanos() + 5_000_000);
    assertThat(b.preemptions()).isEqualTo(1);
  }

  @Test
  void underSustainedLoadTheLowLatencyProfileSpinsNoLongerThanTheDefault() {
    SpinBudget low = new SpinBudget(IdleStrategy.LOW_LATENCY);
    SpinBudget dflt = new SpinBudget(IdleStrategy.DEFAULT);
    for (int i = 0; i < 10; i++) {
      low.preempted(1_000_000); // the core was taken away for a millisecond, again and again
      dflt.preempted(1_000_000);
    }
    assertThat(low.spinAndYield()).isLessThanOrEqualTo(dflt.spinAndYield() + 20_000);
    for (int i = 0; i < 30; i++) {
      low.preempted(10);
    }
    assertThat(low.spinAndYield()).isLessThan(Duration.ofMillis(1).toNanos());
  }

  @Test
  void theBudgetGrowsBackWhenSpinningPaysOff() {
    SpinBudget b = new SpinBudget(IdleStrategy.LOW_LATENCY);
    for (int i = 0; i < 40; i++) {
      b.preempted(1_000_000);
    }
    assertThat(b.spin()).isZero();
    for (int i = 0; i < 40; i++) {
      b.rewarded();
    }
    assertThat(b.spin()).isEqualTo(IdleStrategy.LOW_LATENCY.spin().toNanos());
    assertThat(b.spinAndYield())
        .isEqualTo(
            IdleStrategy.LOW_LATENCY.spin().toNanos() + IdleStrategy.LOW_LATENCY.yield().toNanos());
  }
}
