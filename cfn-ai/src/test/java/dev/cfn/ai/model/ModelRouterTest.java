package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Routing by frontmatter, rules and default, and fallback across two real loopback servers. */
class ModelRouterTest {
  private final ModelServer primary = ModelServer.start();
  private final ModelServer secondary = ModelServer.start();
  private final FakeTime time = new FakeTime();
  private static final ChatRequest HELLO = ChatRequest.builder().user("hello").build();

  @AfterEach
  void stop() {
    primary.close();
    secondary.close();
  }

  /** The one-rule set-up of the original system: main chat on Anthropic, the rest elsewhere. */
  private ModelConfig config(int failureThreshold) {
    String yaml =
        """
        providers:
          anthropic:
            base-url: %s
            api-key: ${ANTHROPIC_API_KEY}
            model: claude-sonnet-4-5
            models: {haiku: claude-haiku-4-5}
            retry: {max-attempts: 2, initial-backoff: 100ms}
            circuit-breaker: {failure-threshold: %d, cool-down: 30s}
          cheap:
            kind: openai
            base-url: %s
            api-key: ${CHEAP_API_KEY:-}
            model: glm-4.6
            models: {air: glm-4.5-air}
            retry: {max-attempts: 2, initial-backoff: 100ms}
        routes:
          - agent: main-*
            provider: anthropic
            fallbacks: [{provider: cheap}]
          - type: validator
            provider: cheap
            model: air
        default:
          provider: cheap
          fallbacks: [{provider: anthropic, model: haiku}]
        """
            .formatted(primary.anthropicBaseUrl(), failureThreshold, secondary.openAiBaseUrl());
    return ModelConfig.parse(yaml, "providers.yaml", Map.of("ANTHROPIC_API_KEY", "sk-ant-test"));
  }

  private ModelRouter router(ModelConfig config) {
    return new ModelRouter(config, c -> ResilientProvider.of(c, time, new SplittableRandom(7)));
  }

  @Test
  void frontmatterThenRulesThenTheDefault() {
    try (ModelRouter router = router(config(5))) {
      RoutedModel main = router.resolve("main-chat", "coordinator");
      assertThat(main.target()).isEqualTo(new ModelTarget("anthropic", "claude-sonnet-4-5"));
      assertThat(main.fallbacks()).containsExactly(new ModelTarget("cheap", "glm-4.6"));
      assertThat(main.reason()).isEqualTo("routes[0]");

      RoutedModel validator = router.resolve("reviewer-2", "validator");
      assertThat(validator.target()).isEqualTo(new ModelTarget("cheap", "glm-4.5-air"));
      assertThat(validator.fallbacks()).isEmpty();
      assertThat(validator.reason()).isEqualTo("routes[1]");

      RoutedModel coder = router.resolve("coder", "implementer");
      assertThat(coder.target()).isEqualTo(new ModelTarget("cheap", "glm-4.6"));
      assertThat(coder.fallbacks())
          .containsExactly(new ModelTarget("anthropic", "claude-haiku-4-5"));
      assertThat(coder.reason()).isEqualTo("default");

      RoutedModel pinned = router.resolve("main-chat", "coordinator", "cheap", "air");
      assertThat(pinned.target()).isEqualTo(new ModelTarget("cheap", "glm-4.5-air"));
      assertThat(pinned.fallbacks()).as("a pinned provider has no fallbacks").isEmpty();
      assertThat(pinned.reason()).isEqualTo("frontmatter");

      RoutedModel providerOnly = router.resolve("coder", null, "anthropic", "inherit");
      assertThat(providerOnly.target())
          .isEqualTo(new ModelTarget("anthropic", "claude-sonnet-4-5"));

      RoutedModel modelOnly = router.resolve("main-chat", null, null, "haiku");
      assertThat(modelOnly.target()).isEqualTo(new ModelTarget("anthropic", "claude-haiku-4-5"));
      assertThat(modelOnly.fallbacks()).containsExactly(new ModelTarget("cheap", "glm-4.6"));

      assertThatThrownBy(() -> router.resolve("coder", null, "zai", null))
          .isInstanceOf(ModelConfigException.class)
          .hasMessageContaining("agent 'coder'")
          .hasMessageContaining("provider 'zai', which is not configured")
          .hasMessageContaining("[anthropic, cheap]");
    }
  }

  @Test
  void anthropicProvidersKnowClaudeCodesAliasesUnlessTheirModelsSayOtherwise() {
    String yaml =
        """
        providers:
          anthropic:
            base-url: %s
            model: haiku
          pinned:
            kind: anthropic
            base-url: %s
            model: claude-sonnet-4-5
            models: {sonnet: claude-sonnet-4-6-preview}
        """
            .formatted(primary.anthropicBaseUrl(), primary.anthropicBaseUrl());
    ModelConfig config = ModelConfig.parse(yaml, "providers.yaml", Map.of());
    try (ModelRouter router = router(config)) {
      assertThat(router.resolve("a", null, "anthropic", "sonnet").model())
          .isEqualTo("claude-sonnet-4-5");
      assertThat(router.resolve("a", null, "anthropic", "opus").model())
          .isEqualTo("claude-opus-4-1");
      assertThat(router.resolve("a", null, "anthropic", "inherit").model())
          .as("inherit is no model: the provider's default, itself an alias")
          .isEqualTo("claude-haiku-4-5");
      assertThat(router.resolve("a", null, "anthropic", "claude-3-7-sonnet-latest").model())
          .isEqualTo("claude-3-7-sonnet-latest");
      assertThat(router.resolve("a", null, "pinned", "sonnet").model())
          .as("models: overrides the built-in alias")
          .isEqualTo("claude-sonnet-4-6-preview");
      assertThat(router.resolve("a", null, "pinned", "haiku").model())
          .isEqualTo("claude-haiku-4-5");
    }
    // a provider made from the environment alone has them too
    ModelConfig fromEnv = ModelConfig.fromEnvironment(Map.of("ANTHROPIC_API_KEY", "sk-ant-test"));
    try (ModelRouter router = router(fromEnv)) {
      assertThat(router.resolve("a", null, null, "haiku").target())
          .isEqualTo(new ModelTarget("anthropic", "claude-haiku-4-5"));
    }
  }

  @Test
  void aClaudeAliasThatWouldReachAnotherKindUnmappedIsAConfigurationError() {
    try (ModelRouter router = router(config(5))) {
      assertThatThrownBy(() -> router.resolve("coder", "implementer", null, "sonnet"))
          .isInstanceOfSatisfying(
              ModelConfigException.class,
              e -> assertThat(e.key()).isEqualTo("providers.cheap.models"))
          .hasMessageContaining("agent 'coder' (default)")
          .hasMessageContaining("'sonnet' is a Claude Code alias")
          .hasMessageContaining("provider 'cheap' (openai kind)")
          .hasMessageContaining("models: {sonnet: MODEL} on provider 'cheap'");
      assertThatThrownBy(() -> router.resolve("main-chat", null, "cheap", "opus"))
          .isInstanceOf(ModelConfigException.class)
          .hasMessageContaining("'opus'");
      assertThat(router.resolve("coder", "implementer", null, "inherit").target())
          .as("inherit stays no model")
          .isEqualTo(new ModelTarget("cheap", "glm-4.6"));
    }
    String mapped =
        """
        providers:
          cheap:
            kind: openai
            base-url: %s
            model: glm-4.6
            models: {sonnet: glm-4.6-plus}
        """
            .formatted(secondary.openAiBaseUrl());
    try (ModelRouter router = router(ModelConfig.parse(mapped, "providers.yaml", Map.of()))) {
      assertThat(router.resolve("coder", null, null, "sonnet").target())
          .isEqualTo(new ModelTarget("cheap", "glm-4.6-plus"));
    }
  }

  @Test
  void anAliasCfnDoesNotKnowGoesToAnthropicUnchangedAndIsRefusedElsewhere() {
    primary.script().on(Match.any()).reply(Reply.text("from fable"));
    try (ModelRouter router = router(config(5))) {
      RoutedModel main = router.resolve("main-chat", null, null, "fable");
      assertThat(main.target()).isEqualTo(new ModelTarget("anthropic", "fable"));
      assertThat(main.chat(HELLO).text()).isEqualTo("from fable");
      assertThat(primary.requests()).extracting(r -> r.model()).containsExactly("fable");

      assertThatThrownBy(() -> router.resolve("coder", "implementer", null, "fable"))
          .isInstanceOfSatisfying(
              ModelConfigException.class,
              e -> assertThat(e.key()).isEqualTo("providers.cheap.models"))
          .hasMessageContaining("agent 'coder' (default)")
          .hasMessageContaining("'fable' looks like a Claude model alias cfn does not know")
          .hasMessageContaining("provider 'cheap' (openai kind)")
          .hasMessageContaining("models: {fable: MODEL}");
      // a provider named in the frontmatter takes the word as its own model's name
      assertThat(router.resolve("coder", null, "cheap", "mistral").target())
          .isEqualTo(new ModelTarget("cheap", "mistral"));
      // model ids pass to any provider; mapped words resolve
      assertThat(router.resolve("coder", null, null, "glm-4.5").target())
          .isEqualTo(new ModelTarget("cheap", "glm-4.5"));
      assertThat(router.resolve("coder", null, null, "air").target())
          .isEqualTo(new ModelTarget("cheap", "glm-4.5-air"));
    }
  }

  @Test
  void theRoutedModelAsksEachProviderForItsModel() {
    primary.script().on(Match.any()).reply(Reply.text("from anthropic"));
    try (ModelRouter router = router(config(5))) {
      ChatResponse r =
          router.resolve("main-chat", null).chat(HELLO.withModel("ignored-by-routing"));
      assertThat(r.text()).isEqualTo("from anthropic");
    }
    assertThat(primary.requests().getFirst().model()).isEqualTo("claude-sonnet-4-5");
    assertThat(secondary.requests()).isEmpty();
  }

  @Test
  void aFailingPrimaryFallsBackAfterItsRetries() {
    primary.script().on(Match.any()).reply(Reply.overloaded());
    secondary.script().on(Match.any()).reply(Reply.text("from fallback").withUsage(5, 1, 0));
    try (ModelRouter router = router(config(5))) {
      ChatResponse r = router.resolve("main-chat", null).chat(HELLO);
      assertThat(r.text()).isEqualTo("from fallback");
      assertThat(r.model()).isEqualTo("glm-4.6");
    }
    assertThat(primary.requests()).as("max-attempts: 2 on the primary").hasSize(2);
    assertThat(secondary.requests()).hasSize(1);
    assertThat(secondary.requests().getFirst().model()).isEqualTo("glm-4.6");
  }

  @Test
  void anOpenCircuitGoesStraightToTheFallback() {
    primary.script().on(Match.any()).reply(Reply.status(503, "unavailable"));
    secondary.script().on(Match.any()).reply(Reply.text("from fallback"));
    try (ModelRouter router = router(config(2))) {
      RoutedModel main = router.resolve("main-chat", null);
      // Each call fails both its attempts; two failed calls open the circuit.
      assertThat(main.chat(HELLO).text()).isEqualTo("from fallback");
      assertThat(main.chat(HELLO).text()).isEqualTo("from fallback");
      assertThat(main.chat(HELLO).text()).isEqualTo("from fallback");
      assertThat(main.stream(HELLO, d -> {}).text()).isEqualTo("from fallback");
    }
    assertThat(primary.requests()).as("the open circuit kept later calls away").hasSize(4);
    assertThat(secondary.requests()).hasSize(4);
  }

  @Test
  void aWrongKeyDoesNotFallBack() {
    primary.requireApiKey("the-right-key");
    secondary.script().on(Match.any()).reply(Reply.text("from fallback"));
    try (ModelRouter router = router(config(5))) {
      assertThatThrownBy(() -> router.resolve("main-chat", null).chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class, e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.AUTH));
    }
    assertThat(primary.requests()).hasSize(1);
    assertThat(secondary.requests()).isEmpty();
  }

  @Test
  void aStreamFallsBackOnlyWhileNothingWasDelivered() {
    primary
        .script()
        .on(Match.any())
        .reply(Reply.text("partial answer that breaks off somewhere").cutStreamAfter(4));
    secondary.script().on(Match.any()).reply(Reply.text("from fallback"));
    Servers.Recorder recorder = new Servers.Recorder();
    try (ModelRouter router = router(config(5))) {
      assertThatThrownBy(() -> router.resolve("main-chat", null).stream(HELLO, recorder))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.STREAM_BROKEN));
    }
    assertThat(recorder.texts).isNotEmpty();
    assertThat(secondary.requests()).isEmpty();
  }

  @Test
  void whenEveryCandidateFailsTheErrorNamesEachFailure() {
    primary.script().on(Match.any()).reply(Reply.status(502, "primary gateway"));
    secondary.script().on(Match.any()).reply(Reply.status(500, "fallback broken"));
    try (ModelRouter router = router(config(5))) {
      assertThatThrownBy(() -> router.resolve("main-chat", null).chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class, e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.SERVER))
          .hasMessageContaining("every model routed for agent 'main-chat' failed")
          .hasMessageContaining("anthropic/claude-sonnet-4-5")
          .hasMessageContaining("primary gateway")
          .hasMessageContaining("cheap/glm-4.6")
          .hasMessageContaining("fallback broken");
    }
  }

  @Test
  void providersAreSharedAcrossRoutes() {
    try (ModelRouter router = router(config(5))) {
      assertThat(router.provider("cheap")).isSameAs(router.provider("cheap"));
      assertThat(router.provider("cheap").name()).isEqualTo("cheap");
      assertThatThrownBy(() -> router.provider("nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("[anthropic, cheap]");
    }
  }

  @Test
  void createUsesRealTimeAndWorksEndToEnd() {
    secondary.script().on(Match.any()).reply(Reply.text("real"));
    ModelConfig config =
        ModelConfig.fromEnvironment(
            Map.of("OPENAI_BASE_URL", secondary.openAiBaseUrl(), "OPENAI_MODEL", "m1"));
    try (ModelRouter router = ModelRouter.create(config)) {
      assertThat(router.resolve("anyone", null).chat(HELLO).text()).isEqualTo("real");
    }
    try (ModelProvider direct =
        ModelProvider.create(
            ProviderConfig.builder("direct", ProviderConfig.Kind.OPENAI)
                .baseUrl(secondary.openAiBaseUrl())
                .model("m2")
                .requestTimeout(Duration.ofSeconds(10))
                .build())) {
      assertThat(direct.chat(HELLO).text()).isEqualTo("real");
    }
    assertThat(secondary.requests()).extracting(r -> r.model()).containsExactly("m1", "m2");
    assertThat(secondary.requests().getFirst().headers().get("authorization"))
        .as("no key configured, no Authorization header")
        .isNull();
  }
}
