package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.model.ProviderConfig.Kind;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The circuit breaker against the noise of a busy provider: connections the server drops before
 * answering (as a stale pooled connection is dropped) are resent at once and never count against
 * the breaker, so every task completes; failures a retry fixed do not count either.
 */
class BreakerUnderNoiseTest {
  private static final ChatRequest HELLO = ChatRequest.builder().user("hello").build();
  private static final int CONCURRENCY = 256;
  private static final int TASKS = 256 * 12;

  /**
   * 256 tasks at a time through one shared provider; the server drops one connection in fifty (2 %)
   * after reading the request, before any byte of an answer. Every task must complete, no backoff
   * is waited, and the breaker never leaves CLOSED.
   */
  @Test
  void twoPercentDroppedConnectionsAt256ConcurrentTasksCompleteEveryTask() throws Exception {
    AtomicLong seen = new AtomicLong();
    try (ModelServer server = ModelServer.builder().requestHistory(0).start()) {
      server
          .script()
          .on(Match.of("every 50th request", r -> seen.incrementAndGet() % 50 == 0))
          .reply(Reply.connectionReset())
          .on(Match.any())
          .reply(Reply.text("ok"));
      FakeTime time = new FakeTime();
      // The strictest breaker there is: one failed call opens it for a minute. Dropped
      // connections must never reach it.
      ProviderConfig config =
          Servers.config(server, Kind.OPENAI)
              .circuit(ProviderConfig.Circuit.consecutive(1, Duration.ofMinutes(1)))
              .build();
      List<String> transitions = new CopyOnWriteArrayList<>();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      try (ResilientProvider p = Servers.resilient(config, time)) {
        p.circuitBreaker().addListener((b, from, to, why) -> transitions.add(from + "->" + to));
        try (ExecutorService tasks = Executors.newVirtualThreadPerTaskExecutor()) {
          java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(CONCURRENCY);
          List<Future<?>> all = new java.util.ArrayList<>();
          for (int i = 0; i < TASKS; i++) {
            inFlight.acquire();
            all.add(
                tasks.submit(
                    () -> {
                      try {
                        if (!p.chat(HELLO).text().equals("ok")) {
                          failures.add("wrong answer");
                        }
                      } catch (RuntimeException e) {
                        failures.add(e.getMessage());
                      } finally {
                        inFlight.release();
                      }
                    }));
          }
          for (Future<?> f : all) {
            f.get();
          }
        }
        assertThat(failures).as("failed tasks").isEmpty();
        assertThat(server.received())
            .as("the server did drop connections, and each was resent")
            .isGreaterThan(TASKS);
        assertThat(transitions).as("the breaker never moved").isEmpty();
        assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
      }
    }
  }

  @Test
  void aDroppedConnectionIsResentAtOnceAndDoesNotCountEvenAgainstAOneFailureBreaker() {
    try (ModelServer server = ModelServer.start()) {
      server.script().enqueue(Reply.connectionReset());
      server.script().on(Match.any()).reply(Reply.text("ok"));
      FakeTime time = new FakeTime();
      ProviderConfig config =
          Servers.config(server, Kind.ANTHROPIC)
              .circuit(ProviderConfig.Circuit.consecutive(1, Duration.ofMinutes(1)))
              .build();
      try (ResilientProvider p = Servers.resilient(config, time)) {
        assertThat(p.chat(HELLO).text()).isEqualTo("ok");
        assertThat(server.requests()).hasSize(2);
        assertThat(time.sleeps()).as("no backoff before the resend").isEmpty();
        assertThat(p.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
      }
    }
  }

  @Test
  void aFailureThatARetryFixedDoesNotCountAgainstTheBreaker() {
    try (ModelServer server = ModelServer.start()) {
      // Every call meets one 503, then succeeds on its retry.
      server.script().on(Match.any()).reply(Reply.status(503, "busy"), Reply.text("ok"));
      FakeTime time = new FakeTime();
      ProviderConfig config =
          Servers.config(server, Kind.OPENAI)
              .circuit(ProviderConfig.Circuit.consecutive(1, Duration.ofMinutes(1)))
              .build();
      try (ResilientProvider p = Servers.resilient(config, time)) {
        assertThat(p.chat(HELLO).text()).isEqualTo("ok");
        assertThat(time.sleeps()).as("a 503 is retried after a backoff").hasSize(1);
        assertThat(p.circuitBreaker().state())
            .as("a breaker that opens on one failed call stays closed")
            .isEqualTo(CircuitBreaker.State.CLOSED);
      }
    }
  }

  @Test
  void theStateIsAGaugePerProviderAndEachTransitionIsCounted() {
    try (ModelServer server = ModelServer.start()) {
      server.script().on(Match.any()).reply(Reply.status(503, "down"));
      String yaml =
          """
          providers:
            flaky:
              kind: openai
              base-url: %s
              model: m
              retry: {max-attempts: 1}
              circuit-breaker: {window-size: 4, minimum-calls: 2, failure-rate: 50, cool-down: 1m}
          default: {provider: flaky}
          """
              .formatted(server.openAiBaseUrl());
      ModelConfig config = ModelConfig.parse(yaml, "providers.yaml", java.util.Map.of());
      assertThat(config.provider("flaky").circuit())
          .isEqualTo(new ProviderConfig.Circuit(4, 2, 50, Duration.ofMinutes(1), 3));
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      try (ModelRouter router = ModelRouter.create(config)) {
        router.bindTo(registry);
        RoutedModel model = router.resolve("a", null);
        for (int i = 0; i < 2; i++) {
          try {
            model.chat(HELLO);
          } catch (ModelException expected) {
            // two failed calls of two: 100 % >= 50 %, the circuit opens
          }
        }
        assertThat(registry.get(ModelRouter.CIRCUIT_STATE).tag("provider", "flaky").gauge().value())
            .isEqualTo(2.0);
        assertThat(
                registry
                    .get(ModelRouter.CIRCUIT_TRANSITIONS)
                    .tags("provider", "flaky", "to", "open")
                    .counter()
                    .count())
            .isEqualTo(1.0);
      }
    }
  }
}
