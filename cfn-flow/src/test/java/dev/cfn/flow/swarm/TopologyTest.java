package dev.cfn.flow.swarm;

import static dev.cfn.flow.swarm.Members.id;
import static dev.cfn.flow.swarm.Members.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each topology, enforced on the bus between members, with its edges and live membership. */
class TopologyTest {
  private final Members members = new Members();
  private final AgentRuntime rt = Members.runtime(members);

  @AfterEach
  void close() {
    rt.close();
  }

  private Swarm swarm(Topology t) {
    return Swarm.builder("s", rt).topology(t).build();
  }

  @Test
  void meshLetsEveryMemberMessageEveryOther() {
    Swarm s = swarm(Topology.MESH);
    List<AgentId> ids = Members.join(s, 0, 4);
    for (AgentId a : ids) {
      for (AgentId b : ids) {
        assertThat(send(rt, a, b)).as("%s -> %s", a, b).isEqualTo("sent");
      }
    }
    assertThat(s.status().refused()).isZero();
  }

  @Test
  void starLetsMembersMessageOnlyTheHub() {
    Swarm s = swarm(Topology.STAR);
    List<AgentId> ids = Members.join(s, 0, 4);
    AgentId hub = ids.get(0);
    assertThat(s.status().lead()).isEqualTo(hub);
    assertThat(send(rt, ids.get(1), hub)).isEqualTo("sent");
    assertThat(send(rt, hub, ids.get(2))).isEqualTo("sent");
    assertThat(send(rt, ids.get(1), ids.get(2)))
        .contains("swarm 's' refused the message from member/m1 to member/m2")
        .contains("star topology: member/m1 may message only the hub member/m0");
    assertThat(s.status().refused()).isEqualTo(1);

    // the hub leaves: the next oldest member is the hub
    assertThat(s.leave(hub)).isTrue();
    assertThat(s.status().lead()).isEqualTo(ids.get(1));
    assertThat(send(rt, ids.get(2), ids.get(1))).isEqualTo("sent");
    assertThat(send(rt, ids.get(2), ids.get(3))).contains("star topology");
    assertThat(send(rt, ids.get(2), hub)).as("m0 left: outside the swarm").isEqualTo("sent");
  }

  @Test
  void ringLetsMembersMessageOnlyTheirNeighbours() {
    Swarm s = swarm(Topology.RING);
    List<AgentId> ids = Members.join(s, 0, 5); // m0 m1 m2 m3 m4, closed
    assertThat(send(rt, ids.get(0), ids.get(1))).isEqualTo("sent");
    assertThat(send(rt, ids.get(0), ids.get(4))).as("the ring closes").isEqualTo("sent");
    assertThat(send(rt, ids.get(2), ids.get(1))).isEqualTo("sent");
    assertThat(send(rt, ids.get(0), ids.get(2)))
        .contains(
            "ring topology: member/m0 may message only its neighbours member/m4 and member/m1");
    // m1 leaves: m0 and m2 close the gap
    s.leave(ids.get(1));
    assertThat(send(rt, ids.get(0), ids.get(2))).isEqualTo("sent");
    assertThat(send(rt, ids.get(2), ids.get(0))).isEqualTo("sent");
    assertThat(send(rt, ids.get(2), ids.get(4))).contains("ring topology");
    // m5 joins at the end: between m4 and m0
    Members.join(s, 5, 6);
    assertThat(send(rt, id(5), ids.get(0))).isEqualTo("sent");
    assertThat(send(rt, ids.get(4), id(5))).isEqualTo("sent");
    assertThat(send(rt, ids.get(4), ids.get(0))).contains("ring topology");
  }

  @Test
  void hierarchyRoutesWorkersThroughCoordinatorsToTheLead() {
    Swarm s = swarm(Topology.HIERARCHICAL);
    Members.join(s, 0, 3 + 50); // lead m0, coordinator m1, workers m2..m51, then coordinator m52
    AgentId lead = id(0);
    AgentId c1 = id(1);
    AgentId c2 = id(52);
    assertThat(s.member(c2).orElseThrow().role()).isEqualTo(Role.COORDINATOR);
    Members.join(s, 53, 54); // a worker of c2, the coordinator with fewer workers
    AgentId w1 = id(2);
    AgentId w1b = id(3);
    AgentId w2 = id(53);
    assertThat(s.member(w2).orElseThrow().coordinator()).isEqualTo(c2);

    assertThat(send(rt, w1, c1)).isEqualTo("sent");
    assertThat(send(rt, c1, w1)).isEqualTo("sent");
    assertThat(send(rt, c1, lead)).isEqualTo("sent");
    assertThat(send(rt, lead, c2)).isEqualTo("sent");
    assertThat(send(rt, w1, w1b))
        .contains(
            "hierarchical topology: worker member/m2 may message only its coordinator member/m1");
    assertThat(send(rt, w1, lead)).contains("worker member/m2 may message only its coordinator");
    assertThat(send(rt, w1, c2)).contains("worker member/m2 may message only its coordinator");
    assertThat(send(rt, lead, w1))
        .contains("the lead member/m0 may message only coordinators, not worker member/m2")
        .contains("send it to its coordinator member/m1");
    assertThat(send(rt, c1, c2)).contains("coordinator member/m1 may message only the lead");
    assertThat(send(rt, c2, w1)).contains("coordinator member/m52 may message only the lead");

    SwarmStatus st = s.status();
    assertThat(st.refused()).isEqualTo(6);
    assertThat(st.recentRefusals()).hasSize(6).allMatch(r -> r.startsWith("hierarchical"));
    Counter meter = rt.meterRegistry().get(Swarm.REFUSED_METER).tag("swarm", "s").counter();
    assertThat(meter.count()).isEqualTo(6.0);
  }

  @Test
  void aCoordinatorLeadsAtMostFiftyWorkers() {
    Swarm s = swarm(Topology.HIERARCHICAL);
    Members.join(s, 0, 52); // lead + coordinator + 50 workers
    assertThat(s.status().coordinators()).isEqualTo(1);
    assertThat(workersPerCoordinator(s)).containsExactly(Map.entry(id(1), 50L));

    Members.join(s, 52, 53); // the 51st would-be worker: a second coordinator instead
    assertThat(s.status().coordinators()).isEqualTo(2);
    assertThat(s.member(id(52)).orElseThrow().role()).isEqualTo(Role.COORDINATOR);
    Members.join(s, 53, 53 + 51); // 50 workers fill coordinator 2, the next starts a third
    assertThat(workersPerCoordinator(s))
        .containsEntry(id(1), 50L)
        .containsEntry(id(52), 50L)
        .hasSize(2);
    assertThat(s.member(id(103)).orElseThrow().role()).isEqualTo(Role.COORDINATOR);

    // a worker leaves: its coordinator has room again and takes the next member
    s.leave(id(2));
    Members.join(s, 104, 105);
    assertThat(s.member(id(104)).orElseThrow().coordinator()).isIn(id(1), id(103));

    // a coordinator leaves: everyone is laid out again and no coordinator leads more than 50
    s.leave(id(1));
    assertThat(workersPerCoordinator(s).values()).allMatch(n -> n <= 50);
    assertThat(s.members())
        .filteredOn(m -> m.role() == Role.WORKER)
        .allSatisfy(
            w ->
                assertThat(s.member(w.coordinator()).orElseThrow().role())
                    .isEqualTo(Role.COORDINATOR));
    AgentId someWorker =
        s.members().stream().filter(m -> m.role() == Role.WORKER).findFirst().orElseThrow().id();
    AgentId itsCoordinator = s.member(someWorker).orElseThrow().coordinator();
    assertThat(send(rt, someWorker, itsCoordinator)).isEqualTo("sent");
  }

  private static Map<AgentId, Long> workersPerCoordinator(Swarm s) {
    return s.members().stream()
        .filter(m -> m.role() == Role.WORKER)
        .collect(Collectors.groupingBy(SwarmMember::coordinator, Collectors.counting()));
  }

  @Test
  void autoIsMeshUpToSevenMembersAndHierarchicalFromEight() {
    Swarm s = swarm(Topology.AUTO);
    Members.join(s, 0, 7);
    assertThat(s.status().effective()).isEqualTo(Topology.MESH);
    AgentId a = id(3);
    AgentId b = id(4); // both workers of m1 in the hierarchy kept alongside
    assertThat(send(rt, a, b)).as("7 members: mesh").isEqualTo("sent");

    Members.join(s, 7, 8);
    assertThat(s.status().effective()).isEqualTo(Topology.HIERARCHICAL);
    assertThat(send(rt, a, b)).as("8 members: hierarchical").contains("hierarchical topology");
    assertThat(send(rt, a, id(1))).isEqualTo("sent");

    s.leave(id(7));
    assertThat(s.status().effective()).isEqualTo(Topology.MESH);
    assertThat(send(rt, a, b)).as("7 again: mesh").isEqualTo("sent");
    assertThat(s.status().refused()).isEqualTo(1);
  }

  @Test
  void membersJoinLiveAndLeaveWithoutStopping() {
    Swarm s = swarm(Topology.STAR);
    rt.spawn(id(0));
    rt.spawn(id(1));
    rt.spawn(id(2));
    assertThat(send(rt, id(1), id(2))).as("not members yet").isEqualTo("sent");
    assertThat(s.join(id(0))).isTrue();
    assertThat(s.join(id(0))).as("twice").isFalse();
    s.join(id(1));
    s.join(id(2));
    assertThat(send(rt, id(1), id(2))).contains("star topology");
    assertThat(s.leave(id(2))).isTrue();
    assertThat(s.leave(id(2))).isFalse();
    assertThat(rt.lookup(id(2))).as("still running").isPresent();
    assertThat(send(rt, id(1), id(2))).isEqualTo("sent");
    assertThat(s.status().members()).isEqualTo(2);

    // one agent, one swarm
    Swarm other = Swarm.builder("t", rt).build();
    assertThatThrownBy(() -> other.join(id(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("member of swarm 's'");
    assertThat(other.status().members()).isZero();
    // an unknown type is refused and changes nothing
    assertThatThrownBy(() -> s.join(AgentId.of("nobody", "1")))
        .hasMessageContaining("no agent type 'nobody' is registered");
    assertThat(s.status().members()).isEqualTo(2);

    // close: no rule, no members, agents still running
    s.close();
    assertThat(send(rt, id(1), id(0))).isEqualTo("sent");
    assertThat(s.status().members()).isZero();
    assertThat(rt.lookup(id(1))).isPresent();
    assertThatThrownBy(() -> s.join(id(5))).hasMessageContaining("closed");
  }

  @Test
  void theSwarmItselfAndOutsidersAreNotGoverned() {
    Swarm s = swarm(Topology.RING);
    Members.join(s, 0, 4);
    rt.spawn(id(9)); // not a member
    assertThat(send(rt, id(9), id(2))).isEqualTo("sent");
    assertThat(send(rt, id(0), id(9))).isEqualTo("sent");
    assertThat(Members.join(s.submit("task", Assignment.sticky("k"), Members.WAIT)).payload())
        .isEqualTo("yes");
    assertThat(s.status().refused()).isZero();
  }

  @Test
  void topologyNamesParseAndUnknownOnesSayWhatIsValid() {
    assertThat(Topology.parse(" Hierarchical")).isEqualTo(Topology.HIERARCHICAL);
    assertThatThrownBy(() -> Topology.parse("tree"))
        .hasMessageContaining("unknown topology 'tree'; use one of mesh, hierarchical");
    assertThat(Topology.AUTO.effective(2)).isEqualTo(Topology.MESH);
    assertThat(Topology.AUTO.effective(7)).isEqualTo(Topology.MESH);
    assertThat(Topology.AUTO.effective(8)).isEqualTo(Topology.HIERARCHICAL);
  }
}
