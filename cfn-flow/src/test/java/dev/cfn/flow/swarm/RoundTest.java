package dev.cfn.flow.swarm;

import static dev.cfn.flow.swarm.Members.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Coordination rounds: each reduction, the deadline, and a round of 10,000 members. */
class RoundTest {
  private final Members members = new Members();
  private final AgentRuntime rt = Members.runtime(members);

  @AfterEach
  void close() {
    rt.close();
  }

  private Swarm swarmOf(int n) {
    Swarm s = Swarm.builder("s", rt).build();
    Members.join(s, 0, n);
    return s;
  }

  @Test
  void allGathersEveryReply() {
    Swarm s = swarmOf(5);
    members.answers.put(id(2), "no");
    RoundResult r = Members.join(s.round("ship it?").start());
    assertThat(r.asked()).isEqualTo(5);
    assertThat(r.complete()).isTrue();
    assertThat(r.deadlinePassed()).isFalse();
    assertThat(r.missing()).isEmpty();
    assertThat(r.replies())
        .extracting(RoundResult.Reply::member)
        .containsExactlyInAnyOrder(id(0), id(1), id(2), id(3), id(4));
    @SuppressWarnings("unchecked")
    List<Object> all = (List<Object>) r.decision();
    assertThat(all).containsExactlyInAnyOrder("yes", "yes", "no", "yes", "yes");
    assertThat(r.round()).isEqualTo(1);
    assertThat(s.status().rounds()).isEqualTo(1);
  }

  @Test
  void firstEndsWithTheFirstReply() {
    Swarm s = swarmOf(4);
    members.answers.put(id(0), Members.SILENT);
    RoundResult r =
        Members.join(
            s.round("anyone?").reduce(Reduce.first()).deadline(Duration.ofMinutes(5)).start());
    assertThat(r.deadlinePassed()).as("ended long before the deadline").isFalse();
    assertThat(r.replies()).hasSize(1);
    assertThat(r.decision()).isEqualTo("yes");
    assertThat(r.missing()).isEmpty();
  }

  @Test
  void majorityNeedsMoreThanHalfOfTheMembersAsked() {
    Swarm s = swarmOf(5);
    members.answers.put(id(0), "NO");
    members.answers.put(id(1), "no ");
    RoundResult yes = Members.join(s.round("q").reduce(Reduce.majority()).start());
    assertThat(yes.decision()).isEqualTo("yes");
    assertThat(yes.tally()).containsEntry("yes", 3.0).containsEntry("NO", 1.0);

    members.answers.put(id(2), "no");
    RoundResult raw = Members.join(s.round("q").reduce(Reduce.majority()).start());
    assertThat(raw.decided()).as("NO, no and 'no ' are three different votes").isFalse();
    RoundResult normalized =
        Members.join(
            s.round("q")
                .reduce(
                    Reduce.majority(p -> p.toString().strip().toLowerCase(java.util.Locale.ROOT)))
                .start());
    assertThat(normalized.decision()).isEqualTo("no");

    RoundResult even =
        Members.join(
            s.round("q").reduce(Reduce.majority()).to(List.of(id(2), id(3), id(4), id(0))).start());
    // no, yes, yes, NO: yes has 2 of 4, not more than half
    assertThat(even.asked()).isEqualTo(4);
    assertThat(even.decided()).isFalse();
  }

  @Test
  void weightedCountsEachMembersWeight() {
    Swarm s = swarmOf(3);
    members.answers.put(id(0), "A");
    members.answers.put(id(1), "B");
    members.answers.put(id(2), "B");
    Map<AgentId, Double> weight = Map.of(id(0), 3.0, id(1), 1.0, id(2), 1.0);
    RoundResult r = Members.join(s.round("q").reduce(Reduce.weighted(weight::get)).start());
    assertThat(r.decision()).isEqualTo("A");
    assertThat(r.tally()).containsEntry("A", 3.0).containsEntry("B", 2.0);

    Map<AgentId, Double> even = Map.of(id(0), 2.0, id(1), 1.0, id(2), 1.0);
    assertThat(Members.join(s.round("q").reduce(Reduce.weighted(even::get)).start()).decided())
        .as("A has 2 of 4: not more than half")
        .isFalse();
    assertThatThrownBy(() -> s.round("q").reduce(Reduce.weighted(id -> -1)).start())
        .hasMessageContaining("weights are finite and not negative");
  }

  @Test
  void theDeadlineEndsARoundWithMissingReplies() {
    Swarm s = swarmOf(5);
    members.answers.put(id(1), Members.SILENT);
    members.answers.put(id(3), Members.SILENT);
    RoundResult r =
        Members.join(
            s.round("q").reduce(Reduce.majority()).deadline(Duration.ofMillis(300)).start());
    assertThat(r.deadlinePassed()).isTrue();
    assertThat(r.complete()).isFalse();
    assertThat(r.replies()).hasSize(3);
    assertThat(r.missing()).containsExactly(id(1), id(3));
    assertThat(r.decision()).as("3 of 5 asked").isEqualTo("yes");

    members.answers.put(id(0), Members.SILENT);
    RoundResult undecided =
        Members.join(
            s.round("q").reduce(Reduce.majority()).deadline(Duration.ofMillis(300)).start());
    assertThat(undecided.decided()).as("2 of 5 asked").isFalse();
    assertThat(undecided.missing()).containsExactly(id(0), id(1), id(3));
    RoundResult all = Members.join(s.round("q").deadline(Duration.ofMillis(300)).start());
    assertThat(all.decided()).as("all needs every reply").isFalse();
  }

  @Test
  void aRoundOfTenThousandMembersGetsEveryReply() {
    Swarm s = Swarm.builder("big", rt).build();
    for (int i = 0; i < 10_000; i++) {
      s.join(id(i));
    }
    assertThat(s.status().effective()).isEqualTo(Topology.HIERARCHICAL);
    for (int i = 0; i < 4_000; i++) {
      members.answers.put(id(i), "no");
    }
    RoundResult r = Members.join(s.round("q").reduce(Reduce.majority()).start());
    assertThat(r.asked()).isEqualTo(10_000);
    assertThat(r.complete()).isTrue();
    assertThat(r.missing()).isEmpty();
    assertThat(r.unreachable()).isEmpty();
    assertThat(r.replies()).extracting(RoundResult.Reply::member).doesNotHaveDuplicates();
    assertThat(r.decision()).isEqualTo("yes");
    assertThat(r.tally()).containsEntry("yes", 6000.0).containsEntry("no", 4000.0);
  }

  @Test
  void aReplyAfterTheRoundEndedIsDroppedWithoutHarm() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    rt.register(
        AgentType.builder(
                "late",
                id ->
                    (m, ctx) -> {
                      release.await();
                      ctx.send(m.sender(), "yes");
                    })
            .blocking()
            .build());
    Swarm s = swarmOf(2);
    AgentId late = AgentId.of("late", "1");
    s.join(late);
    RoundResult r =
        Members.join(
            s.round("q").reduce(Reduce.majority()).deadline(Duration.ofMillis(200)).start());
    assertThat(r.missing()).containsExactly(late);
    assertThat(r.decision()).as("2 of 3").isEqualTo("yes");
    release.countDown();
    AgentId collector = AgentId.of(Swarm.ROUND_AGENT_TYPE, "s." + r.round());
    Members.eventually(
        () -> rt.lookup(late).orElseThrow().metrics().processed() == 1, "late reply sent");
    Members.eventually(() -> rt.lookup(collector).isEmpty(), "no collector left behind");
    assertThat(rt.lookup(late).orElseThrow().metrics().failures()).isZero();
    // the next round is unaffected
    assertThat(Members.join(s.round("q").start()).complete()).isTrue();
  }

  @Test
  void roundsOnlyAskMembers() {
    Swarm s = swarmOf(2);
    assertThatThrownBy(() -> s.round("q").to(List.of(id(7))))
        .hasMessageContaining("member/m7 is not a member of swarm 's'");
    assertThatThrownBy(() -> s.round("q").deadline(Duration.ZERO))
        .hasMessageContaining("deadline must be positive");
    RoundResult twice = Members.join(s.round("q").to(List.of(id(1), id(1), id(0))).start());
    assertThat(twice.asked()).isEqualTo(2);
    assertThat(twice.complete()).isTrue();
    RoundResult none = Members.join(s.round("q").to(List.of()).start());
    assertThat(none.asked()).isZero();
    assertThat(none.complete()).isTrue();
  }
}
