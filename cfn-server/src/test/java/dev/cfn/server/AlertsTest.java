package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentType;
import dev.cfn.server.alerts.AlertConfig;
import dev.cfn.server.alerts.AlertHistory;
import dev.cfn.server.alerts.Webhook;
import dev.cfn.server.auth.Role;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives a metric of a real node across an alert rule's threshold and back, and watches the alert
 * go pending, fire at a webhook (a local HTTP server that refuses the first delivery, so the node
 * retries, and checks every signature), and resolve; the history file keeps each step.
 */
class AlertsTest {
  static final String SECRET = "s3cret-for-the-test";

  @TempDir Path home;
  HttpServer receiver;
  final List<JsonNode> received = new CopyOnWriteArrayList<>();
  final AtomicInteger attempts = new AtomicInteger();
  final AtomicInteger badSignatures = new AtomicInteger();
  final CountDownLatch release = new CountDownLatch(1);
  TestNode node;

  @BeforeEach
  void start() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext(
        "/hook",
        ex -> {
          byte[] body = ex.getRequestBody().readAllBytes();
          String ts = ex.getRequestHeaders().getFirst(Webhook.TIMESTAMP);
          String sig = ex.getRequestHeaders().getFirst(Webhook.SIGNATURE);
          if (ts == null || !Webhook.sign(SECRET, ts, body).equals(sig)) {
            badSignatures.incrementAndGet();
          }
          int n = attempts.incrementAndGet();
          int status = n == 1 ? 503 : 204; // the first delivery fails: the node must retry
          if (status == 204) {
            received.add(Gate.JSON.readTree(body));
          }
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    receiver.start();
    String yaml =
        """
        evaluate-every: 100ms
        webhook:
          url: http://127.0.0.1:%d/hook
          secret: ${TEST_SECRET}
          retries: 3
          timeout: 5s
        rules:
          - name: mailbox-backlog
            severity: critical
            metric: cfn_mailbox_depth
            op: ">"
            threshold: 5
            for: 300ms
            summary: messages pile up
        """
            .formatted(receiver.getAddress().getPort());
    AlertConfig config = AlertConfig.parse(yaml, "test rules", Map.of("TEST_SECRET", SECRET));
    node =
        TestNode.start(
            home,
            b ->
                b.alerts(config)
                    .webhookBackoff(Duration.ofMillis(50))
                    .agentType(
                        AgentType.builder(
                                "held",
                                id ->
                                    (m, ctx) -> {
                                      if (!release.await(60, TimeUnit.SECONDS)) {
                                        throw new IllegalStateException("never released");
                                      }
                                    })
                            .blocking()
                            .build()));
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (node != null) {
      node.close();
    }
    receiver.stop(0);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - end).as("waiting for " + what).isNegative();
      Thread.sleep(20);
    }
  }

  String state(String token) throws Exception {
    JsonNode j = Gate.JSON.readTree(node.get("/v1/alerts", token).body());
    return j.path("rules").get(0).path("state").asText();
  }

  @Test
  void anAlertGoesPendingFiresAtTheSignedWebhookAndResolves() throws Exception {
    String viewer = node.token(Role.VIEWER);
    assertThat(state(viewer)).isEqualTo("inactive");
    // Across the threshold: ten messages wait behind one the held agent never finishes (yet).
    for (int i = 0; i < 11; i++) {
      node.server.runtime().send(AgentId.of("held", "1"), i);
    }
    await("the alert to fire at the webhook", () -> !received.isEmpty());
    JsonNode firing = received.getFirst();
    assertThat(firing.path("status").asText()).isEqualTo("firing");
    assertThat(firing.path("alert").asText()).isEqualTo("mailbox-backlog");
    assertThat(firing.path("severity").asText()).isEqualTo("critical");
    assertThat(firing.path("value").asDouble()).isGreaterThan(5);
    assertThat(attempts.get()).as("the first delivery was refused and retried").isEqualTo(2);
    assertThat(state(viewer)).isEqualTo("firing");

    // Back under it: the agent is released, the mailbox drains.
    release.countDown();
    await("the alert to resolve at the webhook", () -> received.size() >= 2);
    JsonNode resolved = received.get(1);
    assertThat(resolved.path("status").asText()).isEqualTo("resolved");
    assertThat(resolved.path("endsAt").asText()).isNotBlank();
    assertThat(badSignatures.get()).isZero();
    await(
        "the resolved delivery in the history",
        () -> {
          try {
            return AlertHistory.of(home).read(0).stream()
                    .filter(e -> e.state().equals("notified"))
                    .count()
                >= 2;
          } catch (java.io.IOException e) {
            return false;
          }
        });

    List<String> states =
        AlertHistory.of(home).read(0).stream()
            .filter(e -> e.rule().equals("mailbox-backlog"))
            .map(AlertHistory.Entry::state)
            .toList();
    assertThat(states).containsSubsequence("pending", "firing", "resolved");
    assertThat(states).containsSubsequence("firing", "notified", "resolved", "notified");
    assertThat(state(viewer)).isEqualTo("inactive");

    JsonNode history = Gate.JSON.readTree(node.get("/v1/alerts/history", viewer).body());
    assertThat(history.path("entries").size()).isGreaterThanOrEqualTo(5);
    assertThat(
            new String(
                java.nio.file.Files.readAllBytes(home.resolve(AlertHistory.FILE)),
                StandardCharsets.UTF_8))
        .contains("\"state\":\"firing\"");
  }

  @Test
  void aTestNotificationReachesTheWebhookThroughTheApi() throws Exception {
    String operator = node.token(Role.OPERATOR);
    var r = node.call("POST", "/v1/alerts/test?rule=mailbox-backlog", operator, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode d = Gate.JSON.readTree(r.body());
    assertThat(d.path("delivered").asBoolean()).isTrue();
    assertThat(d.path("attempts").asInt()).isEqualTo(2);
    assertThat(received)
        .singleElement()
        .satisfies(j -> assertThat(j.path("status").asText()).isEqualTo("test"));
    assertThat(node.call("POST", "/v1/alerts/test?rule=nope", operator, null).statusCode())
        .isEqualTo(400);
    assertThat(node.call("POST", "/v1/alerts/test", node.token(Role.VIEWER), null).statusCode())
        .isEqualTo(403);
  }
}
