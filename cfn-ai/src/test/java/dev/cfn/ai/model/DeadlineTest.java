package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One deadline cuts a call in flight, whatever the server does: no headers, headers one byte at a
 * time, pings forever, endless content. The providers keep their defaults (120 s request timeout,
 * four attempts), so only the deadline can end these calls; a 30 s guard catches a hang.
 */
class DeadlineTest {
  private static final Duration HANG_GUARD = Duration.ofSeconds(30);

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

  private static ChatRequest hello(Duration timeout) {
    return ChatRequest.builder().user("hello").timeout(timeout).build();
  }

  private static ModelException call(ModelProvider p, ChatRequest r, boolean streamed) {
    try {
      if (streamed) {
        p.stream(r, d -> {});
      } else {
        p.chat(r);
      }
    } catch (ModelException e) {
      return e;
    }
    throw new AssertionError("the call returned");
  }

  @ParameterizedTest(name = "{0}, streamed={2}")
  @MethodSource("attacks")
  void theCallersDeadlineCutsTheRequestInFlightAndItsRetries(
      String attack, HostileServer.Behaviour behaviour, boolean streamed) {
    try (HostileServer server = new HostileServer(behaviour);
        ModelProvider p =
            ModelProvider.create(
                ProviderConfig.builder("hostile", ProviderConfig.Kind.OPENAI)
                    .baseUrl(server.baseUrl())
                    .model("m")
                    .build())) {
      ModelException e =
          assertTimeoutPreemptively(
              HANG_GUARD, () -> call(p, hello(Duration.ofMillis(1500)), streamed));
      assertThat(e.kind()).as(attack).isEqualTo(ModelException.Kind.TIMEOUT);
      assertThat(e.getMessage()).contains("provider 'hostile'").contains("caller's deadline");
      assertThat(server.requests()).as("no retry once the deadline passed").hasSize(1);
    }
  }

  @ParameterizedTest(name = "{0}, streamed={2}")
  @MethodSource("attacks")
  void theProvidersOwnTimeoutsCutTheRequestInFlight(
      String attack, HostileServer.Behaviour behaviour, boolean streamed) {
    try (HostileServer server = new HostileServer(behaviour);
        ModelProvider p =
            ModelProvider.create(
                ProviderConfig.builder("hostile", ProviderConfig.Kind.OPENAI)
                    .baseUrl(server.baseUrl())
                    .model("m")
                    .requestTimeout(Duration.ofMillis(700))
                    .streamTimeout(Duration.ofMillis(1500))
                    .retry(
                        new ProviderConfig.Retry(
                            2, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ofSeconds(1)))
                    .build())) {
      ModelException e =
          assertTimeoutPreemptively(
              HANG_GUARD, () -> call(p, ChatRequest.builder().user("hello").build(), streamed));
      assertThat(e.kind()).as(attack).isEqualTo(ModelException.Kind.TIMEOUT);
      assertThat(e.getMessage()).containsAnyOf("request-timeout", "stream-timeout");
      // retried once, unless part of the answer had already reached the listener
      assertThat(server.requests()).hasSizeBetween(1, 2);
    }
  }

  @ParameterizedTest(name = "{0}, streamed={2}")
  @MethodSource("attacks")
  void aRoutedModelGivesItsFallbacksOnlyTheTimeLeft(
      String attack, HostileServer.Behaviour behaviour, boolean streamed) {
    try (HostileServer first = new HostileServer(behaviour);
        HostileServer second = new HostileServer(behaviour)) {
      ModelConfig config =
          ModelConfig.parse(
              "providers:\n  a:\n    kind: openai\n    base-url: "
                  + first.baseUrl()
                  + "\n    model: m\n  b:\n    kind: openai\n    base-url: "
                  + second.baseUrl()
                  + "\n    model: m\ndefault:\n  provider: a\n  fallbacks: [{provider: b}]\n",
              "providers.yaml",
              java.util.Map.of());
      try (ModelRouter router = ModelRouter.create(config)) {
        ModelProvider routed = router.resolve("agent", null);
        ModelException e =
            assertTimeoutPreemptively(
                HANG_GUARD, () -> call(routed, hello(Duration.ofMillis(1500)), streamed));
        assertThat(e.kind()).as(attack).isEqualTo(ModelException.Kind.TIMEOUT);
        assertThat(first.requests()).hasSize(1);
        assertThat(second.requests()).as("no fallback after the deadline").isEmpty();
      }
    }
  }

  @org.junit.jupiter.api.Test
  void anAttemptCutByTheCallersDeadlineDoesNotOpenTheCircuit() {
    try (HostileServer server = new HostileServer(HostileServer.silent());
        ModelProvider p =
            ResilientProvider.of(
                ProviderConfig.builder("hostile", ProviderConfig.Kind.OPENAI)
                    .baseUrl(server.baseUrl())
                    .model("m")
                    .circuit(new ProviderConfig.Circuit(1, Duration.ofMinutes(5)))
                    .build(),
                TimeSource.SYSTEM,
                new java.util.SplittableRandom(1))) {
      for (int i = 0; i < 2; i++) {
        ModelException e =
            assertTimeoutPreemptively(
                HANG_GUARD, () -> call(p, hello(Duration.ofMillis(300)), false));
        assertThat(e.kind()).isEqualTo(ModelException.Kind.TIMEOUT);
      }
      assertThat(server.requests()).as("the second call was sent, not refused").hasSize(2);
    }
  }
}
