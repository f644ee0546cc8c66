package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The idle budget backs off when a spinning carrier is preempted and recovers when it pays. */
class SpinBudgetTest {

  @Test
  void aPreemptionCutsTheBudgetToTheDefaultSpinWithoutYieldAndAsksForAParkAtOnce() {
    SpinBudget b = new SpinBudget(IdleStrategy.LOW_LATENCY);
    assertThat(b.spin()).isEqualTo(Duration.ofMillis(2).toNanos());
    assertThat(b.preempted(200, 0)).as("a normal pass").isFalse();
    assertThat(b.preempted(SpinBudget.PREEMPTED_NANOS + 1, 0)).isTrue();
    assertThat(b.spin()).isEqualTo(IdleStrategy.DEFAULT.spin().toNanos());
    assertThat(b.spinAndYield()).as("no yielding").isEqualTo(b.spin());
    assertThat(b.preemptions()).isEqualTo(1);

    SpinBudget d = new SpinBudget(IdleStrategy.DEFAULT);
    assertThat(d.preempted(SpinBudget.PREEMPTED_NANOS + 1, 0)).isTrue();
    assertThat(d.spin()).as("halved below the default").isEqualTo(10_000);
  }

  @Test
  void underSustainedLoadTheLowLatencyProfileSpinsNoLongerThanTheDefault() {
    SpinBudget low = new SpinBudget(IdleStrategy.LOW_LATENCY);
    SpinBudget dflt = new SpinBudget(IdleStrategy.DEFAULT);
    for (int i = 0; i < 10; i++) {
      low.preempted(1_000_000, i); // the core was taken away for a millisecond, again and again
      dflt.preempted(1_000_000, i);
    }
    assertThat(low.spinAndYield()).isLessThanOrEqualTo(dflt.spinAndYield() + 20_000);
    for (int i = 0; i < 30; i++) {
      low.preempted(10, 100);
    }
    assertThat(low.spinAndYield()).isLessThan(Duration.ofMillis(1).toNanos());
  }

  @Test
  void theBudgetGrowsBackWhenSpinningPaysOff() {
    SpinBudget b = new SpinBudget(IdleStrategy.LOW_LATENCY);
    for (int i = 0; i < 40; i++) {
      b.preempted(1_000_000, 0);
    }
    assertThat(b.spin()).isZero();
    long calm = SpinBudget.CALM_NANOS;
    for (int i = 0; i < 40; i++) {
      b.rewarded(calm + i);
    }
    assertThat(b.spin()).isEqualTo(IdleStrategy.LOW_LATENCY.spin().toNanos());
    assertThat(b.spinAndYield())
        .isEqualTo(
            IdleStrategy.LOW_LATENCY.spin().toNanos() + IdleStrategy.LOW_LATENCY.yield().toNanos());
  }

  @Test
  void whileTheMachineStaysOversubscribedSpinsThatPayOffDoNotGrowTheBudget() {
    SpinBudget b = new SpinBudget(IdleStrategy.LOW_LATENCY);
    long now = 1_000_000_000L;
    for (int i = 0; i < 40; i++) {
      b.preempted(1_000_000, now);
    }
    assertThat(b.spin()).isZero();
    // Work keeps arriving during short spins, but the last preemption is recent: stay down.
    for (int i = 0; i < 40; i++) {
      b.rewarded(now + SpinBudget.CALM_NANOS - 1);
    }
    assertThat(b.spinAndYield()).isZero();
    // A preemption later restarts the calm period.
    b.preempted(1_000_000, now + SpinBudget.CALM_NANOS);
    b.rewarded(now + SpinBudget.CALM_NANOS + 1);
    assertThat(b.spinAndYield()).isZero();
    b.rewarded(now + 2 * SpinBudget.CALM_NANOS);
    assertThat(b.spin()).isPositive();
  }

  @Test
  void theRunnableThreadsAreReadWhereTheMachineSaysAndTheCheckNeverGrowsTheBudget() {
    int runnable = SpinBudget.runnableThreads();
    if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/loadavg"))) {
      assertThat(runnable).as("this thread at least").isPositive();
    } else {
      assertThat(runnable).isEqualTo(-1);
    }
    SpinBudget b = new SpinBudget(IdleStrategy.LOW_LATENCY);
    long before = b.spinAndYield();
    b.checkLoad(0);
    b.checkLoad(1); // within the check interval: not read again
    assertThat(b.spinAndYield()).isLessThanOrEqualTo(before);
    assertThat(b.preemptions()).as("a load check is not a preemption").isZero();
  }

  @Test
  void aCarrierNeverPreemptedGrowsAtOnce() {
    SpinBudget b = new SpinBudget(IdleStrategy.DEFAULT);
    b.rewarded(0); // nothing to grow, and no calm period to wait for
    assertThat(b.spin()).isEqualTo(IdleStrategy.DEFAULT.spin().toNanos());
  }
}
