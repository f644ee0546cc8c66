package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.cfn.ai.model.ProviderConfig.Kind;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Secrets given as header values are treated like the API key: never echoed by an error or a
 * toString. A literal key in a providers file and plain http:// to another machine are accepted
 * with a warning that names the setting, not the secret.
 */
class HeaderSecretsTest {
  private static final String TOKEN = "tok-0123456789abcdefghijklmnop";
  private final ModelServer server = ModelServer.start();
  private final FakeTime time = new FakeTime();

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void aHeaderSecretEchoedByTheServerIsRedacted() {
    server
        .script()
        .on(Match.any())
        .reply(Reply.status(403, "token " + TOKEN + " (ends in " + TOKEN.substring(18) + ")"));
    ProviderConfig config =
        Servers.config(server, Kind.OPENAI).header("X-Api-Token", TOKEN).build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      ModelException e =
          catchThrowableOfType(
              ModelException.class, () -> p.chat(ChatRequest.builder().user("hi").build()));
      assertThat(e.kind()).isEqualTo(ModelException.Kind.AUTH);
      assertThat(e.getMessage())
          .contains("token " + KeyRedactor.MASK)
          .doesNotContain(TOKEN)
          .doesNotContain(TOKEN.substring(TOKEN.length() / 2));
      assertThat(config.toString()).doesNotContain(TOKEN).contains("X-Api-Token");
      assertThat(p.toString()).doesNotContain(TOKEN);
    }
  }

  @Test
  void aHeaderValueTheClientWouldRefuseIsReportedWithoutItsValue() {
    assertThatThrownBy(
            () ->
                Servers.config(server, Kind.OPENAI)
                    .header("X-Api-Token", TOKEN + "\r\nX-Injected: 1")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the value of X-Api-Token")
        .hasMessageContaining("line break")
        .hasMessageNotContaining(TOKEN);
    String yaml =
        "providers:\n  p:\n    kind: openai\n    base-url: http://localhost:1/v1\n"
            + "    headers: {X-Api-Token: \"${TOKEN}\"}\n";
    assertThatThrownBy(
            () -> ModelConfig.parse(yaml, "providers.yaml", Map.of("TOKEN", TOKEN + "\nX-Evil: 1")))
        .isInstanceOf(ModelConfigException.class)
        .hasMessageContaining("providers.yaml: providers.p")
        .hasMessageNotContaining(TOKEN);
  }

  @Test
  void aKeyWithALineBreakFailsWithoutQuotingIt() {
    ProviderConfig config =
        Servers.config(server, Kind.OPENAI).apiKey("sk-" + TOKEN + "\nX-Evil: 1").build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      ModelException e =
          catchThrowableOfType(
              ModelException.class, () -> p.chat(ChatRequest.builder().user("hi").build()));
      assertThat(e.kind()).isEqualTo(ModelException.Kind.BAD_REQUEST);
      assertThat(e.getMessage()).contains("request header was refused").doesNotContain(TOKEN);
    }
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void aLiteralKeyIsAcceptedWithAWarningThatDoesNotQuoteIt() {
    ModelConfig config =
        ModelConfig.parse(
            "providers:\n  p:\n    kind: openai\n    base-url: https://llm.example.com/v1\n"
                + "    api-key: "
                + TOKEN
                + "\n",
            "providers.yaml",
            Map.of());
    assertThat(config.provider("p").apiKey()).isEqualTo(TOKEN);
    assertThat(config.warnings())
        .singleElement()
        .asString()
        .contains("providers.yaml: providers.p.api-key holds a literal key")
        .contains("${ENV_VAR}")
        .doesNotContain(TOKEN);
    assertThat(config.toString()).doesNotContain(TOKEN);
  }

  @Test
  void plainHttpToAnotherMachineIsAcceptedWithAWarningAndLoopbackWithout() {
    ModelConfig config =
        ModelConfig.parse(
            """
            providers:
              lan:
                kind: openai
                base-url: http://10.1.2.3:8000/v1
                api-key: ${LAN_API_KEY}
              local:
                kind: openai
                base-url: http://localhost:11434/v1
            """,
            "providers.yaml",
            Map.of("LAN_API_KEY", TOKEN));
    assertThat(config.warnings())
        .singleElement()
        .asString()
        .contains("providers.lan.base-url is plain http:// to 10.1.2.3:8000")
        .contains("travel unencrypted")
        .doesNotContain(TOKEN);
  }
}
