package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.WAIT;
import static dev.cfn.ai.AgentFixtures.definition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.HostileServer;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The task's one deadline ({@code lifecycle.timeout_ms}, {@link LlmAgent.Builder#timeout}, the
 * budget's wall time) cuts the model call in flight against a server that sends no headers, headers
 * slowly, pings forever or endless content; the provider keeps its defaults (120 s request timeout,
 * four attempts), so only the deadline can end the call. The agent answers the next task.
 */
class LlmAgentDeadlineTest {
  private static final Duration LIMIT = Duration.ofMillis(1500);
  private static final Duration HANG_GUARD = Duration.ofSeconds(30);
  private AgentRuntime rt;

  @BeforeEach
  void start() {
    rt = AgentFixtures.runtime();
  }

  @AfterEach
  void stop() {
    rt.close();
  }

  static Stream<Arguments> attacks() {
    return Stream.of(
        Arguments.of("no headers", HostileServer.silent(), false),
        Arguments.of("no headers", HostileServer.silent(), true),
        Arguments.of("headers slowly", HostileServer.slowHeaders(), false),
        Arguments.of("headers slowly", HostileServer.slowHeaders(), true),
        Arguments.of("pings forever", HostileServer.pings(), true),
        Arguments.of("endless content", HostileServer.endlessContent(), true),
        Arguments.of("endless content", HostileServer.dribbledBody(), false));
  }

  private Object runTwice(
      HostileServer.Behaviour attack,
      boolean streamed,
      AgentDefinition definition,
      UnaryOperator<LlmAgent.Builder> limits,
      String type) {
    try (HostileServer server =
            new HostileServer(
                attack, streamed ? HostileServer.streamedAnswer() : HostileServer.answer());
        ModelProvider model =
            ModelProvider.create(
                ProviderConfig.builder("hostile", ProviderConfig.Kind.OPENAI)
                    .baseUrl(server.baseUrl())
                    .model("m")
                    .build())) {
      LlmAgent.Builder b = LlmAgent.builder(definition).model(model).tools(new ToolRegistry());
      if (streamed) {
        b.streamTo(delta -> {});
      }
      rt.register(limits.apply(b).type(type));
      Object first =
          assertTimeoutPreemptively(
              HANG_GUARD,
              () -> rt.request(AgentId.of(type, "1"), new Task("hello"), WAIT).join().payload());
      assertThat(server.requests()).as("no retry after the deadline").hasSize(1);
      Object second = rt.request(AgentId.of(type, "2"), new Task("hello"), WAIT).join().payload();
      assertThat(second)
          .as("the agent answers the next task")
          .isInstanceOfSatisfying(TaskResult.class, r -> assertThat(r.text()).isEqualTo("fine"));
      return first;
    }
  }

  @ParameterizedTest(name = "{0}, streamed={2}")
  @MethodSource("attacks")
  void lifecycleTimeoutCutsTheCallInFlight(
      String attack, HostileServer.Behaviour behaviour, boolean streamed) {
    Object outcome =
        runTwice(
            behaviour,
            streamed,
            definition("waiter", "[]", "lifecycle:\n  timeout_ms: " + LIMIT.toMillis() + "\n"),
            b -> b,
            "waiter");
    assertThat(outcome)
        .as(attack)
        .isInstanceOfSatisfying(
            TaskFailed.class,
            f -> {
              assertThat(f.kind()).isEqualTo(TaskFailed.Kind.TIMEOUT);
              assertThat(f.reason())
                  .contains("the task's time limit is 1500 ms")
                  .contains("the model call in flight was cancelled");
            });
  }

  @ParameterizedTest(name = "{0}, streamed={2}")
  @MethodSource("attacks")
  void builderTimeoutCutsTheCallInFlight(
      String attack, HostileServer.Behaviour behaviour, boolean streamed) {
    Object outcome =
        runTwice(behaviour, streamed, definition("waiter", "[]"), b -> b.timeout(LIMIT), "waiter");
    assertThat(outcome)
        .as(attack)
        .isInstanceOfSatisfying(
            TaskFailed.class, f -> assertThat(f.kind()).isEqualTo(TaskFailed.Kind.TIMEOUT));
  }

  @ParameterizedTest(name = "{0}, streamed={2}")
  @MethodSource("attacks")
  void budgetWallTimeCutsTheCallInFlight(
      String attack, HostileServer.Behaviour behaviour, boolean streamed) {
    Object outcome =
        runTwice(
            behaviour,
            streamed,
            definition("waiter", "[]"),
            b -> b.budgetPerAgent(id -> Budget.builder("agent " + id).maxWallTime(LIMIT).build()),
            "waiter");
    assertThat(outcome)
        .as(attack)
        .isInstanceOfSatisfying(
            TaskFailed.class,
            f -> {
              assertThat(f.kind()).isEqualTo(TaskFailed.Kind.BUDGET_EXHAUSTED);
              assertThat(f.reason()).contains("wall time limit reached");
            });
  }
}
