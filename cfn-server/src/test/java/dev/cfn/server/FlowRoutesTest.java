package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentType;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The task-graph and swarm routes on a real node: a graph submitted as YAML runs RELIABLE to its
 * end with every task shown; a bad graph is refused with its fixes and writes nothing; a run and a
 * task are cancelled; a run survives a restart of the node; a star swarm shows who may message
 * whom, refuses a message between two spokes and counts it by rule; members join and leave; the
 * graph's and the swarm's {@code cfn.flow.*} events reach the event stream.
 */
class FlowRoutesTest {
  @TempDir Path home;

  static final String CHAIN =
      """
      graph: chain
      tasks:
        - id: first
          agent: echo
          input: "hello {{state.who}}"
        - id: second
          agent: echo
          after: first
          input: "{{result.first}}!"
      """;

  static final String STUCK =
      """
      graph: stuck
      tasks:
        - id: wait
          agent: silent
          input: never answered
          timeout: 10m
        - id: after-wait
          agent: echo
          after: wait
          input: later
      """;

  /** A relay: a message "to TYPE/KEY" is sent on to that agent (so members message each other). */
  static final Consumer<CfnServer.Builder> RELAY =
      b ->
          b.agentType(
              AgentType.of(
                  "relay",
                  id ->
                      (m, ctx) -> {
                        if (m.payload() instanceof String s && s.startsWith("to ")) {
                          String[] t = s.substring(3).split("/", 2);
                          ctx.send(AgentId.of(t[0], t[1]), "hi from " + id);
                        }
                      }));

  static String submit(String yaml, String run) throws Exception {
    return Gate.JSON.writeValueAsString(
        java.util.Map.of("graph", yaml, "run", run, "state", java.util.Map.of("who", "cfn")));
  }

  static JsonNode until(TestNode node, String path, String token, Predicate<JsonNode> done)
      throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonNode last = null;
    while (System.nanoTime() < end) {
      HttpResponse<String> r = node.get(path, token);
      last = Gate.JSON.readTree(r.body());
      if (r.statusCode() == 200 && done.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("not reached within 30 s; last: " + last);
  }

  @Test
  void aSubmittedGraphRunsToItsEndAndEveryTaskIsShown() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      String operator = node.token(Role.OPERATOR);
      String viewer = node.token(Role.VIEWER);
      assertThat(node.call("POST", "/v1/graphs", viewer, submit(CHAIN, "c-1")).statusCode())
          .isEqualTo(403);
      HttpResponse<String> r = node.call("POST", "/v1/graphs", operator, submit(CHAIN, "c-1"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      assertThat(r.headers().firstValue("Location")).hasValue("/v1/graphs/c-1");
      JsonNode done =
          until(node, "/v1/graphs/c-1", viewer, j -> j.path("status").asText().equals("SUCCEEDED"));
      assertThat(done.path("tasks").get(0).path("id").asText()).isEqualTo("first");
      assertThat(done.path("tasks").get(0).path("result").asText()).isEqualTo("hello cfn");
      assertThat(done.path("tasks").get(1).path("status").asText()).isEqualTo("SUCCEEDED");
      assertThat(done.path("tasks").get(1).path("result").asText()).isEqualTo("hello cfn!");
      assertThat(done.path("state").path("who").asText()).isEqualTo("cfn");
      assertThat(node.audit.events())
          .anySatisfy(
              e -> {
                assertThat(e.action()).isEqualTo("POST /v1/graphs");
                assertThat(e.target()).isEqualTo("graph:c-1");
                assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
              });
      JsonNode list = Gate.JSON.readTree(node.get("/v1/graphs", viewer).body());
      assertThat(list.path("runs").get(0).path("run").asText()).isEqualTo("c-1");
      assertThat(list.path("runs").get(0).path("counts").path("SUCCEEDED").asInt()).isEqualTo(2);
      // the same run id again is a conflict; the graph as a JSON object is taken too
      assertThat(node.call("POST", "/v1/graphs", operator, submit(CHAIN, "c-1")).statusCode())
          .isEqualTo(409);
      String asJson =
          "{\"graph\":{\"graph\":\"one\",\"tasks\":[{\"id\":\"t\",\"agent\":\"echo\","
              + "\"input\":\"x\"}]},\"run\":\"j-1\"}";
      assertThat(node.call("POST", "/v1/graphs", operator, asJson).statusCode()).isEqualTo(201);
      until(node, "/v1/graphs/j-1", viewer, j -> j.path("status").asText().equals("SUCCEEDED"));
      // the run's files are cfn task's, so that cfn task status reads a served run
      assertThat(home.resolve(".cfn/runs/c-1/graph.yaml")).exists();
    }
  }

  @Test
  void aBadGraphIsRefusedWithItsFixesAndNothingIsWritten() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      String operator = node.token(Role.OPERATOR);
      String cyclic =
          "graph: loop\ntasks:\n  - id: a\n    agent: echo\n    after: b\n    input: x\n"
              + "  - id: b\n    agent: echo\n    after: a\n    input: y\n";
      HttpResponse<String> r = node.call("POST", "/v1/graphs", operator, submit(cyclic, "bad-1"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
      assertThat(r.body()).contains("fix: ").contains("cycle");
      String unknown = "graph: u\ntasks:\n  - id: a\n    agent: nobody\n    input: x\n";
      r = node.call("POST", "/v1/graphs", operator, submit(unknown, "bad-2"));
      assertThat(r.statusCode()).isEqualTo(422);
      assertThat(r.body()).contains("nobody").contains("echo");
      String swarmed = "graph: s\nswarm: team\ntasks:\n  - id: a\n    capability: echo\n";
      r = node.call("POST", "/v1/graphs", operator, submit(swarmed, "bad-4"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
      assertThat(r.body()).contains("runs through swarm 'team'").contains("cfn task submit");
      assertThat(Files.exists(home.resolve(".cfn/runs/bad-4"))).isFalse();
      r = node.call("POST", "/v1/graphs", operator, "{\"graph\":\"x\",\"run\":\"no spaces\"}");
      assertThat(r.statusCode()).isEqualTo(422);
      r = node.call("POST", "/v1/graphs", operator, "{\"graph\":\"" + "x".repeat(300_000) + "\"}");
      assertThat(r.statusCode()).isEqualTo(422);
      assertThat(Files.exists(home.resolve(".cfn/runs/bad-1"))).isFalse();
      assertThat(Files.exists(home.resolve(".cfn/runs/bad-2"))).isFalse();
      // a token scoped to other agents may not submit a graph sending to echo
      String scoped = node.token(Role.OPERATOR, "agent:planner");
      r = node.call("POST", "/v1/graphs", scoped, submit(CHAIN, "bad-3"));
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(Files.exists(home.resolve(".cfn/runs/bad-3"))).isFalse();
      assertThat(node.get("/v1/graphs/nope", operator).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aRunAndATaskAreCancelledAndARunOutlivesARestart() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      String operator = node.token(Role.OPERATOR);
      assertThat(node.call("POST", "/v1/graphs", operator, submit(STUCK, "s-1")).statusCode())
          .isEqualTo(201);
      assertThat(node.call("POST", "/v1/graphs", operator, submit(STUCK, "s-2")).statusCode())
          .isEqualTo(201);
      until(node, "/v1/graphs/s-1", operator, j -> running(j, 0));
      until(node, "/v1/graphs/s-2", operator, j -> running(j, 0));
      // a token whose scopes do not cover the run's agents may not cancel it
      String scoped = node.token(Role.OPERATOR, "agent:planner");
      HttpResponse<String> r = node.call("POST", "/v1/graphs/s-1/cancel", scoped, "{}");
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.body()).contains("agent:");
      r = node.call("POST", "/v1/graphs/s-1/cancel", operator, "{\"task\":\"nope\"}");
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.body()).contains("after-wait");
      r = node.call("POST", "/v1/graphs/s-1/cancel", operator, "{\"task\":\"wait\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      JsonNode c =
          until(
              node, "/v1/graphs/s-1", operator, j -> j.path("status").asText().equals("CANCELLED"));
      assertThat(c.path("tasks").get(0).path("status").asText()).isEqualTo("CANCELLED");
      assertThat(c.path("tasks").get(1).path("status").asText()).isEqualTo("CANCELLED");
      assertThat(node.call("POST", "/v1/graphs/s-1/cancel", operator, "{}").statusCode())
          .isEqualTo(409);
      assertThat(node.audit.events())
          .anySatisfy(
              e -> {
                assertThat(e.action()).isEqualTo("POST /v1/graphs/{run}/cancel");
                assertThat(e.target()).isEqualTo("graph:s-1/wait");
              });
    }
    // s-2 is still running when the node stops; a new node has its graph and cancels it
    try (TestNode node = TestNode.start(home)) {
      String operator = node.token(Role.OPERATOR);
      assertThat(
              Gate.JSON
                  .readTree(node.get("/v1/graphs/s-2", operator).body())
                  .path("status")
                  .asText())
          .isEqualTo("RUNNING");
      assertThat(node.call("POST", "/v1/graphs/s-2/resume", operator, null).statusCode())
          .isEqualTo(202);
      HttpResponse<String> r = node.call("POST", "/v1/graphs/s-2/cancel", operator, "{}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      until(node, "/v1/graphs/s-2", operator, j -> j.path("status").asText().equals("CANCELLED"));
    }
  }

  private static boolean running(JsonNode run, int task) {
    return run.path("tasks").get(task).path("status").asText().equals("RUNNING");
  }

  @Test
  void aStarSwarmShowsWhoMayMessageWhomRefusesSpokesAndMembersJoinAndLeave() throws Exception {
    try (TestNode node = TestNode.start(home, RELAY)) {
      String operator = node.token(Role.OPERATOR);
      String viewer = node.token(Role.VIEWER);
      HttpResponse<String> r =
          node.call(
              "POST",
              "/v1/swarms",
              operator,
              "{\"name\":\"team\",\"topology\":\"star\",\"budget\":{\"maxCalls\":10},"
                  + "\"members\":[{\"type\":\"relay\",\"key\":\"hub\"},"
                  + "{\"type\":\"relay\",\"key\":\"a\"},{\"type\":\"echo\",\"key\":\"b\"}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      assertThat(node.call("POST", "/v1/swarms", operator, "{\"name\":\"team\"}").statusCode())
          .isEqualTo(409);
      assertThat(
              node.call("POST", "/v1/swarms", operator, "{\"name\":\"x\",\"topology\":\"blob\"}")
                  .statusCode())
          .isEqualTo(422);
      JsonNode s = Gate.JSON.readTree(node.get("/v1/swarms/team", viewer).body());
      assertThat(s.path("effective").asText()).isEqualTo("star");
      assertThat(s.path("lead").asText()).isEqualTo("relay/hub");
      assertThat(s.path("budget").path("limits").path("maxCalls").asInt()).isEqualTo(10);
      JsonNode a = s.path("memberList").get(1);
      assertThat(a.path("id").asText()).isEqualTo("relay/a");
      assertThat(a.path("mayMessage").toString()).isEqualTo("[\"relay/hub\"]");
      assertThat(s.path("memberList").get(0).path("mayMessage")).hasSize(2);

      // a spoke messaging a spoke is refused by the bus, counted and named by its rule
      assertThat(
              node.call(
                      "POST",
                      "/v1/messages/send",
                      operator,
                      "{\"to\":\"relay/a\",\"payload\":\"to echo/b\"}")
                  .statusCode())
          .isEqualTo(202);
      JsonNode refused =
          until(node, "/v1/swarms/team", viewer, j -> j.path("refused").asLong() == 1);
      assertThat(refused.path("recentRefusalsByRule").path("star topology").asInt()).isEqualTo(1);

      r =
          node.call(
              "POST", "/v1/swarms/team/members", operator, "{\"type\":\"echo\",\"key\":\"c\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      assertThat(Gate.JSON.readTree(r.body()).path("role").asText()).isNotBlank();
      assertThat(
              node.call(
                      "POST",
                      "/v1/swarms/team/members",
                      operator,
                      "{\"type\":\"echo\",\"key\":\"c\"}")
                  .statusCode())
          .isEqualTo(409);
      assertThat(node.call("DELETE", "/v1/swarms/team/members/echo/c", operator, null).statusCode())
          .isEqualTo(200);
      assertThat(node.call("DELETE", "/v1/swarms/team/members/echo/c", operator, null).statusCode())
          .isEqualTo(404);
      assertThat(
              node.call(
                      "POST",
                      "/v1/swarms/nope/members",
                      operator,
                      "{\"type\":\"echo\",\"key\":\"c\"}")
                  .statusCode())
          .isEqualTo(404);
      JsonNode list = Gate.JSON.readTree(node.get("/v1/swarms", viewer).body());
      assertThat(list.path("swarms").get(0).path("members").asInt()).isEqualTo(3);
      assertThat(node.audit.events())
          .anySatisfy(
              e -> {
                assertThat(e.action()).isEqualTo("DELETE /v1/swarms/{name}/members/{type}/{key}");
                assertThat(e.target()).isEqualTo("swarm:team/echo/c");
              });
      assertThat(node.call("DELETE", "/v1/swarms/team", operator, null).statusCode())
          .isEqualTo(200);
      assertThat(node.get("/v1/swarms/team", viewer).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void graphAndSwarmEventsReachTheEventStream() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      String operator = node.token(Role.OPERATOR);
      HttpResponse<Stream<String>> stream = node.stream("/v1/events", operator, null);
      assertThat(stream.statusCode()).isEqualTo(200);
      try (Stream<String> lines = stream.body()) {
        Iterator<String> it = lines.iterator();
        assertThat(it.next()).startsWith(": cfn events");
        assertThat(node.call("POST", "/v1/graphs", operator, submit(CHAIN, "e-1")).statusCode())
            .isEqualTo(201);
        assertThat(
                node.call(
                        "POST",
                        "/v1/swarms",
                        operator,
                        "{\"name\":\"ev\",\"members\":[{\"type\":\"echo\",\"key\":\"m1\"}]}")
                    .statusCode())
            .isEqualTo(201);
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.Set<String> wanted =
            java.util.Set.of(
                "event: cfn.flow.run.succeeded",
                "event: cfn.flow.task.succeeded",
                "event: cfn.flow.swarm.joined");
        java.util.concurrent.CompletableFuture<Void> scan =
            java.util.concurrent.CompletableFuture.runAsync(
                () -> {
                  while (!seen.containsAll(wanted) && it.hasNext()) {
                    String line = it.next();
                    if (wanted.contains(line)) {
                      seen.add(line);
                    }
                  }
                });
        try {
          scan.get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          // asserted below: what was seen in a minute
        }
        boolean runDone = seen.contains("event: cfn.flow.run.succeeded");
        boolean taskDone = seen.contains("event: cfn.flow.task.succeeded");
        boolean joined = seen.contains("event: cfn.flow.swarm.joined");
        assertThat(runDone).as("cfn.flow.run.succeeded on the stream").isTrue();
        assertThat(taskDone).as("cfn.flow.task.succeeded on the stream").isTrue();
        assertThat(joined).as("cfn.flow.swarm.joined on the stream").isTrue();
      }
    }
  }
}
