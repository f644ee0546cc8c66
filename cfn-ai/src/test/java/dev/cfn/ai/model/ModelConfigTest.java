package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
  private static final String FILE =
      """
      providers:
        anthropic:
          api-key: ${ANTHROPIC_API_KEY}
          model: claude-sonnet-4-5
          models: {sonnet: claude-sonnet-4-5, haiku: claude-haiku-4-5}
          max-tokens: 8192
        zai:
          kind: openai
          base-url: https://api.z.ai/api/paas/v4/
          api-key: ${ZAI_API_KEY}
          model: glm-4.6
          headers: {X-Team: '${TEAM:-core}'}
          request-timeout: 90s
          connect-timeout: 1500ms
          retry: {max-attempts: 6, initial-backoff: 250ms, max-backoff: 1m, max-retry-after: PT2M}
          rate-limit: {requests-per-minute: 60, tokens-per-minute: 200_000, max-wait: 30}
          circuit-breaker: {failure-threshold: 3, cool-down: 45s}
      routes:
        - agent: main-chat
          provider: anthropic
          fallbacks:
            - provider: zai
        - type: validator
          provider: zai
          model: glm-4.5-air
      default:
        provider: zai
        fallbacks: [{provider: anthropic, model: haiku}]
      """;

  @Test
  void readsEveryKeyAndTakesSecretsFromTheEnvironment(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("providers.yaml");
    Files.writeString(file, FILE);

    ModelConfig config =
        ModelConfig.load(
            file, Map.of("ANTHROPIC_API_KEY", "sk-ant-secret-1", "ZAI_API_KEY", "zai-secret-2"));

    ProviderConfig anthropic = config.provider("anthropic");
    assertThat(anthropic.kind()).isEqualTo(ProviderConfig.Kind.ANTHROPIC);
    assertThat(anthropic.baseUrl()).isEqualTo(URI.create("https://api.anthropic.com"));
    assertThat(anthropic.apiKey()).isEqualTo("sk-ant-secret-1");
    assertThat(anthropic.maxTokens()).isEqualTo(8192);
    assertThat(anthropic.resolveModel("haiku")).isEqualTo("claude-haiku-4-5");
    assertThat(anthropic.resolveModel(null)).isEqualTo("claude-sonnet-4-5");

    ProviderConfig zai = config.provider("zai");
    assertThat(zai.kind()).isEqualTo(ProviderConfig.Kind.OPENAI);
    assertThat(zai.baseUrl()).isEqualTo(URI.create("https://api.z.ai/api/paas/v4"));
    assertThat(zai.apiKey()).isEqualTo("zai-secret-2");
    assertThat(zai.headers()).containsEntry("X-Team", "core");
    assertThat(zai.requestTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(zai.connectTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(zai.retry())
        .isEqualTo(
            new ProviderConfig.Retry(
                6, Duration.ofMillis(250), Duration.ofMinutes(1), Duration.ofMinutes(2)));
    assertThat(zai.rateLimit())
        .isEqualTo(new ProviderConfig.RateLimit(60, 200_000, Duration.ofSeconds(30)));
    assertThat(zai.circuit()).isEqualTo(new ProviderConfig.Circuit(3, Duration.ofSeconds(45)));

    assertThat(config.routes())
        .containsExactly(
            new ModelRoute(
                "main-chat",
                null,
                new ModelTarget("anthropic", null),
                List.of(new ModelTarget("zai", null))),
            new ModelRoute(null, "validator", new ModelTarget("zai", "glm-4.5-air"), List.of()));
    assertThat(config.defaultRoute().target()).isEqualTo(new ModelTarget("zai", null));
    assertThat(config.defaultRoute().fallbacks())
        .containsExactly(new ModelTarget("anthropic", "haiku"));
  }

  @Test
  void environmentVariablesOverrideTheFileForTheirProviderOnly() {
    String yaml =
        """
        providers:
          openai:
            base-url: https://file.example/v1
            api-key: file-key
            model: file-model
          ollama:
            kind: openai
            base-url: http://localhost:11434/v1
            model: qwen3:8b
        """;
    ModelConfig config =
        ModelConfig.parse(
            yaml,
            "providers.yaml",
            Map.of("OPENAI_BASE_URL", "http://proxy.example/v1", "OPENAI_API_KEY", "env-key"));

    ProviderConfig openai = config.provider("openai");
    assertThat(openai.baseUrl()).isEqualTo(URI.create("http://proxy.example/v1"));
    assertThat(openai.apiKey()).isEqualTo("env-key");
    assertThat(openai.model()).as("not overridden: OPENAI_MODEL is unset").isEqualTo("file-model");
    assertThat(config.provider("ollama").apiKey())
        .as("the OpenAI key is never sent to another provider")
        .isNull();
    assertThat(config.defaultRoute().target().provider())
        .as("without default:, the first declared provider")
        .isEqualTo("openai");
  }

  @Test
  void theEnvironmentAloneCreatesProviders() {
    ModelConfig config =
        ModelConfig.fromEnvironment(
            Map.of(
                "OPENAI_BASE_URL", "http://localhost:8080/v1",
                "OPENAI_MODEL", "llama",
                "ANTHROPIC_API_KEY", "sk-ant-x",
                "ANTHROPIC_MODEL", "claude-haiku-4-5",
                "UNRELATED", "1"));

    assertThat(config.providers()).containsOnlyKeys("anthropic", "openai");
    assertThat(config.provider("openai").apiKey()).isNull();
    assertThat(config.provider("openai").model()).isEqualTo("llama");
    assertThat(config.provider("anthropic").baseUrl())
        .isEqualTo(URI.create("https://api.anthropic.com"));
    assertThat(config.defaultRoute().target().provider()).isEqualTo("anthropic");
  }

  @Test
  void discoverFallsBackToTheEnvironmentWithoutAFile(@TempDir Path dir) throws IOException {
    ModelConfig fromEnv = ModelConfig.discover(dir, Map.of("OPENAI_API_KEY", "k"));
    assertThat(fromEnv.providers()).containsOnlyKeys("openai");

    Files.createDirectories(dir.resolve(".cfn"));
    Files.writeString(
        dir.resolve(ModelConfig.DEFAULT_FILE),
        "providers:\n  local: {kind: openai, base-url: 'http://127.0.0.1:1/v1', model: m}\n");
    ModelConfig fromFile = ModelConfig.discover(dir, Map.of());
    assertThat(fromFile.providers()).containsOnlyKeys("local");
  }

  @Test
  void errorsNameTheFileTheKeyAndTheFix() {
    assertError(
        "providers:\n  zai: {base-url: 'https://x/v1'}\n", "providers.zai.kind", "kind: openai");
    assertError(
        "providers:\n  openai: {api-key: '${OPENAI_TOKEN}'}\n",
        "providers.openai.api-key",
        "OPENAI_TOKEN, which is not set");
    assertError("providers:\n  openai: {modle: gpt-4o}\n", "providers.openai.modle", "unknown key");
    assertError(
        "providers:\n  openai: {request-timeout: soon}\n",
        "providers.openai.request-timeout",
        "500ms, 30s");
    assertError(
        "providers:\n  openai: {retry: {max-attempts: 0}}\n",
        "providers.openai",
        "retry.max-attempts must be >= 1");
    assertError(
        "providers:\n  openai: {}\nroutes:\n  - {agent: x, provider: zai}\n",
        "routes[0].provider",
        "unknown provider 'zai'; declare it under providers: or use one of [openai]");
    assertError(
        "providers:\n  openai: {}\nroutes:\n  - {provider: openai}\n", "routes[0]", "agent:");
    assertError("providers: {}\n", "providers", "ANTHROPIC_API_KEY or OPENAI_API_KEY");
    assertError("providers: [a, b\n", "(file)", "not valid YAML");
  }

  @Test
  void aMissingFileSaysHowToConfigureProviders(@TempDir Path dir) {
    assertThatThrownBy(() -> ModelConfig.load(dir.resolve("nope.yaml"), Map.of()))
        .isInstanceOf(ModelConfigException.class)
        .hasMessageContaining("nope.yaml")
        .hasMessageContaining("does not exist");
  }

  @Test
  void toStringNeverShowsTheKeyNorHeaderValues() {
    ModelConfig config =
        ModelConfig.parse(
            "providers:\n  zai: {kind: openai, api-key: '${K}', headers: {X-Token: '${T}'}}\n",
            "f.yaml",
            Map.of("K", "zai-very-secret-key", "T", "header-secret"));
    assertThat(config.toString())
        .doesNotContain("zai-very-secret-key")
        .doesNotContain("header-secret")
        .contains("apiKey=" + KeyRedactor.MASK)
        .contains("X-Token");
  }

  private static void assertError(String yaml, String key, String fix) {
    assertThatThrownBy(() -> ModelConfig.parse(yaml, ".cfn/providers.yaml", Map.of()))
        .isInstanceOfSatisfying(
            ModelConfigException.class,
            e -> {
              assertThat(e.source()).isEqualTo(".cfn/providers.yaml");
              assertThat(e.key()).isEqualTo(key);
            })
        .hasMessageStartingWith(".cfn/providers.yaml: " + key + ": ")
        .hasMessageContaining(fix);
  }

  @Test
  void theCircuitBreakerWindowIsReadAndItsMistakesNamed() {
    String base =
        """
        providers:
          p:
            kind: openai
            base-url: http://localhost:8000/v1
            circuit-breaker: %s
        """;
    ModelConfig ok =
        ModelConfig.parse(
            base.formatted("{window-size: 50, failure-rate: 25, half-open-probes: 5}"),
            "providers.yaml",
            Map.of());
    assertThat(ok.provider("p").circuit())
        .as("unset keys keep their defaults")
        .isEqualTo(new ProviderConfig.Circuit(50, 20, 25, Duration.ofSeconds(30), 5));
    assertThatThrownBy(
            () ->
                ModelConfig.parse(
                    base.formatted("{failure-threshold: 3, window-size: 10}"),
                    "providers.yaml",
                    Map.of()))
        .isInstanceOf(ModelConfigException.class)
        .hasMessageContaining("both failure-threshold")
        .hasMessageContaining("fix: keep failure-threshold alone");
    assertThatThrownBy(
            () ->
                ModelConfig.parse(
                    base.formatted("{window-size: 10, minimum-calls: 20}"),
                    "providers.yaml",
                    Map.of()))
        .isInstanceOf(ModelConfigException.class)
        .hasMessageContaining(
            "circuit-breaker.minimum-calls must be 1 to window-size (10), got 20");
    assertThatThrownBy(
            () ->
                ModelConfig.parse(
                    base.formatted("{failure-rate: 150}"), "providers.yaml", Map.of()))
        .isInstanceOf(ModelConfigException.class)
        .hasMessageContaining("failure-rate must be 1 to 100 (percent), got 150");
  }
}
