package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentRuntime;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link GraphRunner#add}: a graph given to a runner already built (a server's submissions). */
class GraphRunnerAddTest {
  private final AgentRuntime rt = AgentRuntime.builder().carriers(2).build();

  @AfterEach
  void tearDown() {
    rt.close();
  }

  @Test
  void aGraphAddedAfterBuildRunsAndANameIsTakenOnce() throws Exception {
    new Workers().register(rt);
    try (GraphRunner runner = GraphRunner.builder(rt).build()) {
      TaskGraph g =
          TaskGraph.builder("late")
              .sequence(
                  TaskSpec.of("a").agent("upper").input("hi"),
                  TaskSpec.of("b").agent("echo").input(s -> s.result("a").orElseThrow()))
              .build();
      assertThat(runner.graphNames()).isEmpty();
      assertThat(runner.add(g)).isTrue();
      assertThat(runner.add(g)).as("the same name again changes nothing").isFalse();
      assertThat(runner.graphNames()).containsExactly("late");
      RunOutcome o = runner.start("late", "r1", Map.of()).outcome().get(30, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(o.result("b")).isEqualTo("HI!");
    }
  }

  @Test
  void aGraphForAnUnknownAgentTypeIsRefusedAndNotAdded() {
    try (GraphRunner runner = GraphRunner.builder(rt).build()) {
      TaskGraph g =
          TaskGraph.builder("lost").task(TaskSpec.of("a").agent("nobody").input("x")).build();
      assertThatThrownBy(() -> runner.add(g))
          .isInstanceOf(GraphValidationException.class)
          .hasMessageContaining("'nobody'")
          .hasMessageContaining("fix:");
      assertThat(runner.graphNames()).isEmpty();
    }
  }
}
