package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad graphs and bad starts are refused before anything runs, naming the task and the fix. */
class ValidationTest {

  @Test
  void aCycleIsRefusedAndNamed() {
    assertThatThrownBy(
            () ->
                TaskGraph.builder("g")
                    .task(TaskSpec.of("start").agent("echo"))
                    .task(TaskSpec.of("a").agent("echo").after("start", "c"))
                    .task(TaskSpec.of("b").agent("echo").after("a"))
                    .task(TaskSpec.of("c").agent("echo").after("b"))
                    .build())
        .isInstanceOf(GraphValidationException.class)
        .hasMessageContaining("graph 'g' has a cycle: ")
        .hasMessageContaining("b -> c -> a -> b")
        .hasMessageContaining("fix: remove one of these dependencies");
  }

  @Test
  void aTaskDependingOnItselfIsRefused() {
    assertThatThrownBy(
            () -> TaskGraph.builder("g").task(TaskSpec.of("a").agent("echo").after("a")).build())
        .isInstanceOf(GraphValidationException.class)
        .hasMessageContaining("task 'a' depends on itself")
        .hasMessageContaining("repeatUntil");
  }

  @Test
  void anUnknownDependencyIsRefusedWithTheFix() {
    assertThatThrownBy(
            () -> TaskGraph.builder("g").task(TaskSpec.of("a").agent("echo").after("plan")).build())
        .isInstanceOf(GraphValidationException.class)
        .hasMessage(
            "graph 'g': task 'a' depends on 'plan', which is not in the graph (fix: add task"
                + " 'plan' or remove it from a's after(...))");
  }

  @Test
  void duplicatesEmptyGraphsAndTasksWithoutAgentsAreRefused() {
    assertThatThrownBy(
            () ->
                TaskGraph.builder("g")
                    .task(TaskSpec.of("a").agent("echo"), TaskSpec.of("a").agent("echo"))
                    .build())
        .hasMessageContaining("task 'a' is added twice");
    assertThatThrownBy(() -> TaskGraph.builder("g").build()).hasMessageContaining("has no task");
    assertThatThrownBy(() -> TaskGraph.builder("g").task(TaskSpec.of("a")).build())
        .hasMessageContaining("task 'a' has no agent (fix: .agent(");
    assertThatThrownBy(() -> TaskSpec.of("a b")).hasMessageContaining("task id 'a b'");
    assertThatThrownBy(() -> TaskGraph.builder("bad name")).hasMessageContaining("graph name");
  }

  @Test
  void aMissingAgentTypeIsRefusedBeforeAnythingRuns() {
    TaskGraph g =
        TaskGraph.builder("g")
            .task(TaskSpec.of("a").agent("echo"))
            .task(TaskSpec.of("b").agent(AgentId.of("reviewer", "1")).after("a"))
            .build();
    try (AgentRuntime rt = AgentRuntime.builder().carriers(1).build()) {
      new Workers().register(rt);
      assertThatThrownBy(() -> GraphRunner.builder(rt).graph(g).build())
          .isInstanceOf(GraphValidationException.class)
          .hasMessage(
              "graph 'g': task 'b' is sent to agent type 'reviewer', which the runtime does not"
                  + " know (fix: runtime.register(AgentType.of(\"reviewer\", ...)) before the"
                  + " runner starts the graph, or correct the type)");
      assertThat(rt.isRegistered("cfn-flow-run")).as("nothing was registered").isFalse();
      assertThat(rt.liveAgents()).isZero();
    }
  }

  @Test
  void badStartsAreRefusedAndStartNothing() {
    TaskGraph g = TaskGraph.builder("g").task(TaskSpec.of("a").agent("echo")).build();
    try (AgentRuntime rt = AgentRuntime.builder().carriers(1).build()) {
      new Workers().register(rt);
      try (GraphRunner runner = GraphRunner.builder(rt).graph(g).build()) {
        int live = rt.liveAgents();
        assertThatThrownBy(() -> runner.start("nope", "r1", Map.of()))
            .hasMessageContaining("no graph 'nope' in this runner")
            .hasMessageContaining("[g]");
        assertThatThrownBy(() -> runner.start("g", "r.1", Map.of()))
            .hasMessageContaining("run id 'r.1'");
        assertThatThrownBy(() -> runner.start("g", "r1", Map.of("a\nb", "x")))
            .hasMessageContaining("state key");
        assertThat(rt.liveAgents()).isEqualTo(live);
      }
      assertThatThrownBy(() -> GraphRunner.builder(rt).reliable().graph(g).build())
          .hasMessageContaining("needs a runtime with a journal");
    }
  }
}
