package dev.cfn.flow.swarm;

import static dev.cfn.flow.swarm.Members.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.budget.BudgetExhaustedException;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each assignment strategy, and the one budget over all members. */
class AssignmentTest {
  private final Members members = new Members();
  private final AgentRuntime rt = Members.runtime(members);

  @AfterEach
  void close() {
    rt.close();
  }

  @Test
  void roundRobinTakesMembersInTurn() {
    Swarm s = Swarm.builder("s", rt).topology(Topology.MESH).build();
    List<AgentId> ids = Members.join(s, 0, 3);
    List<AgentId> picked = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      picked.add(s.assign(Assignment.roundRobin()));
    }
    assertThat(picked)
        .containsExactly(ids.get(0), ids.get(1), ids.get(2), ids.get(0), ids.get(1), ids.get(2));
  }

  @Test
  void aCapabilityNarrowsTheMembersTheOtherStrategiesPickAmong() {
    Swarm s = Swarm.builder("s", rt).topology(Topology.MESH).build();
    s.join(id(0), "coder", List.of("code"));
    s.join(id(1), "writer", List.of("docs"));
    s.join(id(2), "coder", List.of("code"));
    s.join(id(3), "writer", List.of("docs"));
    List<AgentId> picked = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      picked.add(s.assign(Assignment.capability("code", Assignment.roundRobin())));
    }
    assertThat(picked).containsOnly(id(0), id(2));
    assertThat(picked.subList(0, 2)).containsExactlyInAnyOrder(id(0), id(2));
    assertThat(picked.subList(2, 4)).containsExactlyInAnyOrder(id(0), id(2));
    AgentId sticky = s.assign(Assignment.capability("docs", Assignment.sticky("k")));
    assertThat(sticky).isIn(id(1), id(3));
    for (int i = 0; i < 10; i++) {
      assertThat(s.assign(Assignment.capability("docs", Assignment.sticky("k")))).isEqualTo(sticky);
      assertThat(s.assign(Assignment.capability("CODE", Assignment.leastLoaded())))
          .isIn(id(0), id(2));
    }
    assertThat(Assignment.capability("code"))
        .isEqualTo(Assignment.capability("code", Assignment.leastLoaded()));
    assertThatThrownBy(() -> Assignment.capability("code", Assignment.capability("docs")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not by another capability");
  }

  @Test
  void leastLoadedAvoidsTheMemberWithQueuedAndUnansweredWork() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    rt.register(
        AgentType.builder(
                "slow",
                id ->
                    (m, ctx) -> {
                      release.await();
                      if (m.isRequest()) {
                        ctx.reply("done");
                      }
                    })
            .blocking()
            .build());
    Swarm s = Swarm.builder("s", rt).topology(Topology.MESH).build();
    AgentId slow = AgentId.of("slow", "1");
    s.join(slow);
    Members.join(s, 0, 2);
    // the slow member takes one task and holds it; three more wait in its mailbox
    var held = s.submit("task", Assignment.sticky(keyFor(s, slow)), Members.WAIT);
    for (int i = 0; i < 3; i++) {
      rt.send(slow, "more");
    }
    Members.eventually(
        () -> s.member(slow).orElseThrow().queued() == 3,
        "three messages queued behind the held task");
    assertThat(s.member(slow).orElseThrow().inFlight()).isEqualTo(1);
    for (int i = 0; i < 20; i++) {
      assertThat(s.assign(Assignment.leastLoaded())).isNotEqualTo(slow);
    }
    Set<AgentId> spread = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      spread.add(s.assign(Assignment.leastLoaded()));
    }
    assertThat(spread).as("ties go round").containsExactlyInAnyOrder(id(0), id(1));
    release.countDown();
    assertThat(Members.join(held).payload()).isEqualTo("done");
    Members.eventually(() -> s.member(slow).orElseThrow().inFlight() == 0, "answered");
  }

  /** A sticky key that lands on {@code target}. */
  private static String keyFor(Swarm s, AgentId target) {
    for (int i = 0; ; i++) {
      if (s.assign(Assignment.sticky("k" + i)).equals(target)) {
        return "k" + i;
      }
    }
  }

  private static AgentDefinition definition(String name, String type, List<String> capabilities) {
    return new AgentDefinition(
        name,
        "a " + name,
        List.of(),
        null,
        null,
        type,
        capabilities,
        null,
        null,
        null,
        null,
        "You are " + name + ".",
        null,
        Path.of(name + ".md"));
  }

  @Test
  void capabilityPicksAmongTheMembersWhoseDefinitionOffersIt() {
    Swarm s = Swarm.builder("s", rt).topology(Topology.MESH).build();
    s.join(id(0), definition("reviewer", "reviewer", List.of("review", "security")));
    s.join(id(1), definition("coder", "coder", List.of("code", "test")));
    s.join(id(2), definition("tester", "validator", List.of("Test")));
    assertThat(s.assign(Assignment.capability("review"))).isEqualTo(id(0));
    assertThat(s.assign(Assignment.capability("coder"))).as("by type").isEqualTo(id(1));
    Set<AgentId> testers = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      testers.add(s.assign(Assignment.capability("test")));
    }
    assertThat(testers).containsExactlyInAnyOrder(id(1), id(2));
    assertThatThrownBy(() -> s.assign(Assignment.capability("deploy")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no live member of swarm 's' offers capability 'deploy'")
        .hasMessageContaining("[code, coder, review, reviewer, security, test, validator]");
    assertThat(
            Members.join(s.submit("review this", Assignment.capability("security"), Members.WAIT))
                .sender())
        .isEqualTo(id(0));
  }

  @Test
  void stickyKeepsAKeyOnItsMemberAndMovesOnlyTheKeysOfOneThatLeaves() {
    Swarm s = Swarm.builder("s", rt).topology(Topology.MESH).build();
    Members.join(s, 0, 5);
    Map<String, AgentId> before = new HashMap<>();
    for (int k = 0; k < 200; k++) {
      String key = "session-" + k;
      AgentId first = s.assign(Assignment.sticky(key));
      for (int again = 0; again < 3; again++) {
        assertThat(s.assign(Assignment.sticky(key))).isEqualTo(first);
      }
      before.put(key, first);
    }
    assertThat(new HashSet<>(before.values())).as("keys spread over members").hasSize(5);
    s.leave(id(3));
    for (Map.Entry<String, AgentId> e : before.entrySet()) {
      AgentId now = s.assign(Assignment.sticky(e.getKey()));
      if (e.getValue().equals(id(3))) {
        assertThat(now).isNotEqualTo(id(3));
      } else {
        assertThat(now).as("key %s stays", e.getKey()).isEqualTo(e.getValue());
      }
    }
  }

  @Test
  void anEmptySwarmSaysSo() {
    Swarm s = Swarm.builder("s", rt).build();
    assertThatThrownBy(() -> s.assign(Assignment.roundRobin()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("swarm 's' has no live member");
    Members.join(s, 0, 1);
    rt.stop(id(0));
    assertThatThrownBy(() -> s.assign(Assignment.leastLoaded()))
        .hasMessageContaining("1 on the roster have stopped");
  }

  @Test
  void oneSwarmBudgetCoversEveryMember() {
    Budget budget = Budget.builder("swarm s").maxCalls(3).build();
    Swarm s = Swarm.builder("s", rt).budget(budget).build();
    Members.join(s, 0, 2);
    Budget b0 = s.memberBudget(id(0));
    Budget b1 = s.memberBudget(id(1));
    assertThat(b0.parent()).contains(budget);
    b0.check("m");
    b0.charge(new Usage(10, 5, 0), "m");
    b1.check("m");
    b1.charge(new Usage(20, 5, 0), "m");
    b0.check("m");
    b0.charge(new Usage(1, 1, 0), "m");
    assertThat(s.status().spent().calls()).isEqualTo(3);
    assertThat(s.status().spent().totalTokens()).isEqualTo(42);
    assertThatThrownBy(() -> b1.check("m"))
        .isInstanceOf(BudgetExhaustedException.class)
        .hasMessageContaining("swarm s");
    assertThatThrownBy(() -> s.submit("task", Assignment.roundRobin(), Members.WAIT))
        .isInstanceOf(BudgetExhaustedException.class);
    assertThatThrownBy(() -> s.round("vote").start()).isInstanceOf(BudgetExhaustedException.class);
    assertThat(s.status().rounds()).isZero();
  }
}
