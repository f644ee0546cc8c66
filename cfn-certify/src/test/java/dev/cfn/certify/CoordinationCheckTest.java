package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Check 3 on real swarms, and on a swarm with a member that never answers. */
@Timeout(300)
class CoordinationCheckTest {
  @TempDir Path work;

  @Test
  void everySizeCompletesARoundWithConsensus() throws Exception {
    CheckResult r =
        new CoordinationCheck(CoordinationCheck.ANSWERING_MEMBER)
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).as(r.verdict()).isTrue();
    assertThat(r.measured()).isEqualTo(1_000);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rounds = (List<Map<String, Object>>) r.figures().get("rounds");
    assertThat(rounds).hasSize(2);
    assertThat(rounds.get(1)).containsEntry("replies", 1_000).containsEntry("decision", "yes");
  }

  /** Members that vote the other way round: the majority decides "no", so the check fails. */
  @Test
  void failsWhenTheRoundDecidesOtherwiseThanTheMembersVoted() throws Exception {
    Function<AgentId, Agent> contrary =
        id -> {
          String vote = Integer.parseInt(id.key()) % 3 == 0 ? "yes" : "no";
          return (m, ctx) -> {
            if (m.isRequest()) {
              ctx.reply(vote);
            } else {
              ctx.send(m.sender(), vote);
            }
          };
        };
    CheckResult r =
        new CoordinationCheck(contrary).run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).isFalse();
    assertThat(r.measured()).isZero();
    assertThat(r.verdict()).contains("decided no instead of yes");
  }

  @Test
  void failsWhenOneMemberInAHundredNeverAnswers() throws Exception {
    Function<AgentId, Agent> members =
        id ->
            id.key().endsWith("7") && Integer.parseInt(id.key()) % 100 == 7
                ? (m, ctx) -> {}
                : CoordinationCheck.ANSWERING_MEMBER.apply(id);
    Profile p = TestProfiles.tiny();
    Profile shortDeadline =
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
            // long enough for the 99 answering members on a loaded machine: the round can only
            // fail by the member that never answers, not by the others being slow
            java.time.Duration.ofSeconds(15),
            p.reliabilityMessages(),
            p.reliabilityChains(),
            p.reliabilityKills(),
            p.failEvery(),
            p.recoveryKills(),
            p.killMinMs(),
            p.killMaxMs(),
            p.integrityRecords(),
            p.uptime(),
            p.uptimeKills(),
            p.monitoring(),
            p.resilienceRounds(),
            p.faultHold());
    CheckResult r = new CoordinationCheck(members).run(TestProfiles.context(shortDeadline, work));
    assertThat(r.passed()).isFalse();
    assertThat(r.measured()).isZero();
    assertThat(r.verdict()).contains("99 of 100 replied");
  }
}
