package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check 5 against a node in a child JVM: a deliberate SIGKILL is reported apart and does not count;
 * a node that crashes by itself under load (after a known number of messages) fails the check, and
 * so does a node that is never ready again after a deliberate SIGKILL (whatever the uptime of the
 * probes counted before it).
 */
@Timeout(300)
class UptimeCheckTest {
  @TempDir Path work;

  /**
   * Only the kill's own downtime is excused: probes down before the signal (refused, or timed out)
   * count, one whose connection broke after the signal and those after it do not.
   */
  @Test
  void onlyProbesSentOrBrokenAfterTheKillSignalAreExcused() {
    long ms = 1_000_000L;
    int total = 40;
    boolean[] up = new boolean[total];
    long[] sent = new long[total];
    long[] broke = new long[total];
    for (int i = 0; i < total; i++) {
      up[i] = i < 10 || i >= 26;
      sent[i] = i * 100 * ms + ms;
      broke[i] = -1;
    }
    long kill = 1_950 * ms; // between probe 19 (sent at 1.901 s) and probe 20
    broke[15] = 1_600 * ms; // refused before the kill: the node's own downtime
    broke[19] = 1_960 * ms; // in flight when the kill landed, its connection broke under it
    sent[21] = -1; // not sent: the previous one still in flight
    UptimeCheck.Excused e =
        UptimeCheck.excused(java.util.List.of(kill), up, sent, broke, total * 100L);
    for (int i = 0; i < total; i++) {
      boolean expected = i >= 19 && i < 26;
      assertThat(e.deliberate()[i]).as("probe " + i).isEqualTo(expected);
    }
    assertThat(e.seconds()).containsExactly(0.65); // kill at 1.95 s, ready again at 2.6 s
    assertThat(e.neverBack()).isZero();
    // never ready again: the rest of the run is excused, and the kill is reported
    boolean[] down = new boolean[total];
    UptimeCheck.Excused never =
        UptimeCheck.excused(java.util.List.of(kill), down, sent, broke, 4000);
    assertThat(never.neverBack()).isEqualTo(1);
    assertThat(never.deliberate()[18]).isFalse();
    assertThat(never.deliberate()[39]).isTrue();
  }

  @Test
  void deliberateKillsAreReportedApartFromUptime() throws Exception {
    CheckResult r = new UptimeCheck(0).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.figures())
        .containsEntry("deliberateKills", 1)
        .containsEntry("unplannedRestarts", 0);
    assertThat((int) r.figures().get("probesCounted")).isLessThan((int) r.figures().get("probes"));
    assertThat((long) r.figures().get("loadAccepted")).isPositive();
    assertThat((long) r.figures().get("loadServerErrors")).isZero();
    int up = (int) r.figures().get("probesUp");
    int counted = (int) r.figures().get("probesCounted");
    assertThat(r.measured()).isEqualTo(100.0 * up / counted);
  }

  @Test
  void failsWhenTheNodeCrashesByItselfUnderLoad() throws Exception {
    Profile p = TestProfiles.tiny();
    Profile noKills =
        new Profile(
            p.name(),
            p.latencyRate(),
            p.latencyWarmup(),
            p.latencySamples(),
            p.throughputPairs(),
            p.throughputInFlight(),
            p.throughputWarmup(),
            p.throughputMeasure(),
            p.coordinationSizes(),
            p.coordinationDeadline(),
            p.reliabilityMessages(),
            p.reliabilityChains(),
            p.reliabilityKills(),
            p.failEvery(),
            p.recoveryKills(),
            p.killMinMs(),
            p.killMaxMs(),
            p.integrityRecords(),
            Duration.ofSeconds(15),
            0,
            p.monitoring(),
            p.resilienceRounds(),
            p.faultHold());
    // the node halts itself (as a SIGKILL would) once its agents have handled 3 messages: few
    // enough for a loaded machine, where the clients got only 17 calls through in 10 s
    CheckResult r = new UptimeCheck(3).run(TestProfiles.context(noKills, work));
    assertThat(r.figures())
        .containsEntry("unplannedRestarts", 1)
        .containsEntry("deliberateKills", 0);
    assertThat((int) r.figures().get("probesDown")).isPositive();
    assertThat(r.passed()).as(r.verdict()).isFalse();
  }

  @Test
  void failsWhenTheNodeNeverComesBackAfterADeliberateKill() throws Exception {
    // the restarted node sleeps a minute before it starts: longer than the rest of the run
    CheckResult r = new UptimeCheck(0, 60_000).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.figures())
        .containsEntry("deliberateKills", 1)
        .containsEntry("deliberateKillsNeverBack", 1);
    assertThat(r.passed()).as(r.verdict()).isFalse();
    assertThat(r.verdict()).contains("never ready again");
  }
}
