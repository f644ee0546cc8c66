package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopStatus;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.audit.RecordingAuditTrail;
import dev.cfn.server.auth.Role;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CFN Loop runs submitted to a node ({@code POST /v1/loops} and the MCP tool {@code loop_submit}):
 * their agents are definitions of {@code .claude/agents} answered by the testkit's model server
 * through the node's model providers. A run goes on by itself to the owner's decision, or to
 * ESCALATE and a person's decision through the API; a token without the role or the scopes, and a
 * malformed loop, are refused (4xx problems, audited, nothing started); and a node stopped while a
 * run waits for an agent's answer resumes the run when it starts again.
 */
class LoopSubmitTest {
  @TempDir Path home;

  static final String LOOP =
      "\"task\":\"Write add\",\"implementers\":[\"coder\"],\"validators\":[\"reviewer\","
          + "\"tester\"],\"callTimeoutMs\":150000";

  /** The model's answers: the owner escalates, the approver proceeds. */
  static void script(ModelServer models, Reply coder) {
    models.script().on(system("coder")).reply(coder, answer("coder"));
    for (String v : List.of("reviewer", "tester")) {
      models.script().on(system(v)).reply(answer(v));
    }
    models.script().on(system("owner")).reply(answer("owner"));
    models.script().on(system("approver")).reply(answer("approver"));
  }

  static Reply answer(String agent) {
    return Reply.text(
        switch (agent) {
          case "coder" -> "{\"result\": \"int add(int a, int b)\", \"confidence\": 0.9}";
          case "owner" ->
              "{\"decision\": \"ESCALATE\", \"reason\": \"licence question\", \"followUps\": []}";
          case "approver" -> "{\"decision\": \"PROCEED\", \"reason\": \"good\", \"followUps\": []}";
          default -> "{\"verdict\": \"approve\", \"confidence\": 0.95, \"findings\": []}";
        });
  }

  static Match system(String agent) {
    return Match.systemContains("You are the " + agent + ".");
  }

  /** The loop's agent definitions in {@code home/.claude/agents}. */
  static void definitions(Path home) throws Exception {
    Path agents = home.resolve(".claude/agents");
    Files.createDirectories(agents);
    for (String name : List.of("coder", "reviewer", "tester", "owner", "approver")) {
      Files.writeString(
          agents.resolve(name + ".md"),
          "---\nname: "
              + name
              + "\ndescription: the loop's "
              + name
              + "\ntools: []\nmodel: test-model\n---\nYou are the "
              + name
              + ".\n");
    }
  }

  /** A node whose model provider is {@code models}, with a rate limit the polls cannot meet. */
  static Consumer<CfnServer.Builder> served(ModelServer models) {
    String yaml =
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + models.openAiBaseUrl()
            + "\n    api-key: k\n    model: test-model\n";
    return b -> b.models(() -> ModelConfig.parse(yaml, "test", Map.of())).rateLimit(10_000, 10_000);
  }

  /**
   * As {@link #served}, with the runtime's default retry policy (as {@code cfn serve} runs): a
   * handler interrupted by the node's stop is delivered again, not dead-lettered at once.
   */
  static Consumer<CfnServer.Builder> servedDurably(ModelServer models) {
    return served(models).andThen(b -> b.retryPolicy(dev.cfn.core.RetryPolicy.DEFAULT));
  }

  static boolean coder(dev.cfn.testkit.RecordedRequest r) {
    return String.valueOf(r.system()).contains("You are the coder.");
  }

  /** Reads run {@code run} until its status is {@code status}, for at most 90 s. */
  static JsonNode until(TestNode node, String run, String status) throws Exception {
    String viewer = node.token(Role.VIEWER);
    long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    String last = "";
    while (System.nanoTime() < end) {
      HttpResponse<String> r = node.get("/v1/loops/" + run, viewer);
      last = r.body();
      if (r.statusCode() == 200) {
        JsonNode j = Gate.JSON.readTree(last);
        if (j.path("status").asText().equals(status)) {
          return j;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("run " + run + " did not become " + status + " in 90 s: " + last);
  }

  static void assertProblem(HttpResponse<String> r, int status, String... detail) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
    assertThat(r.body()).contains("\"status\":" + status);
    for (String d : detail) {
      assertThat(r.body()).contains(d);
    }
  }

  @Test
  void aLoopSubmittedOverRestEscalatesAndAPersonDecidesIt() throws Exception {
    definitions(home);
    try (ModelServer models = ModelServer.start()) {
      script(models, answer("coder"));
      try (TestNode node = TestNode.start(home, served(models))) {
        String operator = node.token(Role.OPERATOR);
        String body = "{\"run\":\"s-1\"," + LOOP + ",\"owner\":\"owner\"}";

        // who may submit: an operator whose scopes cover every agent of the loop
        assertProblem(node.call("POST", "/v1/loops", null, body), 401);
        node.audit.clear();
        assertProblem(node.call("POST", "/v1/loops", node.token(Role.VIEWER), body), 403);
        assertProblem(node.call("POST", "/v1/loops", node.token(Role.AGENT), body), 403);
        assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
            .hasSize(2)
            .allSatisfy(e -> assertThat(e.action()).isEqualTo("POST /v1/loops"));
        String coderOnly = node.token(Role.OPERATOR, "agent:coder");
        assertProblem(
            node.call("POST", "/v1/loops", coderOnly, body), 403, "agent 'reviewer'", "--scope");

        // malformed loops: a 4xx problem saying what to fix, never a 5xx
        assertProblem(node.call("POST", "/v1/loops", operator, "{\"run\": "), 400);
        assertThat(node.call("POST", "/v1/loops", operator, "[1,2]").statusCode())
            .isBetween(400, 499);
        assertProblem(node.call("POST", "/v1/loops", operator, "{" + LOOP + "}"), 422, "owner");
        assertProblem(
            node.call(
                "POST",
                "/v1/loops",
                operator,
                "{\"task\":\"x\",\"implementers\":[\"coder\"],\"validators\":[\"tester\"],"
                    + "\"owner\":\"owner\"}"),
            422,
            "validators");
        assertProblem(
            node.call("POST", "/v1/loops", operator, "{" + LOOP + ",\"owner\":\"ghost\"}"),
            422,
            "ghost",
            "fix: use one of");
        assertProblem(
            node.call(
                "POST", "/v1/loops", operator, "{" + LOOP + ",\"owner\":\"owner\",\"quorum\":3}"),
            422,
            "quorum");
        assertProblem(
            node.call(
                "POST", "/v1/loops", operator, "{" + LOOP + ",\"owner\":\"owner\",\"gate\":1.5}"),
            422,
            "gate");
        assertProblem(
            node.call(
                "POST",
                "/v1/loops",
                operator,
                "{\"run\":\"a b\"," + LOOP + ",\"owner\":\"owner\"}"),
            422,
            "run");
        assertProblem(
            node.call(
                "POST",
                "/v1/loops",
                operator,
                "{\"task\":\"   \",\"implementers\":[\"coder\"],\"validators\":[\"reviewer\","
                    + "\"tester\"],\"owner\":\"owner\"}"),
            422,
            "task");
        JsonNode none = Gate.JSON.readTree(node.get("/v1/loops", operator).body());
        assertThat(none.path("loops")).as("nothing refused was started").isEmpty();
        assertThat(models.received()).isZero();

        // the run: started, refused a second time, on to the owner's ESCALATE, then decided
        HttpResponse<String> started = node.call("POST", "/v1/loops", operator, body);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        assertThat(started.headers().firstValue("Location")).hasValue("/v1/loops/s-1");
        JsonNode s = Gate.JSON.readTree(started.body());
        assertThat(s.path("id").asText()).isEqualTo("s-1");
        assertThat(s.path("quorum").asInt()).isEqualTo(2);
        assertProblem(node.call("POST", "/v1/loops", operator, body), 409, "exists already");

        JsonNode waiting = until(node, "s-1", "WAITING");
        assertThat(waiting.toString()).contains("licence question", "int add(int a, int b)");
        HttpResponse<String> decided =
            node.call(
                "POST",
                "/v1/loops/s-1/decision",
                operator,
                "{\"decision\":\"PROCEED\",\"note\":\"MIT\"}");
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        assertThat(Gate.JSON.readTree(decided.body()).path("status").asText())
            .isEqualTo("ACCEPTED");
        assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
            .anySatisfy(
                e -> {
                  assertThat(e.action()).isEqualTo("POST /v1/loops");
                  assertThat(e.target()).isEqualTo("loop:s-1");
                  assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
                })
            .anySatisfy(
                e -> {
                  assertThat(e.action()).isEqualTo("POST /v1/loops");
                  assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.FAILED);
                });
        JsonNode listed = Gate.JSON.readTree(node.get("/v1/loops", operator).body());
        assertThat(listed.path("loops")).hasSize(1);
        assertThat(listed.path("loops").get(0).path("status").asText()).isEqualTo("ACCEPTED");
      }
    }
  }

  @Test
  void aLoopSubmittedOverMcpReachesTheOwnersDecision() throws Exception {
    definitions(home);
    RecordingAuditTrail audit;
    try (ModelServer models = ModelServer.start()) {
      script(models, answer("coder"));
      try (TestNode node = TestNode.start(home, served(models));
          McpSyncClient agent = McpNodeToolsTest.client(node, node.token(Role.AGENT));
          McpSyncClient operator = McpNodeToolsTest.client(node, node.token(Role.OPERATOR))) {
        audit = node.audit;
        McpSchema.Tool tool =
            operator.listTools().tools().stream()
                .filter(t -> t.name().equals("loop_submit"))
                .findFirst()
                .orElseThrow();
        assertThat(tool.description()).contains("POST /v1/loops", "operator");
        assertThat(String.valueOf(tool.inputSchema().get("required")))
            .contains("task", "implementers", "validators", "owner");

        Map<String, Object> loop =
            Map.of(
                "run",
                "m-1",
                "task",
                "Write add",
                "implementers",
                List.of("coder"),
                "validators",
                List.of("reviewer", "tester"),
                "owner",
                "approver");
        McpSchema.CallToolResult denied = McpClients.call(agent, "loop_submit", loop);
        assertThat(denied.isError()).isTrue();
        assertThat(McpClients.text(denied)).contains("POST /v1/loops", "--role operator");
        McpSchema.CallToolResult invalid =
            McpClients.call(operator, "loop_submit", Map.of("task", "x", "owner", "o"));
        assertThat(invalid.isError()).isTrue();
        assertThat(McpClients.text(invalid)).contains("invalid arguments for loop_submit");
        assertThat(models.received()).isZero();

        JsonNode started = McpNodeToolsTest.ok(McpClients.call(operator, "loop_submit", loop));
        assertThat(started.path("id").asText()).isEqualTo("m-1");
        JsonNode done =
            McpNodeToolsTest.until(
                operator,
                "loop_show",
                Map.of("run", "m-1"),
                j -> j.path("status").asText().equals("ACCEPTED"));
        assertThat(done.path("decisions").toString()).contains("PROCEED");
        // what the tool shows is what the route shows
        assertThat(done)
            .isEqualTo(
                Gate.JSON.readTree(node.get("/v1/loops/m-1", node.token(Role.VIEWER)).body()));
      }
    }
    McpNodeToolsTest.hasRoute(audit, "POST /v1/loops", "loop:m-1", "mcp.loop_submit");
  }

  @Test
  void aNodeRestartedWithAnUnfinishedLoopResumesIt() throws Exception {
    definitions(home);
    try (ModelServer models = ModelServer.start()) {
      // the coder's first answer takes longer than the first node lives: the run is under way
      script(models, answer("coder").after(Duration.ofSeconds(90)));
      try (TestNode node = TestNode.start(home, servedDurably(models))) {
        HttpResponse<String> started =
            node.call(
                "POST",
                "/v1/loops",
                node.token(Role.OPERATOR),
                "{\"run\":\"r-1\"," + LOOP + ",\"owner\":\"owner\"}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (models.requests().stream().noneMatch(LoopSubmitTest::coder)
            && System.nanoTime() < end) {
          Thread.sleep(50);
        }
        assertThat(models.requests()).anyMatch(LoopSubmitTest::coder);
      } // stopped while the coder's call is in flight
      assertThat(stored("r-1").status()).isEqualTo(LoopStatus.RUNNING);
      assertThat(stored("r-1").steps()).isEmpty();

      try (TestNode node = TestNode.start(home, servedDurably(models))) {
        assertThat(node.server.node().loopRuns.resumed()).containsExactly("r-1");
        JsonNode waiting = until(node, "r-1", "WAITING"); // the coder asked again, answered now
        assertThat(waiting.toString()).contains("int add(int a, int b)", "licence question");
        HttpResponse<String> decided =
            node.call(
                "POST",
                "/v1/loops/r-1/decision",
                node.token(Role.OPERATOR),
                "{\"decision\":\"DEFER\"}");
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        assertThat(Gate.JSON.readTree(decided.body()).path("status").asText())
            .isEqualTo("DEFERRED");
      }
      assertThat(stored("r-1").status()).isEqualTo(LoopStatus.DEFERRED);
      assertThat(models.requests().stream().filter(LoopSubmitTest::coder).count())
          .as("the call in flight at the stop is asked again")
          .isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void theAcceptanceOfARunIsDroppedWhenItFinishesWithoutARestart() throws Exception {
    definitions(home);
    try (ModelServer models = ModelServer.start()) {
      script(models, answer("coder"));
      try (TestNode node = TestNode.start(home, served(models))) {
        String operator = node.token(Role.OPERATOR);
        LoopRuns runs = node.server.node().loopRuns;
        // the approver proceeds: the run finishes by itself
        HttpResponse<String> started =
            node.call(
                "POST",
                "/v1/loops",
                operator,
                "{\"run\":\"d-1\"," + LOOP + ",\"owner\":\"approver\"}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        until(node, "d-1", "ACCEPTED");
        assertThat(untilForgotten(runs, "d-1")).as("the acceptance of finished run d-1").isFalse();

        // the owner escalates: the run waits, keeps its acceptance, and drops it once decided
        started =
            node.call(
                "POST",
                "/v1/loops",
                operator,
                "{\"run\":\"d-2\"," + LOOP + ",\"owner\":\"owner\"}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        until(node, "d-2", "WAITING");
        assertThat(runs.acceptedIds()).contains("d-2");
        HttpResponse<String> decided =
            node.call("POST", "/v1/loops/d-2/decision", operator, "{\"decision\":\"ABORT\"}");
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        assertThat(untilForgotten(runs, "d-2")).as("the acceptance of decided run d-2").isFalse();
      }
      // a crash between the finish and the drop: the acceptance is back, the next open drops it
      acceptAgain("d-1");
      try (TestNode node = TestNode.start(home, served(models))) {
        assertThat(
                node.server
                    .node()
                    .journal
                    .state(LoopRunner.coordinator("d-1"), LoopRecord.STATE_KEY)
                    .map(LoopRecord::fromJson)
                    .orElseThrow()
                    .status())
            .isEqualTo(LoopStatus.ACCEPTED);
        assertThat(untilForgotten(node.server.node().loopRuns, "d-1")).isFalse();
        assertThat(node.server.node().loopRuns.resumed()).isEmpty();
      }
    }
  }

  /** Whether run {@code run} still has an acceptance after up to 60 s of waiting for its drop. */
  private static boolean untilForgotten(LoopRuns runs, String run) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (runs.acceptedIds().contains(run) && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    return runs.acceptedIds().contains(run);
  }

  /** Commits an acceptance of {@code run} in the stopped node's journal, as a crash leaves it. */
  private void acceptAgain(String run) throws Exception {
    LoopRecord r = stored(run);
    try (SqliteJournal j =
            SqliteJournal.builder(home.resolve(".cfn").resolve("cfn.db"))
                .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
                .payloadType(LoopRuns.Accepted.class)
                .open();
        dev.cfn.core.AgentRuntime rt =
            dev.cfn.core.AgentRuntime.builder()
                .jvmMetrics(false)
                .journal(j)
                .register(
                    dev.cfn.core.AgentType.of(
                        LoopRuns.ACCEPTED.type(), id -> LoopRuns.acceptance()))
                .build()) {
      rt.request(
              dev.cfn.core.Envelope.to(LoopRuns.ACCEPTED)
                  .delivery(dev.cfn.core.DeliveryMode.RELIABLE)
                  .payload(new LoopRuns.Accepted(run, r.toJson())),
              Duration.ofSeconds(30))
          .get(40, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(j.state(LoopRuns.ACCEPTED, run)).isPresent();
    }
  }

  private LoopRecord stored(String run) {
    try (SqliteJournal j =
        SqliteJournal.builder(home.resolve(".cfn").resolve("cfn.db"))
            .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
            .open()) {
      return j.state(LoopRunner.coordinator(run), LoopRecord.STATE_KEY)
          .map(LoopRecord::fromJson)
          .orElseThrow();
    }
  }
}
