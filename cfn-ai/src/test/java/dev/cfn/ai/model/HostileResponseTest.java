package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A hostile or broken endpoint cannot exhaust the JVM: bodies, lines and events are capped, the
 * transfer is cancelled at the cap, the call fails with a clear error and is not retried, and the
 * same provider answers the next call. The caps are set small so that each attack would need far
 * more memory than the caps allow; the server counts what it could send before the client hung up.
 */
class HostileResponseTest {
  private static final Duration HANG_GUARD = Duration.ofSeconds(30);
  private static final long HUNG_UP_BEFORE = 64L * 1024 * 1024;
  private static final ChatRequest HELLO = ChatRequest.builder().user("hello").build();

  private static ProviderConfig.Builder config(HostileServer server) {
    return ProviderConfig.builder("hostile", ProviderConfig.Kind.OPENAI)
        .baseUrl(server.baseUrl())
        .model("m")
        .maxResponseBytes(256 * 1024)
        .maxEventBytes(64 * 1024)
        .retry(
            new ProviderConfig.Retry(
                4, Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofSeconds(1)));
  }

  @Test
  void anEndlessBodyFailsAtTheCapIsNotRetriedAndTheProviderStillWorks() {
    try (HostileServer server =
            new HostileServer(HostileServer.endlessBody(), HostileServer.answer());
        ModelProvider p = ModelProvider.create(config(server).build())) {
      assertTimeoutPreemptively(
          HANG_GUARD,
          () -> {
            assertThatThrownBy(() -> p.chat(HELLO))
                .isInstanceOfSatisfying(
                    ModelException.class,
                    e -> {
                      assertThat(e.kind()).isEqualTo(ModelException.Kind.RESPONSE_TOO_LARGE);
                      assertThat(e.retryable()).isFalse();
                    })
                .hasMessageContaining("provider 'hostile': response exceeded 256 KiB")
                .hasMessageContaining("fix: raise max-response-bytes");
            assertThat(server.requests()).as("not retried").hasSize(1);
            assertThat(p.chat(HELLO).text()).isEqualTo("fine");
          });
      assertThat(server.bytesSent()).as("the client hung up").isLessThan(HUNG_UP_BEFORE);
    }
  }

  @Test
  void anEndlessDataLineFailsAtTheLineCapAndTheProviderStillWorks() {
    try (HostileServer server =
            new HostileServer(HostileServer.endlessLine(), HostileServer.streamedAnswer());
        ModelProvider p = ModelProvider.create(config(server).build())) {
      assertTimeoutPreemptively(
          HANG_GUARD,
          () -> {
            assertThatThrownBy(() -> p.stream(HELLO, d -> {}))
                .isInstanceOfSatisfying(
                    ModelException.class,
                    e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.RESPONSE_TOO_LARGE))
                .hasMessageContaining("a line of the response exceeded 64 KiB")
                .hasMessageContaining("max-event-bytes");
            assertThat(server.requests()).as("not retried").hasSize(1);
            StringBuilder text = new StringBuilder();
            assertThat(p.stream(HELLO, text::append).text()).isEqualTo("fine");
            assertThat(text).hasToString("fine");
          });
      assertThat(server.bytesSent()).as("the client hung up").isLessThan(HUNG_UP_BEFORE);
    }
  }

  @Test
  void anEventOfEndlessShortLinesFailsAtTheEventCap() {
    try (HostileServer server = new HostileServer(HostileServer.endlessEvent());
        ModelProvider p = ModelProvider.create(config(server).build())) {
      assertTimeoutPreemptively(
          HANG_GUARD,
          () ->
              assertThatThrownBy(() -> p.stream(HELLO, d -> {}))
                  .isInstanceOfSatisfying(
                      ModelException.class,
                      e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.RESPONSE_TOO_LARGE))
                  .hasMessageContaining("an event of the stream exceeded 64 KiB"));
      assertThat(server.bytesSent()).as("the client hung up").isLessThan(HUNG_UP_BEFORE);
    }
  }

  @Test
  void anEndlessStreamOfSmallEventsFailsAtTheResponseCap() {
    try (HostileServer server = new HostileServer(HostileServer.endlessContent(0));
        ModelProvider p =
            ModelProvider.create(
                config(server).maxResponseBytes(32 * 1024).maxEventBytes(4096).build())) {
      StringBuilder delivered = new StringBuilder();
      assertTimeoutPreemptively(
          HANG_GUARD,
          () ->
              assertThatThrownBy(() -> p.stream(HELLO, delivered::append))
                  .isInstanceOfSatisfying(
                      ModelException.class,
                      e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.RESPONSE_TOO_LARGE))
                  .hasMessageContaining("response exceeded 32 KiB"));
      assertThat(delivered.length()).as("text delivered before the cap").isPositive();
      assertThat(server.bytesSent()).as("the client hung up").isLessThan(HUNG_UP_BEFORE);
    }
  }

  @Test
  void anErrorStatusWithAnEndlessBodyIsQuotedFromItsHeadOnly() {
    HostileServer.Behaviour endlessError =
        out -> {
          HostileServer.write(
              out,
              "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
          byte[] block = "bad ".repeat(16 * 1024).getBytes(java.nio.charset.StandardCharsets.UTF_8);
          while (true) {
            out.write(block);
          }
        };
    try (HostileServer server = new HostileServer(endlessError);
        ModelProvider p = ModelProvider.create(config(server).build())) {
      assertTimeoutPreemptively(
          HANG_GUARD,
          () ->
              assertThatThrownBy(() -> p.chat(HELLO))
                  .isInstanceOfSatisfying(
                      ModelException.class,
                      e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.BAD_REQUEST))
                  .hasMessageContaining("answered HTTP 400: bad bad"));
      assertThat(server.bytesSent()).as("the client hung up").isLessThan(HUNG_UP_BEFORE);
    }
  }

  @Test
  void anEndlessHeaderFailsTheCallAndTheProviderStillWorks() {
    HostileServer.Behaviour endlessHeader =
        out -> {
          HostileServer.write(out, "HTTP/1.1 200 OK\r\nX-Endless: ");
          byte[] block = "h".repeat(64 * 1024).getBytes(java.nio.charset.StandardCharsets.UTF_8);
          while (true) {
            out.write(block);
          }
        };
    try (HostileServer server = new HostileServer(endlessHeader, HostileServer.answer());
        ModelProvider p =
            ModelProvider.create(
                config(server)
                    .retry(
                        new ProviderConfig.Retry(
                            1,
                            Duration.ofMillis(50),
                            Duration.ofMillis(100),
                            Duration.ofSeconds(1)))
                    .build())) {
      assertTimeoutPreemptively(
          HANG_GUARD,
          () -> {
            assertThatThrownBy(() -> p.chat(HELLO)).isInstanceOf(ModelException.class);
            assertThat(p.chat(HELLO).text()).isEqualTo("fine");
          });
      assertThat(server.bytesSent()).as("the client hung up").isLessThan(HUNG_UP_BEFORE);
    }
  }

  @Test
  void theCapsAreReadFromTheProvidersFile() {
    ModelConfig config =
        ModelConfig.parse(
            """
            providers:
              local:
                kind: openai
                base-url: http://localhost:11434/v1
                max-response-bytes: 2MiB
                max-event-bytes: 64 KiB
                stream-timeout: 90s
            """,
            "providers.yaml",
            Map.of());
    ProviderConfig local = config.provider("local");
    assertThat(local.maxResponseBytes()).isEqualTo(2L * 1024 * 1024);
    assertThat(local.maxEventBytes()).isEqualTo(64 * 1024);
    assertThat(local.streamTimeout()).isEqualTo(Duration.ofSeconds(90));
    ProviderConfig defaults = ProviderConfig.builder("x", ProviderConfig.Kind.OPENAI).build();
    assertThat(defaults.maxResponseBytes()).isEqualTo(16L * 1024 * 1024);
    assertThat(defaults.maxEventBytes()).isEqualTo(1024 * 1024);
  }

  @Test
  void aBadSizeNamesTheKeyAndTheFix() {
    assertThatThrownBy(
            () ->
                ModelConfig.parse(
                    "providers:\n  local:\n    kind: openai\n    max-response-bytes: lots\n",
                    "providers.yaml",
                    Map.of()))
        .isInstanceOf(ModelConfigException.class)
        .hasMessageContaining("providers.local.max-response-bytes")
        .hasMessageContaining("write e.g. 16MiB");
  }
}
