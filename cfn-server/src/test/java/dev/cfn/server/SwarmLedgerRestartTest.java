package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.auth.Role;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's swarms are durable swarms: what a swarm's members spent and what its topology refused
 * is in the node's journal, so the swarm made again when the node starts on the same home begins
 * from it and its budget refuses what would take it over its limit across the restart; closing the
 * swarm deletes its ledger, so a new swarm of that name starts from nothing.
 */
class SwarmLedgerRestartTest {
  @TempDir Path home;

  private static final String SWARM =
      "{\"name\":\"team\",\"topology\":\"ring\",\"budget\":{\"maxCalls\":2},\"members\":["
          + "{\"type\":\"worker\",\"key\":\"1\"},{\"type\":\"relay\",\"key\":\"a\"},"
          + "{\"type\":\"echo\",\"key\":\"b\"},{\"type\":\"echo\",\"key\":\"c\"},"
          + "{\"type\":\"echo\",\"key\":\"d\"}]}";

  private static final String ASK = "{\"to\":\"worker/1\",\"task\":\"say hi\",\"timeoutMs\":60000}";

  private Consumer<CfnServer.Builder> served(ModelServer models) {
    return FlowRoutesTest.RELAY.andThen(LoopSubmitTest.served(models));
  }

  private static JsonNode swarm(TestNode node) throws Exception {
    HttpResponse<String> r = node.get("/v1/swarms/team", node.token(Role.VIEWER));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Gate.JSON.readTree(r.body());
  }

  private static JsonNode ask(TestNode node) throws Exception {
    HttpResponse<String> r =
        node.call("POST", "/v1/messages/request", node.token(Role.OPERATOR), ASK);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Gate.JSON.readTree(r.body()).path("payload");
  }

  @Test
  void aSwarmsSpendAndRefusalsOutliveARestartOfTheNodeAndItsBudgetHolds() throws Exception {
    Path agents = home.resolve(".claude/agents");
    Files.createDirectories(agents);
    Files.writeString(
        agents.resolve("worker.md"),
        "---\nname: worker\ndescription: the worker\ntools: []\nmodel: test-model\n---\n"
            + "You are the worker.\n");
    try (ModelServer models = ModelServer.start()) {
      models.script().on(Match.systemContains("You are the worker.")).reply(Reply.text("hi"));
      try (TestNode node = TestNode.start(home, served(models))) {
        String operator = node.token(Role.OPERATOR);
        HttpResponse<String> r = node.call("POST", "/v1/swarms", operator, SWARM);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        // a best-effort request, no idempotency key: no call record, its spend counted anyway
        assertThat(ask(node).path("text").asText()).isEqualTo("hi");
        // ring of worker/1, relay/a, echo/b, echo/c, echo/d: relay/a may not message echo/c
        assertThat(
                node.call(
                        "POST",
                        "/v1/messages/send",
                        operator,
                        "{\"to\":\"relay/a\",\"payload\":\"to echo/c\"}")
                    .statusCode())
            .isEqualTo(202);
        FlowRoutesTest.until(
            node, "/v1/swarms/team", node.token(Role.VIEWER), j -> j.path("refused").asLong() == 1);
        node.server
            .node()
            .swarms
            .get("team")
            .orElseThrow()
            .swarm()
            .awaitLedger(Duration.ofSeconds(60));
        JsonNode s = swarm(node);
        assertThat(s.path("budget").path("calls").asLong()).isEqualTo(1);
      }
      assertThat(models.received()).isEqualTo(1);

      try (TestNode node = TestNode.start(home, served(models))) {
        JsonNode s = swarm(node);
        assertThat(s.path("budget").path("calls").asLong())
            .as("the call before the restart, from the swarm's ledger")
            .isEqualTo(1);
        assertThat(s.path("budget").path("tokens").asLong()).isPositive();
        assertThat(s.path("refused").asLong()).isEqualTo(1);
        assertThat(s.path("recentRefusalsByRule").path("ring topology").asInt()).isEqualTo(1);

        // the limit of 2 calls counts the one before the restart: one more, then refused
        assertThat(ask(node).path("text").asText()).isEqualTo("hi");
        assertThat(swarm(node).path("budget").path("calls").asLong()).isEqualTo(2);
        JsonNode refused = ask(node);
        assertThat(refused.path("kind").asText()).isEqualTo("BUDGET_EXHAUSTED");
        assertThat(models.received()).isEqualTo(2);

        // closed, the swarm's ledger goes with it: a new swarm of the name starts from nothing
        String operator = node.token(Role.OPERATOR);
        assertThat(node.call("DELETE", "/v1/swarms/team", operator, null).statusCode())
            .isEqualTo(200);
        HttpResponse<String> r =
            node.call("POST", "/v1/swarms", operator, "{\"name\":\"team\",\"topology\":\"mesh\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        s = swarm(node);
        assertThat(s.path("budget").path("calls").asLong()).isZero();
        assertThat(s.path("refused").asLong()).isZero();
      }
    }
  }

  @Test
  void aMemberWhoseTaskWaitedForItsTypeChargesTheSwarmFromItsFirstCall() throws Exception {
    Path agents = home.resolve(".claude/agents");
    Files.createDirectories(agents);
    Files.writeString(
        agents.resolve("worker.md"),
        "---\nname: worker\ndescription: the worker\ntools: []\nmodel: test-model\n---\n"
            + "You are the worker.\n");
    try (ModelServer models = ModelServer.start()) {
      models.script().on(Match.systemContains("You are the worker.")).reply(Reply.text("hi"));
      try (TestNode node = TestNode.start(home, served(models))) {
        String operator = node.token(Role.OPERATOR);
        // a task for worker/1 while no agent of the type runs: the journal keeps it for the type
        HttpResponse<String> sent =
            node.call(
                "POST",
                "/v1/messages/send",
                operator,
                "{\"to\":\"worker/1\",\"task\":\"say hi\",\"reliable\":true}");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
        assertThat(node.server.runtime().isRegistered("worker")).isFalse();
        // joining registers the type, which delivers the task at once: its call is the swarm's
        HttpResponse<String> r =
            node.call(
                "POST",
                "/v1/swarms",
                operator,
                "{\"name\":\"team\",\"topology\":\"mesh\",\"budget\":{\"maxCalls\":5},"
                    + "\"members\":[{\"type\":\"worker\",\"key\":\"1\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        FlowRoutesTest.until(
            node,
            "/v1/swarms/team",
            node.token(Role.VIEWER),
            j -> j.path("budget").path("calls").asLong() == 1);
        assertThat(models.received()).isEqualTo(1);
      }
    }
  }

  @Test
  void aMembersTaskUnderWayAtTheStopIsChargedToItsSwarmWhenTheNodeResumesIt() throws Exception {
    Path agents = home.resolve(".claude/agents");
    Files.createDirectories(agents);
    Files.writeString(
        agents.resolve("worker.md"),
        "---\nname: worker\ndescription: the worker\ntools: []\nmodel: test-model\n---\n"
            + "You are the worker.\n");
    try (ModelServer models = ModelServer.start()) {
      // the first answer takes longer than the first node lives; asked again, it comes at once
      models
          .script()
          .on(Match.systemContains("You are the worker."))
          .reply(Reply.text("late").after(Duration.ofSeconds(90)), Reply.text("hi"));
      Consumer<CfnServer.Builder> durably =
          served(models).andThen(b -> b.retryPolicy(dev.cfn.core.RetryPolicy.DEFAULT));
      try (TestNode node = TestNode.start(home, durably)) {
        String operator = node.token(Role.OPERATOR);
        HttpResponse<String> r = node.call("POST", "/v1/swarms", operator, SWARM);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        r =
            node.call(
                "POST",
                "/v1/messages/send",
                operator,
                "{\"to\":\"worker/1\",\"task\":\"say hi\",\"reliable\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (models.received() == 0 && System.nanoTime() < end) {
          Thread.sleep(50);
        }
        assertThat(models.received()).isEqualTo(1);
      } // stopped while the worker's call is in flight: the task stays in the journal

      try (TestNode node = TestNode.start(home, durably)) {
        JsonNode s =
            FlowRoutesTest.until(
                node,
                "/v1/swarms/team",
                node.token(Role.VIEWER),
                j -> j.path("budget").path("calls").asLong() == 1);
        assertThat(s.path("budget").path("calls").asLong())
            .as("the resumed task's call charged to the swarm, not to a budget of the agent's own")
            .isEqualTo(1);
        assertThat(models.received()).isEqualTo(2);
      }
      try (TestNode node = TestNode.start(home, durably)) {
        assertThat(swarm(node).path("budget").path("calls").asLong())
            .as("and kept in the swarm's ledger")
            .isEqualTo(1);
      }
    }
  }
}
