package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks 4 and 6 against a node in a child JVM that is SIGKILLed: the real node loses and
 * duplicates nothing; a node whose store loses commits fails the reliability check; a node that
 * takes 10 s to start fails the recovery check.
 */
@Timeout(600)
class CrashChecksTest {
  @TempDir Path work;

  @Test
  void reliableMessagesSurviveKillsAndFailingHandlersExactlyOnce() throws Exception {
    CheckResult r =
        new ReliabilityCheck(CrashNode.Faults.NONE)
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.figures())
        .containsEntry("expected", 600L)
        .containsEntry("lost", 0L)
        .containsEntry("duplicated", 0L)
        .containsEntry("killsDuringTraffic", 1);
    assertThat(r.measured()).isEqualTo(100.0);
    assertThat(r.passed()).as(r.verdict()).isTrue();
  }

  @Test
  void failsWhenTheStoreLosesCommits() throws Exception {
    CheckResult r =
        new ReliabilityCheck(new CrashNode.Faults(50, 0))
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).isFalse();
    assertThat((long) r.figures().get("lost")).isPositive();
    assertThat(r.measured()).isLessThan(99.9);
  }

  @Test
  void recoveryFailsWhenTheNodeTakesTenSecondsToStart() throws Exception {
    CheckResult r =
        new RecoveryCheck(new CrashNode.Faults(0, 10_000))
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).isFalse();
    assertThat(r.measured()).isGreaterThanOrEqualTo(10.0);
    @SuppressWarnings("unchecked")
    Map<String, Object> audit = (Map<String, Object>) r.figures().get("messagesAudit");
    assertThat(audit).containsEntry("lost", 0L).containsEntry("duplicated", 0L);
  }
}
