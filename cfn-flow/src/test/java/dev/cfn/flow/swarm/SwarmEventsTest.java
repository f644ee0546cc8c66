package dev.cfn.flow.swarm;

import static dev.cfn.flow.swarm.Members.eventually;
import static dev.cfn.flow.swarm.Members.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A swarm publishes its members joining and leaving, the messages its topology refuses (with the
 * rule) and its rounds on {@code cfn.flow.swarm.*}, with the swarm's name as the source; and only
 * while someone subscribes.
 */
class SwarmEventsTest {
  private final Members members = new Members();
  private final AgentRuntime rt = Members.runtime(members);
  private final Queue<SwarmEvent> seen = new ConcurrentLinkedQueue<>();
  private final Queue<String> topics = new ConcurrentLinkedQueue<>();

  @AfterEach
  void close() {
    rt.close();
  }

  private void observe(String pattern) {
    rt.register(
        AgentType.of(
            "observer",
            id ->
                (m, ctx) -> {
                  if (m.payload() instanceof SwarmEvent e) {
                    seen.add(e);
                    topics.add(m.topic().type() + "@" + m.topic().source());
                  }
                }));
    rt.subscribe(pattern, AgentId.of("observer", "1"));
  }

  private <T extends SwarmEvent> List<T> events(Class<T> kind) {
    return seen.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  @Test
  void joinsLeavesAndRefusalsArePublishedWithTheRule() {
    observe("cfn.flow.swarm.#");
    Swarm s = Swarm.builder("crew", rt).topology(Topology.STAR).build();
    List<AgentId> ids = Members.join(s, 0, 3);
    assertThat(send(rt, ids.get(1), ids.get(2))).contains("star topology");
    assertThat(s.leave(ids.get(2))).isTrue();
    eventually(() -> events(SwarmEvent.Left.class).size() == 1, "the leave event");
    eventually(() -> events(SwarmEvent.Refused.class).size() == 1, "the refusal event");

    List<SwarmEvent.Joined> joined = events(SwarmEvent.Joined.class);
    assertThat(joined).hasSize(3);
    assertThat(joined.getFirst())
        .isEqualTo(new SwarmEvent.Joined("crew", "member/m0", Role.LEAD, null, 1));
    assertThat(joined).extracting(SwarmEvent.Joined::members).containsExactlyInAnyOrder(1, 2, 3);
    assertThat(events(SwarmEvent.Left.class))
        .containsExactly(new SwarmEvent.Left("crew", "member/m2", 2));
    SwarmEvent.Refused r = events(SwarmEvent.Refused.class).getFirst();
    assertThat(r.from()).isEqualTo("member/m1");
    assertThat(r.to()).isEqualTo("member/m2");
    assertThat(r.topology()).isEqualTo(Topology.STAR);
    assertThat(r.rule())
        .isEqualTo(s.status().recentRefusals().getFirst())
        .contains("star topology: member/m1 may message only the hub member/m0");
    assertThat(r.refused()).isEqualTo(1);
    assertThat(topics)
        .contains(
            "cfn.flow.swarm.joined@crew",
            "cfn.flow.swarm.left@crew",
            "cfn.flow.swarm.refused@crew");
  }

  @Test
  void aRoundPublishesItsStartAndItsEnd() {
    observe("cfn.flow.swarm.round.#");
    Swarm s = Swarm.builder("vote", rt).build();
    List<AgentId> ids = Members.join(s, 0, 4);
    members.answers.put(ids.get(3), Members.SILENT);
    RoundResult result =
        Members.join(
            s.round("ship?").reduce(Reduce.majority()).deadline(Duration.ofMillis(300)).start());
    assertThat(result.deadlinePassed()).isTrue();
    eventually(() -> events(SwarmEvent.RoundFinished.class).size() == 1, "the round's end");

    assertThat(events(SwarmEvent.RoundStarted.class))
        .containsExactly(new SwarmEvent.RoundStarted("vote", 1, 4, "majority", 300));
    SwarmEvent.RoundFinished f = events(SwarmEvent.RoundFinished.class).getFirst();
    assertThat(f.round()).isEqualTo(1);
    assertThat(f.asked()).isEqualTo(4);
    assertThat(f.replied()).isEqualTo(3);
    assertThat(f.missing()).isEqualTo(1).isEqualTo(result.missing().size());
    assertThat(f.unreachable()).isZero();
    assertThat(f.deadlinePassed()).isTrue();
    assertThat(f.decided()).isTrue(); // 3 "yes" of 4 is a majority
    assertThat(events(SwarmEvent.Joined.class)).as("not subscribed to joins").isEmpty();
    assertThat(topics)
        .containsExactly("cfn.flow.swarm.round.started@vote", "cfn.flow.swarm.round.finished@vote");
  }

  @Test
  void nothingIsBuiltWhileNobodySubscribes() {
    Swarm s = Swarm.builder("quiet", rt).topology(Topology.RING).build();
    List<AgentId> ids = Members.join(s, 0, 4);
    assertThat(send(rt, ids.get(0), ids.get(2))).contains("ring topology");
    Members.join(s.round("ok?").start());
    // a subscriber that comes later sees what happens after it, not before
    observe("cfn.flow.swarm.#");
    assertThat(s.leave(ids.get(3))).isTrue();
    eventually(() -> !seen.isEmpty(), "the leave event");
    assertThat(seen).containsExactly(new SwarmEvent.Left("quiet", "member/m3", 3));
    assertThat(s.status().refused()).isEqualTo(1);
    assertThat(s.status().rounds()).isEqualTo(1);
  }
}
