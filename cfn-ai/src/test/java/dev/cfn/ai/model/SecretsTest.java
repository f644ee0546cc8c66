package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.cfn.ai.model.ProviderConfig.Kind;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** API keys appear only in the authentication header: never in messages, bodies or toString. */
class SecretsTest {
  private static final String KEY = "sk-live-0123456789abcdefghijklmnopqrstuv";
  private final ModelServer server = ModelServer.start();
  private final FakeTime time = new FakeTime();

  @AfterEach
  void stop() {
    server.close();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void theServerSeesTheKeyOnlyInTheAuthenticationHeader(Kind kind) {
    server.requireApiKey(KEY);
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p =
        Servers.resilient(Servers.config(server, kind).apiKey(KEY).build(), time)) {
      p.chat(ChatRequest.builder().system("sys").user("hi").build());
      p.stream(ChatRequest.builder().user("hi").build(), d -> {});
    }
    String authHeader = kind == Kind.OPENAI ? "authorization" : "x-api-key";
    assertThat(server.requests()).hasSize(2);
    for (RecordedRequest r : server.requests()) {
      assertThat(r.body().toString()).doesNotContain(KEY);
      for (Map.Entry<String, String> h : r.headers().entrySet()) {
        if (h.getKey().toLowerCase(Locale.ROOT).equals(authHeader)) {
          assertThat(h.getValue()).contains(KEY);
        } else {
          assertThat(h.getValue()).as(h.getKey()).doesNotContain(KEY);
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aKeyEchoedInAnErrorBodyIsRedacted(Kind kind) {
    String head = KEY.substring(0, 20);
    server
        .script()
        .on(Match.any())
        .reply(
            Reply.status(
                401, "Incorrect API key provided: " + KEY + " (starts with " + head + "...)"));
    try (ModelProvider p =
        Servers.resilient(Servers.config(server, kind).apiKey(KEY).build(), time)) {
      ModelException e =
          catchThrowableOfType(
              ModelException.class, () -> p.chat(ChatRequest.builder().user("hi").build()));
      assertThat(e.kind()).isEqualTo(ModelException.Kind.AUTH);
      assertThat(e.getMessage())
          .contains("Incorrect API key provided: " + KeyRedactor.MASK)
          .doesNotContain(KEY)
          .doesNotContain(head)
          .doesNotContain(KEY.substring(KEY.length() - 12));
    }
  }

  @Test
  void aKeyEchoedByAFailingServerIsRedactedAfterRetriesToo() {
    server.script().on(Match.any()).reply(Reply.status(500, "upstream rejected bearer " + KEY));
    try (ModelProvider p =
        Servers.resilient(Servers.config(server, Kind.OPENAI).apiKey(KEY).build(), time)) {
      ModelException e =
          catchThrowableOfType(
              ModelException.class,
              () -> p.stream(ChatRequest.builder().user("hi").build(), d -> {}));
      assertThat(e.getMessage()).contains("gave up after 4 attempts").doesNotContain(KEY);
      assertThat(e.getCause().getMessage()).doesNotContain(KEY);
    }
  }

  @Test
  void toStringNeverShowsTheKey() {
    ProviderConfig config =
        Servers.config(server, Kind.ANTHROPIC).apiKey(KEY).header("X-Secret", "hdr-secret").build();
    try (ModelProvider raw = Servers.client(config);
        ResilientProvider resilient = Servers.resilient(config, time)) {
      assertThat(config.toString()).doesNotContain(KEY).doesNotContain("hdr-secret");
      assertThat(raw.toString()).doesNotContain(KEY);
      assertThat(resilient.toString()).doesNotContain(KEY);
    }
    ModelConfig models =
        ModelConfig.fromEnvironment(Map.of("ANTHROPIC_API_KEY", KEY, "ANTHROPIC_MODEL", "m"));
    try (ModelRouter router = ModelRouter.create(models)) {
      assertThat(models.toString()).doesNotContain(KEY);
      assertThat(router.resolve("a", null).toString()).doesNotContain(KEY);
    }
  }

  @Test
  void theRedactorRemovesTheKeyItsHalvesAndKeyShapedTokens() {
    KeyRedactor r = new KeyRedactor(KEY);
    assertThat(r.redact("key " + KEY + " end")).isEqualTo("key " + KeyRedactor.MASK + " end");
    assertThat(r.redact("tail ..." + KEY.substring(KEY.length() / 2)))
        .doesNotContain(KEY.substring(KEY.length() / 2));
    assertThat(r.redact("Authorization: Bearer abcdef123456")).doesNotContain("abcdef123456");
    assertThat(r.redact("other sk-proj-XYZ987654321 key")).doesNotContain("XYZ987654321");
    assertThat(r.redact("nothing secret here")).isEqualTo("nothing secret here");
    assertThat(new KeyRedactor(null).redact("plain")).isEqualTo("plain");
  }
}
