package dev.cfn.flow.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Swarm#allows}: the topology's verdict for showing who may talk to whom, not counted. */
class SwarmAllowsTest {
  private final Members members = new Members();
  private final AgentRuntime rt = Members.runtime(members);

  @AfterEach
  void close() {
    rt.close();
  }

  @Test
  void aStarAllowsSpokesOnlyTheHubAndCountsNothing() {
    Swarm s = Swarm.builder("s", rt).topology(Topology.STAR).build();
    List<AgentId> ids = Members.join(s, 0, 3);
    AgentId hub = ids.get(0);
    assertThat(s.allows(ids.get(1), hub)).isTrue();
    assertThat(s.allows(hub, ids.get(2))).isTrue();
    assertThat(s.allows(ids.get(1), ids.get(2))).isFalse();
    assertThat(s.allows(ids.get(1), Members.id(99))).as("not a member").isFalse();
    assertThat(s.status().refused()).as("asking is not refusing").isZero();
    // the verdict is the bus's: what allows refuses, the route stage refuses
    assertThat(Members.send(rt, ids.get(1), ids.get(2))).contains("star topology");
  }

  @Test
  void aRingAllowsEachMemberItsTwoNeighbours() {
    Swarm s = Swarm.builder("r", rt).topology(Topology.RING).build();
    List<AgentId> ids = Members.join(s, 0, 5);
    assertThat(s.allows(ids.get(0), ids.get(1))).isTrue();
    assertThat(s.allows(ids.get(0), ids.get(4))).isTrue();
    assertThat(s.allows(ids.get(0), ids.get(2))).isFalse();
    assertThat(s.leave(ids.get(1))).isTrue();
    assertThat(s.allows(ids.get(0), ids.get(2))).as("the ring closes over a leaver").isTrue();
  }
}
