package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentType;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.swarm.Swarm;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CfnServer.Builder#agentType} refuses the names the node keeps for its own agents (a type
 * registered first would take their messages: a {@code cfn-loop} type would stand in for every
 * loop's coordinator), naming the reserved name and why; other names, also ones that merely begin
 * like a reserved one, are taken. And every agent type a running node registers for itself falls
 * under a reserved name.
 */
class ReservedAgentTypesTest {
  @TempDir Path home;

  private static AgentType type(String name) {
    return AgentType.of(name, id -> (m, ctx) -> {});
  }

  @Test
  void theNodesOwnAgentTypeNamesAreRefusedWithTheReason() {
    for (String name :
        List.of(
            "cfn-loop",
            "cfn-loop-call",
            LoopRunner.INDEX.type(),
            "cfn-server",
            LoopRuns.ACCEPTED.type(),
            Swarms.REGISTRY.type(),
            LoopVerdicts.ID.type(),
            "cfn-flow-run",
            "cfn-flow-task",
            Swarm.ROUND_AGENT_TYPE,
            "cfn-swarm-ledger")) {
      CfnServer.Builder b = CfnServer.builder(home);
      assertThatThrownBy(() -> b.agentType(type(name)))
          .as(name)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("agent type '" + name + "' is reserved")
          .hasMessageContaining("the node's own agents")
          .hasMessageContaining("fix: give the type another name");
    }
    assertThatThrownBy(() -> CfnServer.builder(home).agentType(type("cfn-loop")))
        .hasMessageContaining("coordinators");
  }

  @Test
  void otherNamesAreTaken() {
    for (String name : List.of("echo", "cfn-loopy", "cfnloop", "my-cfn-loop", "cfn-serverless")) {
      assertThatCode(() -> CfnServer.builder(home).agentType(type(name)))
          .as(name)
          .doesNotThrowAnyException();
    }
  }

  @Test
  void everyTypeTheNodeRegistersForItselfIsReserved() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      List<String> own =
          List.of(
              Node.EVENTS.type(),
              LoopRuns.ACCEPTED.type(),
              Swarms.REGISTRY.type(),
              LoopVerdicts.ID.type(),
              "cfn-loop",
              "cfn-loop-call",
              LoopRunner.INDEX.type());
      for (String t : own) {
        assertThat(node.server.runtime().isRegistered(t)).as(t).isTrue();
        assertThat(CfnServer.reservedPrefix(t)).as(t).isPresent();
      }
    }
  }
}
