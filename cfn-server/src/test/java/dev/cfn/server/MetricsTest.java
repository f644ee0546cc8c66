package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentType;
import dev.cfn.core.TopicId;
import dev.cfn.server.auth.Role;
import dev.cfn.server.metrics.Samples;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scrapes {@code GET /metrics} of a real node while traffic runs through it (HTTP sends, RELIABLE
 * and best-effort, failing handlers, a busy agent, an open event stream), and checks that each of
 * the seed's eight metrics is there under its documented name, with its HELP text, and moves.
 */
class MetricsTest {
  @TempDir static Path home;
  static TestNode node;
  static String viewer;
  static String agent;
  static final CountDownLatch release = new CountDownLatch(1);
  static final AtomicBoolean stop = new AtomicBoolean();

  @BeforeAll
  static void start() throws Exception {
    node =
        TestNode.start(
            home,
            b ->
                b.agentType(
                        AgentType.builder(
                                "held",
                                id ->
                                    (m, ctx) -> {
                                      if (!release.await(60, TimeUnit.SECONDS)) {
                                        throw new IllegalStateException("never released");
                                      }
                                    })
                            .blocking()
                            .build())
                    .agentType(
                        AgentType.of(
                            "busy",
                            id ->
                                (m, ctx) -> {
                                  long end = System.nanoTime() + 200_000; // 0.2 ms of work
                                  while (System.nanoTime() < end) {
                                    Thread.onSpinWait();
                                  }
                                })));
    viewer = node.token(Role.VIEWER);
    agent = node.token(Role.AGENT);
  }

  @AfterAll
  static void stop() {
    stop.set(true);
    release.countDown();
    node.close();
  }

  Samples scrape() throws Exception {
    HttpResponse<String> r = node.get("/metrics", viewer);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    return Samples.parse(r.body());
  }

  double value(Samples s, String name, Map<String, String> labels) {
    OptionalDouble v = s.sum(name, labels);
    assertThat(v).as(name + labels + " is scraped").isPresent();
    return v.getAsDouble();
  }

  /** Scrapes until {@code check} holds (a deadline of 30 s), and returns that scrape. */
  Samples until(String what, Predicate<Samples> check) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Samples s = scrape();
      if (check.test(s)) {
        return s;
      }
      assertThat(System.nanoTime() - end).as("waiting for " + what).isNegative();
      Thread.sleep(100);
    }
  }

  @Test
  void theEightAreScrapedUnderTheirNamesWithHelpAndMoveUnderLoad() throws Exception {
    String text = node.get("/metrics", viewer).body();
    for (String name :
        new String[] {
          "cfn_messages_delivered_total",
          "cfn_message_latency_seconds",
          "cfn_mailbox_depth",
          "cfn_journal_backlog",
          "cfn_pool_utilization_ratio",
          "cfn_memory_used_ratio",
          "cfn_cpu_usage_ratio",
          "cfn_errors_total",
          "cfn_http_connections_active"
        }) {
      assertThat(text).as(name).containsPattern("(?m)^# HELP " + name + " \\S.{20,}");
    }
    assertThat(text).contains("# TYPE cfn_message_latency_seconds summary");
    assertThat(text).contains("jvm_memory_used_bytes", "process_cpu_usage", "jvm_gc_");

    Samples before = scrape();
    double delivered0 = value(before, "cfn_messages_delivered_total", Map.of());
    double handler0 = value(before, "cfn_errors_total", Map.of("kind", "handler"));
    double delivery0 = value(before, "cfn_errors_total", Map.of("kind", "delivery"));
    double latencyCount0 = value(before, "cfn_message_latency_seconds_count", Map.of());
    double commits0 = value(before, "cfn_journal_commit_seconds_count", Map.of());
    double connections0 = value(before, "cfn_http_connections_active", Map.of());
    for (String kind : new String[] {"handler", "delivery", "provider", "http5xx"}) {
      value(before, "cfn_errors_total", Map.of("kind", kind));
    }
    assertThat(connections0).isGreaterThanOrEqualTo(1); // the scrape's own connection
    assertThat(value(before, "cfn_pool_utilization_ratio", Map.of("pool", "http")))
        .isBetween(0.0, 1.0);

    // Load: a background sender keeps the carriers busy through the runtime's real path.
    Thread load =
        Thread.ofVirtual()
            .start(
                () -> {
                  int i = 0;
                  while (!stop.get()) {
                    node.server.runtime().send(AgentId.of("busy", "k" + (i++ % 8)), i);
                    if (i % 256 == 0) {
                      Thread.onSpinWait();
                      try {
                        Thread.sleep(1);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  }
                });
    try {
      // Through the HTTP API: held messages fill a mailbox and the journal's backlog.
      for (int i = 0; i < 5; i++) {
        assertThat(
                node.call(
                        "POST",
                        "/v1/messages/send",
                        agent,
                        "{\"to\":\"held/1\",\"payload\":" + i + ",\"reliable\":true}")
                    .statusCode())
            .isEqualTo(202);
      }
      for (int i = 0; i < 3; i++) {
        node.call("POST", "/v1/messages/send", agent, "{\"to\":\"failing/1\",\"payload\":1}");
      }
      node.server.runtime().publish(TopicId.of("cfn.flow.run.failed", "r1"), Map.of("run", "r1"));

      Samples loaded =
          until(
              "depth, backlog, utilization, cpu and errors to move",
              s ->
                  s.sum("cfn_mailbox_depth", Map.of()).orElse(0) >= 1
                      && s.sum("cfn_journal_backlog", Map.of()).orElse(0) >= 5
                      && s.sum("cfn_pool_utilization_ratio", Map.of("pool", "carriers")).orElse(0)
                          > 0
                      && s.sum("cfn_cpu_usage_ratio", Map.of()).orElse(0) > 0
                      && s.sum("cfn_errors_total", Map.of("kind", "handler")).orElse(0)
                          >= handler0 + 3
                      && s.sum("cfn_errors_total", Map.of("kind", "delivery")).orElse(0)
                          >= delivery0 + 3
                      && s.sum("cfn_flow_events_total", Map.of("event", "cfn.flow.run.failed"))
                              .orElse(0)
                          >= 1);
      assertThat(value(loaded, "cfn_messages_delivered_total", Map.of())).isGreaterThan(delivered0);
      assertThat(value(loaded, "cfn_pool_utilization_ratio", Map.of("pool", "carriers")))
          .isBetween(0.0, 1.0);
      assertThat(value(loaded, "cfn_cpu_usage_ratio", Map.of())).isBetween(0.0, 1.0);
      assertThat(value(loaded, "process_cpu_usage", Map.of())).isGreaterThanOrEqualTo(0);
      assertThat(value(loaded, "cfn_journal_commit_seconds_count", Map.of()))
          .isGreaterThan(commits0);
      assertThat(value(loaded, "cfn_journal_wal_bytes", Map.of())).isGreaterThan(0);
      for (String q : new String[] {"0.5", "0.95", "0.99"}) {
        assertThat(value(loaded, "cfn_message_latency_seconds", Map.of("quantile", q)))
            .as("quantile " + q)
            .isGreaterThanOrEqualTo(0);
      }
      until(
          "latency samples to be counted and a quantile above 0",
          s ->
              s.sum("cfn_message_latency_seconds_count", Map.of()).orElse(0) > latencyCount0
                  && s.sum("cfn_message_latency_seconds", Map.of("quantile", "0.99")).orElse(0)
                      > 0);

      // Memory moves between scrapes (the load allocates).
      double heap = value(loaded, "cfn_memory_used_ratio", Map.of());
      assertThat(heap).isBetween(0.0, 1.0).isGreaterThan(0);
      until(
          "heap use to change", s -> s.sum("cfn_memory_used_ratio", Map.of()).orElse(heap) != heap);

      // An open event stream is one more connection.
      var stream = node.stream("/v1/events", viewer, null);
      try {
        until(
            "a second connection",
            s -> s.sum("cfn_http_connections_active", Map.of()).orElse(0) >= connections0 + 1);
      } finally {
        stream.body().close();
      }
    } finally {
      release.countDown(); // the held agent finishes; depth and backlog fall back
      stop.set(true);
      load.join();
    }
    until(
        "depth and backlog back to 0",
        s ->
            s.sum("cfn_mailbox_depth", Map.of()).orElse(1) == 0
                && s.sum("cfn_journal_backlog", Map.of()).orElse(1) == 0);
  }

  @Test
  void budgetsOfSpawnedAgentsAreGauges() throws Exception {
    String operator = node.token(Role.OPERATOR);
    var r =
        node.call(
            "POST",
            "/v1/agents",
            operator,
            "{\"type\":\"echo\",\"key\":\"budgeted\",\"budget\":{\"maxTokens\":1000}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    Samples s = scrape();
    assertThat(s.sum("cfn_budget_limit_tokens", Map.of("agent", "echo/budgeted"))).hasValue(1000);
    assertThat(s.sum("cfn_budget_spent_tokens", Map.of("agent", "echo/budgeted"))).hasValue(0);
  }

  @Test
  void metricsNeedAViewerToken() throws Exception {
    assertThat(node.get("/metrics", null).statusCode()).isEqualTo(401);
    assertThat(node.get("/metrics", node.token(Role.VIEWER)).statusCode()).isEqualTo(200);
  }

  @Test
  void availabilityIsReportedOverThreeWindows() throws Exception {
    HttpResponse<String> r = node.get("/v1/availability", viewer);
    assertThat(r.statusCode()).isEqualTo(200);
    var json = Gate.JSON.readTree(r.body());
    assertThat(json.path("uptime").path("1h").isNumber()).isTrue();
    assertThat(json.path("uptime").path("24h").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.path("uptime").path("30d").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.path("up").asBoolean()).isTrue();
    assertThat(json.path("restarts").asInt()).isZero();
    assertThat(scrape().sum("cfn_availability_ratio", Map.of("window", "30d"))).isPresent();
  }
}
