package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks 1 and 2 on the real bus, and on a bus broken on purpose: one that drops 1 % of the
 * messages, one that delays each by 20 ms. A broken bus must fail the check.
 */
@Timeout(300)
class BusChecksTest {
  @TempDir Path work;

  /** Drops about one message in a hundred, at random. */
  static final BusLink DROPS_ONE_PERCENT =
      (from, to, payload) -> {
        if (ThreadLocalRandom.current().nextInt(100) != 0) {
          to.tell(payload, from);
        }
      };

  @Test
  void latencyOnTheRealBusLosesNothingAndReportsPercentiles() throws Exception {
    CheckResult r =
        new LatencyCheck(BusLink.DIRECT).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.available()).isTrue();
    assertThat(r.figures().get("lost")).isEqualTo(0L);
    assertThat(r.figures().get("samples")).isEqualTo(1_000L);
    assertThat(r.measured()).isPositive();
    assertThat((double) r.figures().get("p99Ms")).isGreaterThanOrEqualTo(r.measured());
    assertThat((List<?>) r.figures().get("histogram")).isNotEmpty();
  }

  @Test
  void latencyFailsWhenTheBusDropsOnePercent() throws Exception {
    CheckResult r =
        new LatencyCheck(DROPS_ONE_PERCENT).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).isFalse();
    assertThat((long) r.figures().get("lost")).isPositive();
    assertThat(r.verdict()).contains("never arrived");
  }

  @Test
  void latencyFailsWhenTheBusTakes20MsPerMessage() throws Exception {
    Profile slowSized =
        new Profile(
            "test-slow",
            100,
            Duration.ZERO,
            40,
            1,
            1,
            Duration.ZERO,
            Duration.ofMillis(100),
            List.of(1),
            Duration.ofSeconds(1),
            1,
            1,
            0,
            1,
            1,
            0,
            0,
            1,
            Duration.ofSeconds(1),
            0,
            Duration.ofSeconds(1),
            1,
            Duration.ofMillis(100));
    BusLink slow =
        (from, to, payload) -> {
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          to.tell(payload, from);
        };
    CheckResult r = new LatencyCheck(slow).run(TestProfiles.context(slowSized, work));
    assertThat(r.figures().get("lost")).isEqualTo(0L);
    assertThat(r.measured()).as("every message waited 20 ms in the bus").isGreaterThan(20);
    assertThat(r.passed()).isFalse();
  }

  @Test
  void throughputOnTheRealBusCountsEveryMessage() throws Exception {
    CheckResult r =
        new ThroughputCheck(BusLink.DIRECT).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.available()).isTrue();
    assertThat(r.figures().get("lost")).isEqualTo(0L);
    assertThat(r.figures().get("arrived")).isEqualTo(r.figures().get("sent"));
    assertThat(r.measured()).isPositive();
    assertThat((List<?>) r.figures().get("series")).isNotEmpty();
    assertThat(r.figures()).containsKey("lowestSampleMsgPerSecond");
  }

  @Test
  void throughputFailsWhenTheBusStallsForPartOfTheWindow() throws Exception {
    // every send waits while the bus is stalled: from 0.3 s to 1.1 s after the first send, which
    // covers most of the tiny profile's window (0.2 s of warm-up, then 0.6 s measured); on a
    // machine with CPU to spare the rate over the whole window still meets the target, so only
    // the samples catch the stall
    long[] first = {0};
    BusLink stalls =
        (from, to, payload) -> {
          long now = System.nanoTime();
          long t0;
          synchronized (first) {
            if (first[0] == 0) {
              first[0] = now;
            }
            t0 = first[0];
          }
          long until = t0 + 1_100_000_000L;
          if (now - t0 >= 300_000_000L && now - until < 0) {
            try {
              Thread.sleep(Math.max(1, (until - now) / 1_000_000));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          to.tell(payload, from);
        };
    CheckResult r =
        new ThroughputCheck(stalls).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.figures().get("lost")).isEqualTo(0L);
    assertThat(r.passed()).as(r.verdict()).isFalse();
    assertThat((double) r.figures().get("lowestSampleMsgPerSecond")).isLessThan(100_000);
    assertThat(r.verdict()).contains("NOT sustained");
  }

  @Test
  void throughputFailsWhenTheBusDropsOnePercent() throws Exception {
    CheckResult r =
        new ThroughputCheck(DROPS_ONE_PERCENT).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).isFalse();
    assertThat((long) r.figures().get("lost")).isPositive();
    assertThat(r.verdict()).contains("lost");
  }
}
