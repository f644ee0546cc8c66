package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.WAIT;
import static dev.cfn.ai.AgentFixtures.add;
import static dev.cfn.ai.AgentFixtures.definition;
import static dev.cfn.ai.AgentFixtures.provider;
import static dev.cfn.ai.AgentFixtures.saveNote;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.Usage;
import dev.cfn.ai.tool.ToolAudit;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The agent loop against the real loopback model server, in both protocols: direct answers, tool
 * round trips with real registered tools, denied tools, and the turn bound.
 */
class LlmAgentTest {
  private ModelServer server;
  private AgentRuntime rt;
  private final List<String> notes = new CopyOnWriteArrayList<>();
  private final ToolRegistry registry = new ToolRegistry();

  @BeforeEach
  void start() {
    server = ModelServer.start();
    rt = AgentFixtures.runtime();
    registry.register(saveNote(notes));
    registry.register(add());
  }

  @AfterEach
  void stop() {
    rt.close();
    server.close();
  }

  private Object ask(String type, Object task) {
    return rt.request(AgentId.of(type, "1"), task, WAIT).join().payload();
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void aTaskIsAnsweredDirectly(ProviderConfig.Kind kind) {
    server.script().on(Match.any()).reply(Reply.text("Paris.").withUsage(30, 5, 0));
    try (ModelProvider model = provider(server, kind)) {
      rt.register(LlmAgent.type("assistant", definition("assistant", "[]"), model, registry));

      Object answer = ask("assistant", new Task("What is the capital of France?"));

      assertThat(answer)
          .isEqualTo(new TaskResult("Paris.", new Usage(30, 5, 0), 1, 0, StopReason.END));
      assertThat(ask("assistant", "And of Italy? (a plain string is a task too)"))
          .isInstanceOf(TaskResult.class);
    }
    RecordedRequest first = server.requests().getFirst();
    assertThat(server.requests()).hasSize(2);
    assertThat(first.system()).contains("You are assistant");
    assertThat(first.lastUserMessage()).isEqualTo("What is the capital of France?");
    assertThat(first.toolNames()).as("tools: [] offers none").isEmpty();
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void aToolCallLoopRunsTheRealToolAndFeedsItsResultBack(ProviderConfig.Kind kind) {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("I saved your note."));
    server.script().on(Match.any()).reply(Reply.toolCall("save_note", "{\"text\":\"buy milk\"}"));
    ToolAudit audit = new ToolAudit();
    try (ModelProvider model = provider(server, kind)) {
      rt.register(
          LlmAgent.builder(definition("scribe", "[save_note, add]"))
              .model(model)
              .tools(registry)
              .audit(audit)
              .type("scribe"));

      Object answer = ask("scribe", new Task("Remember to buy milk"));

      assertThat(answer)
          .isInstanceOfSatisfying(
              TaskResult.class,
              r -> {
                assertThat(r.text()).isEqualTo("I saved your note.");
                assertThat(r.turns()).isEqualTo(2);
                assertThat(r.toolCalls()).isEqualTo(1);
                assertThat(r.stopReason()).isEqualTo(StopReason.END);
              });
    }
    assertThat(notes).containsExactly("buy milk");
    assertThat(server.requests()).hasSize(2);
    assertThat(server.requests().get(0).toolNames()).containsExactlyInAnyOrder("save_note", "add");
    assertThat(server.requests().get(1).hasToolResult()).isTrue();
    assertThat(server.requests().get(1).body().toString()).contains("saved note 1");
    assertThat(audit.recent(AgentId.of("scribe", "1")))
        .singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(ToolAudit.Outcome.OK));
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void aDeniedToolIsNotRunAndTheModelIsToldWhy(ProviderConfig.Kind kind) {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("I may not save notes."));
    server.script().on(Match.any()).reply(Reply.toolCall("save_note", "{\"text\":\"secret\"}"));
    try (ModelProvider model = provider(server, kind)) {
      rt.register(LlmAgent.type("calculator", definition("calculator", "[add]"), model, registry));

      Object answer = ask("calculator", new Task("Save a note"));

      assertThat(answer).isInstanceOf(TaskResult.class);
      assertThat(((TaskResult) answer).text()).isEqualTo("I may not save notes.");
    }
    assertThat(notes).as("the denied tool never ran").isEmpty();
    assertThat(server.requests().get(0).toolNames())
        .as("only permitted tools are offered")
        .containsExactly("add");
    String fedBack = server.requests().get(1).body().toString();
    assertThat(fedBack).contains("Permission denied").contains("save_note");
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void theTurnBoundStopsAModelThatAlwaysCallsTools(ProviderConfig.Kind kind) {
    server.script().on(Match.any()).reply(Reply.toolCall("save_note", "{\"text\":\"again\"}"));
    try (ModelProvider model = provider(server, kind)) {
      rt.register(
          LlmAgent.builder(definition("looper", "[save_note]"))
              .model(model)
              .tools(registry)
              .maxTurns(3)
              .type("looper"));

      Object answer = ask("looper", new Task("Keep going"));

      assertThat(answer)
          .isInstanceOfSatisfying(
              TaskFailed.class,
              f -> {
                assertThat(f.kind()).isEqualTo(TaskFailed.Kind.MAX_TURNS);
                assertThat(f.reason()).contains("after 3 model calls").contains("save_note");
              });
    }
    assertThat(server.requests()).hasSize(3);
    assertThat(notes)
        .as("the tools of the last turn are not run: nobody would read their results")
        .hasSize(2);
  }

  @Test
  void theDefinitionsLifecycleSetsTheTurnBound() {
    server.script().on(Match.any()).reply(Reply.toolCall("add", "{\"a\":1,\"b\":2}"));
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI)) {
      rt.register(
          LlmAgent.type(
              "adder",
              definition("adder", "[add]", "lifecycle:\n  max_turns: 2\n"),
              model,
              registry));
      assertThat(ask("adder", new Task("Add forever")))
          .isInstanceOfSatisfying(
              TaskFailed.class, f -> assertThat(f.kind()).isEqualTo(TaskFailed.Kind.MAX_TURNS));
    }
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  void claudeCodesTopLevelMaxTurnsSetsTheTurnBound() {
    server.script().on(Match.any()).reply(Reply.toolCall("add", "{\"a\":1,\"b\":2}"));
    AgentDefinition adder = definition("adder", "[add]", "maxTurns: 3\n");
    assertThat(adder.lifecycle().maxTurns()).isEqualTo(3);
    try (ModelProvider model = provider(server, ProviderConfig.Kind.ANTHROPIC)) {
      rt.register(LlmAgent.type("adder", adder, model, registry));
      assertThat(ask("adder", new Task("Add forever")))
          .isInstanceOfSatisfying(
              TaskFailed.class, f -> assertThat(f.reason()).contains("after 3 model calls"));
    }
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void toolCallsAreCountedInTheRuntimesMeterRegistryByDefault() {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("Saved."));
    server.script().on(Match.any()).reply(Reply.toolCall("save_note", "{\"text\":\"eggs\"}"));
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI)) {
      LlmAgent.builder(definition("scribe", "[save_note]"))
          .model(model)
          .tools(registry)
          .register(rt, "scribe");

      assertThat(ask("scribe", new Task("Remember eggs"))).isInstanceOf(TaskResult.class);
    }
    Counter calls =
        rt.meterRegistry()
            .find(ToolAudit.CALLS)
            .tags("agent-type", "scribe", "tool", "save_note", "outcome", "ok")
            .counter();
    assertThat(calls).as("counted in the runtime's registry").isNotNull();
    assertThat(calls.count()).isEqualTo(1.0);
    assertThat(notes).containsExactly("eggs");
  }

  @Test
  void toolCallsBeyondTheLimitAreRefusedAndTheModelAskedToFinish() {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("Done with one note."));
    server
        .script()
        .on(Match.any())
        .reply(
            Reply.toolCall("save_note", "{\"text\":\"one\"}")
                .withToolCall("save_note", "{\"text\":\"two\"}"));
    try (ModelProvider model = provider(server, ProviderConfig.Kind.ANTHROPIC)) {
      rt.register(
          LlmAgent.builder(definition("scribe", "[save_note]"))
              .model(model)
              .tools(registry)
              .maxToolCalls(1)
              .type("scribe"));
      assertThat(ask("scribe", new Task("Save two notes")))
          .isInstanceOfSatisfying(TaskResult.class, r -> assertThat(r.toolCalls()).isEqualTo(2));
    }
    assertThat(notes).containsExactly("one");
    assertThat(server.requests().get(1).body().toString()).contains("limit of 1 tool calls");
  }

  @Test
  void theRouterPicksTheModelFromTheDefinition() {
    server.script().on(Match.model("test-model")).reply(Reply.text("routed"));
    String yaml =
        """
        providers:
          local:
            kind: anthropic
            base-url: %s
            api-key: test-key
            model: other-model
        """
            .formatted(server.anthropicBaseUrl());
    try (ModelRouter router = ModelRouter.create(ModelConfig.parse(yaml, "test", Map.of()))) {
      rt.register(
          LlmAgent.builder(definition("routed", "[]", "provider: local\nmodel: test-model\n"))
              .router(router)
              .type("routed"));
      assertThat(ask("routed", new Task("Hello")))
          .isInstanceOfSatisfying(TaskResult.class, r -> assertThat(r.text()).isEqualTo("routed"));
    }
    assertThat(server.requests().getFirst().model()).isEqualTo("test-model");
  }

  @Test
  void aMessageThatIsNotATaskIsRefusedWithoutCallingTheModel() {
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI)) {
      rt.register(LlmAgent.type("assistant", definition("assistant", "[]"), model, registry));
      assertThat(ask("assistant", 42))
          .isInstanceOfSatisfying(
              TaskFailed.class,
              f -> {
                assertThat(f.kind()).isEqualTo(TaskFailed.Kind.INVALID_TASK);
                assertThat(f.reason()).contains("java.lang.Integer").contains("new Task");
              });
      assertThat(ask("assistant", "  "))
          .isInstanceOfSatisfying(
              TaskFailed.class, f -> assertThat(f.reason()).contains("blank string"));
    }
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void aModelErrorIsAnsweredWithTaskFailed() {
    server.script().on(Match.any()).reply(Reply.status(400, "model 'nope' does not exist"));
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI)) {
      rt.register(LlmAgent.type("assistant", definition("assistant", "[]"), model, registry));
      assertThat(ask("assistant", new Task("Hi")))
          .isInstanceOfSatisfying(
              TaskFailed.class,
              f -> {
                assertThat(f.kind()).isEqualTo(TaskFailed.Kind.MODEL_ERROR);
                assertThat(f.reason()).contains("does not exist");
              });
    }
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void streamToHandsTheTextToTheListenerAsItArrives(ProviderConfig.Kind kind) {
    server.script().on(Match.any()).reply(Reply.text("streamed words arrive in pieces"));
    StringBuilder seen = new StringBuilder();
    List<String> deltas = new CopyOnWriteArrayList<>();
    rt.register(
        LlmAgent.builder(definition("streamer", "[]"))
            .model(provider(server, kind))
            .streamTo(
                delta -> {
                  deltas.add(delta);
                  seen.append(delta);
                })
            .type("streamer"));
    Object result = ask("streamer", new Task("say it"));
    assertThat(result).isInstanceOf(TaskResult.class);
    assertThat(((TaskResult) result).text()).isEqualTo("streamed words arrive in pieces");
    assertThat(seen.toString()).isEqualTo("streamed words arrive in pieces");
    assertThat(deltas).as("more than one delta").hasSizeGreaterThan(1);
    assertThat(server.requests().getFirst().stream()).isTrue();
  }
}
