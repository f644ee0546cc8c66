package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check 10 through the testkit's fault proxy: cfn's clients finish the work after each fault heals,
 * nothing lost or duplicated; clients that do not retry lose work and fail the check.
 */
@Timeout(600)
class ResilienceCheckTest {
  @TempDir Path work;

  @Test
  void theWorkSurvivesEveryFaultOnBothTargets() throws Exception {
    CheckResult r =
        new ResilienceCheck(ResilienceCheck.Clients.REAL)
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    List<Map<String, Object>> scenarios = scenarios(r);
    assertThat(scenarios).hasSize(10);
    assertThat(scenarios)
        .allSatisfy(
            s -> {
              // a loaded machine may leave work unfinished at the deadline (the scenario fails);
              // nothing the clients finished with is ever lost or duplicated
              assertThat(s.get("lost")).as(s.toString()).isEqualTo(0);
              assertThat(s.get("duplicated")).as(s.toString()).isEqualTo(0);
              assertThat((int) s.get("completed") + (int) s.get("unfinished"))
                  .as(s.toString())
                  .isEqualTo(s.get("items"));
              if (s.get("passed").equals(true)) {
                assertThat(s.get("unfinished")).as(s.toString()).isEqualTo(0);
              }
            });
    assertThat(r.measured())
        .isEqualTo(
            100.0 * scenarios.stream().filter(s -> s.get("passed").equals(true)).count() / 10);
  }

  @Test
  void failsWhenTheClientsDoNotRetry() throws Exception {
    CheckResult r =
        new ResilienceCheck(new ResilienceCheck.Clients(false))
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).as(r.verdict()).isFalse();
    assertThat(scenarios(r))
        .filteredOn(s -> s.get("fault").equals("reset"))
        .allSatisfy(s -> assertThat((int) s.get("lost")).as(s.toString()).isPositive());
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> scenarios(CheckResult r) {
    return (List<Map<String, Object>>) r.figures().get("scenarios");
  }
}
