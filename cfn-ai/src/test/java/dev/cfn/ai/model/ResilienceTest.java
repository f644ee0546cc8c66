package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.model.ProviderConfig.Kind;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Retries, timeouts, the circuit breaker and client-side rate limits, against the real loopback
 * model server. Waits run on {@link FakeTime}: they are recorded, not slept, so the tests assert
 * what was waited for and how many requests the server saw, never how long anything took.
 */
class ResilienceTest {
  private final ModelServer server = ModelServer.start();
  private final FakeTime time = new FakeTime();
  private static final ChatRequest HELLO = ChatRequest.builder().user("hello").build();

  @AfterEach
  void stop() {
    server.close();
  }

  static Stream<Arguments> kindsAndRetriedStatuses() {
    List<Arguments> all = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      for (int status : new int[] {500, 502, 503, 504}) {
        all.add(Arguments.of(kind, status));
      }
    }
    return all.stream();
  }

  static Stream<Arguments> kindsAndFinalStatuses() {
    List<Arguments> all = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      all.add(Arguments.of(kind, 400, ModelException.Kind.BAD_REQUEST));
      all.add(Arguments.of(kind, 401, ModelException.Kind.AUTH));
      all.add(Arguments.of(kind, 403, ModelException.Kind.AUTH));
      all.add(Arguments.of(kind, 404, ModelException.Kind.BAD_REQUEST));
    }
    return all.stream();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aRateLimitedCallWaitsTheRetryAfterThenSucceeds(Kind kind) {
    server.script().enqueue(Reply.rateLimited(Duration.ofSeconds(7)));
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThat(p.chat(HELLO).text()).isEqualTo("ok");
    }
    assertThat(server.requests()).hasSize(2);
    assertThat(time.sleeps()).hasSize(1);
    assertThat(time.sleeps().getFirst())
        .as("Retry-After: 7 is honoured, not the 100 ms backoff")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void retryAfterAsAnHttpDateOrInMillisecondsIsHonoured() {
    String date =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            time.clock().instant().plusSeconds(9).atZone(ZoneOffset.UTC));
    server.script().enqueue(Reply.status(429, "slow down").withHeader("Retry-After", date));
    server.script().enqueue(Reply.status(429, "slower").withHeader("retry-after-ms", "1500"));
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p = Servers.resilient(Servers.config(server, Kind.OPENAI).build(), time)) {
      assertThat(p.chat(HELLO).text()).isEqualTo("ok");
    }
    assertThat(server.requests()).hasSize(3);
    assertThat(time.sleeps()).hasSize(2);
    assertThat(time.sleeps().get(0)).isGreaterThanOrEqualTo(Duration.ofSeconds(9));
    assertThat(time.sleeps().get(1)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void anOverloadedProviderIsRetried(Kind kind) {
    server.script().enqueue(Reply.overloaded()).enqueue(Reply.overloaded());
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThat(p.chat(HELLO).text()).isEqualTo("ok");
    }
    assertThat(server.requests()).hasSize(3);
    // Exponential backoff with jitter: each wait is in [base/2, base], the base doubling.
    assertThat(time.sleeps()).hasSize(2);
    assertThat(time.sleeps().get(0)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    assertThat(time.sleeps().get(1)).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @ParameterizedTest
  @MethodSource("kindsAndRetriedStatuses")
  void serverErrorsAreRetried(Kind kind, int status) {
    server.script().enqueue(Reply.status(status, "upstream trouble"));
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThat(p.chat(HELLO).text()).isEqualTo("ok");
    }
    assertThat(server.requests()).hasSize(2);
  }

  @ParameterizedTest
  @MethodSource("kindsAndFinalStatuses")
  void clientErrorsAreNeverRetried(Kind kind, int status, ModelException.Kind expected) {
    server.script().on(Match.any()).reply(Reply.status(status, "you did something wrong"));
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThatThrownBy(() -> p.chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(expected);
                assertThat(e.status()).isEqualTo(status);
                assertThat(e.retryable()).isFalse();
              })
          .hasMessageContaining("you did something wrong");
    }
    assertThat(server.requests()).hasSize(1);
    assertThat(time.sleeps()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aResetConnectionIsRetried(Kind kind) {
    server.script().enqueue(Reply.connectionReset());
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThat(p.chat(HELLO).text()).isEqualTo("ok");
    }
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  void givingUpAfterTheLastAttemptSaysSo() {
    server.script().on(Match.any()).reply(Reply.status(503, "down for maintenance"));
    ProviderConfig config =
        Servers.config(server, Kind.OPENAI)
            .retry(
                new ProviderConfig.Retry(
                    3, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(30)))
            .build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      assertThatThrownBy(() -> p.chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class, e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.SERVER))
          .hasMessageContaining("HTTP 503")
          .hasMessageContaining("down for maintenance")
          .hasMessageContaining("gave up after 3 attempts");
    }
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void aRetryAfterLongerThanTheBoundFailsAtOnceSoThatARouteCanFallBack() {
    server.script().enqueue(Reply.rateLimited(Duration.ofMinutes(5)));
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p =
        Servers.resilient(Servers.config(server, Kind.ANTHROPIC).build(), time)) {
      assertThatThrownBy(() -> p.chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.RATE_LIMITED);
                assertThat(e.retryAfter()).contains(Duration.ofMinutes(5));
              })
          .hasMessageContaining("max-retry-after");
    }
    assertThat(server.requests()).hasSize(1);
    assertThat(time.sleeps()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aStreamIsRetriedWhenItBrokeBeforeDeliveringAnything(Kind kind) {
    server.script().enqueue(Reply.text("hello world").cutStreamAfter(1));
    server.script().on(Match.any()).reply(Reply.text("hello world"));
    Servers.Recorder recorder = new Servers.Recorder();
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThat(p.stream(HELLO, recorder).text()).isEqualTo("hello world");
    }
    assertThat(server.requests()).hasSize(2);
    assertThat(recorder.text()).as("delivered exactly once").isEqualTo("hello world");
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aStreamIsNotRetriedOnceTextWasDelivered(Kind kind) {
    String text = "one two three four five six seven eight nine ten eleven twelve";
    server.script().on(Match.any()).reply(Reply.text(text).cutStreamAfter(5));
    Servers.Recorder recorder = new Servers.Recorder();
    try (ModelProvider p = Servers.resilient(Servers.config(server, kind).build(), time)) {
      assertThatThrownBy(() -> p.stream(HELLO, recorder))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.STREAM_BROKEN))
          .hasMessageContaining("not retried: part of the answer was already streamed");
    }
    assertThat(recorder.texts).isNotEmpty();
    assertThat(text).startsWith(recorder.text());
    assertThat(server.requests()).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aSlowAnswerTimesOutAndIsRetried(Kind kind) {
    server.script().enqueue(Reply.text("too late").after(Duration.ofSeconds(5)));
    server.script().on(Match.any()).reply(Reply.text("in time"));
    ProviderConfig config =
        Servers.config(server, kind).requestTimeout(Duration.ofMillis(300)).build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      assertThat(p.chat(HELLO).text()).isEqualTo("in time");
    }
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  void aTimeoutWithoutRetriesIsReportedAsSuch() {
    server.script().on(Match.any()).reply(Reply.text("too late").after(Duration.ofSeconds(5)));
    ProviderConfig config =
        Servers.config(server, Kind.ANTHROPIC)
            .requestTimeout(Duration.ofMillis(300))
            .retry(
                new ProviderConfig.Retry(
                    1, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(30)))
            .build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      assertThatThrownBy(() -> p.stream(HELLO, d -> {}))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.TIMEOUT);
                assertThat(e.retryable()).isTrue();
              })
          .hasMessageContaining("request-timeout");
    }
  }

  @Test
  void aRefusedConnectionIsANetworkError() {
    int port;
    try (ModelServer gone = ModelServer.start()) {
      port = gone.baseUrl().getPort();
    }
    ProviderConfig config =
        ProviderConfig.builder("local", Kind.OPENAI)
            .baseUrl("http://127.0.0.1:" + port + "/v1")
            .model("m")
            .retry(
                new ProviderConfig.Retry(
                    2, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(30)))
            .build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      assertThatThrownBy(() -> p.chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.NETWORK))
          .hasMessageContaining("check the base-url of provider 'local'")
          .hasMessageContaining("gave up after 2 attempts");
    }
    assertThat(time.sleeps()).hasSize(1);
  }

  @Test
  void theCircuitOpensAfterRepeatedFailuresAndClosesAfterASuccessfulTrial() {
    server.script().on(Match.any()).reply(Reply.status(500, "boom"));
    ProviderConfig config =
        Servers.config(server, Kind.OPENAI)
            .retry(
                new ProviderConfig.Retry(
                    1, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(30)))
            .circuit(new ProviderConfig.Circuit(2, Duration.ofSeconds(30)))
            .build();
    try (ResilientProvider p = Servers.resilient(config, time)) {
      for (int i = 0; i < 2; i++) {
        assertThatThrownBy(() -> p.chat(HELLO))
            .isInstanceOfSatisfying(
                ModelException.class,
                e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.SERVER));
      }
      assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.OPEN);

      assertThatThrownBy(() -> p.chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.CIRCUIT_OPEN);
                assertThat(e.retryable()).isTrue();
                assertThat(e.retryAfter()).contains(Duration.ofSeconds(30));
              })
          .hasMessageContaining("circuit open");
      assertThat(server.requests()).as("an open circuit sends nothing").hasSize(2);

      server.script().clear();
      server.script().on(Match.any()).reply(Reply.text("back"));
      time.advance(Duration.ofSeconds(30));
      assertThat(p.chat(HELLO).text()).isEqualTo("back");
      assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
      assertThat(p.chat(HELLO).text()).isEqualTo("back");
    }
    assertThat(server.requests()).hasSize(4);
  }

  @Test
  void clientErrorsDoNotOpenTheCircuit() {
    server.script().on(Match.any()).reply(Reply.status(400, "bad"));
    ProviderConfig config =
        Servers.config(server, Kind.ANTHROPIC)
            .circuit(new ProviderConfig.Circuit(2, Duration.ofSeconds(30)))
            .build();
    try (ResilientProvider p = Servers.resilient(config, time)) {
      for (int i = 0; i < 5; i++) {
        assertThatThrownBy(() -> p.chat(HELLO)).isInstanceOf(ModelException.class);
      }
      assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
    assertThat(server.requests()).hasSize(5);
  }

  @Test
  void requestsPerMinuteMakeTheThirdCallWaitForTheBucket() {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    ProviderConfig config =
        Servers.config(server, Kind.OPENAI)
            .rateLimit(new ProviderConfig.RateLimit(2, 0, Duration.ofMinutes(1)))
            .build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      for (int i = 0; i < 3; i++) {
        assertThat(p.chat(HELLO).text()).isEqualTo("ok");
      }
    }
    assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(30));
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void aCallThatCannotGetCapacityInTimeFailsWithoutReachingTheServer() {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    ProviderConfig config =
        Servers.config(server, Kind.ANTHROPIC)
            .rateLimit(new ProviderConfig.RateLimit(2, 0, Duration.ofSeconds(10)))
            .build();
    try (ModelProvider p = Servers.resilient(config, time)) {
      p.chat(HELLO);
      p.chat(HELLO);
      assertThatThrownBy(() -> p.chat(HELLO))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.RATE_LIMITED))
          .hasMessageContaining("client-side rate limit of provider 'anthropic'");
    }
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  void tokenLimitsAreCorrectedWithTheReportedUsage() {
    server.script().on(Match.any()).reply(Reply.text("ok").withUsage(900, 100, 0));
    ProviderConfig config =
        Servers.config(server, Kind.ANTHROPIC)
            .maxTokens(2000)
            .rateLimit(new ProviderConfig.RateLimit(0, 3100, Duration.ofMinutes(5)))
            .build();
    try (ResilientProvider p = Servers.resilient(config, time)) {
      long estimate = p.estimateTokens(HELLO);
      assertThat(estimate).isBetween(2001L, 2100L);
      p.chat(HELLO);
      // The estimate (max_tokens plus the prompt) was replaced by the 1000 tokens reported.
      assertThat(p.rateLimiter().availableTokens()).isEqualTo(2100.0);
      p.chat(HELLO);
      assertThat(time.sleeps()).as("2100 tokens left covered the second estimate").isEmpty();
      assertThat(p.rateLimiter().availableTokens()).isEqualTo(1100.0);
      p.chat(HELLO);
      assertThat(time.sleeps()).hasSize(1);
    }
    assertThat(server.requests()).hasSize(3);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void anInterruptedCallIsCancelledNotRetriedAndNotHeldAgainstTheProvider(Kind kind)
      throws Exception {
    server.script().on(Match.any()).reply(Reply.text("too late").after(Duration.ofSeconds(20)));
    ProviderConfig config =
        Servers.config(server, kind)
            .circuit(new ProviderConfig.Circuit(1, Duration.ofSeconds(30)))
            .build();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicBoolean stillInterrupted = new AtomicBoolean();
    try (ResilientProvider p = Servers.resilient(config, time)) {
      Thread caller =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      p.chat(HELLO);
                    } catch (RuntimeException e) {
                      thrown.set(e);
                      stillInterrupted.set(Thread.currentThread().isInterrupted());
                    }
                  });
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (server.requests().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(server.requests()).as("the call reached the server").hasSize(1);
      caller.interrupt();
      assertThat(caller.join(Duration.ofSeconds(10))).as("the caller returned").isTrue();

      assertThat(thrown.get())
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.CANCELLED);
                assertThat(e.retryable()).isFalse();
              })
          .hasMessageContaining("interrupted or cancelled");
      assertThat(stillInterrupted).as("the interrupt is kept for the caller").isTrue();
      assertThat(p.circuitBreaker().state())
          .as("a threshold of one failure, yet the circuit stays closed")
          .isEqualTo(CircuitBreaker.State.CLOSED);
    }
    assertThat(server.requests()).as("not retried").hasSize(1);
    assertThat(time.sleeps()).isEmpty();
  }

  @Test
  void aListenerThatThrowsDuringTheTrialDoesNotCloseTheCircuit() {
    server.script().enqueue(Reply.status(500, "boom"));
    server.script().on(Match.any()).reply(Reply.text("back again"));
    ProviderConfig config =
        Servers.config(server, Kind.ANTHROPIC)
            .retry(
                new ProviderConfig.Retry(
                    1, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(30)))
            .circuit(new ProviderConfig.Circuit(1, Duration.ofSeconds(30)))
            .build();
    try (ResilientProvider p = Servers.resilient(config, time)) {
      assertThatThrownBy(() -> p.chat(HELLO)).isInstanceOf(ModelException.class);
      assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
      time.advance(Duration.ofSeconds(30));

      assertThatThrownBy(
              () ->
                  p.stream(
                      HELLO,
                      delta -> {
                        throw new IllegalStateException("the listener's own bug");
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("the listener's own bug");
      assertThat(p.circuitBreaker().state())
          .as("the trial proved nothing: not closed")
          .isEqualTo(CircuitBreaker.State.HALF_OPEN);

      assertThat(p.chat(HELLO).text())
          .as("the next call is the trial, at once")
          .isEqualTo("back again");
      assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
    assertThat(server.requests()).hasSize(3);
  }
}
