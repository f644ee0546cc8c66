package dev.cfn.server;

import static dev.cfn.server.McpClients.JSON;
import static dev.cfn.server.McpClients.call;
import static dev.cfn.server.McpClients.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MCP tools of task graphs, swarms and CFN Loop runs at {@code /mcp}, driven by the MCP SDK's
 * own client over TLS 1.3 against a served node: each tool does what the REST route it mirrors
 * does, refuses a token without the route's role or the scopes of the agents it acts on (changing
 * nothing), refuses bad arguments, and leaves the route's audit events and its own.
 */
class McpNodeToolsTest {
  @TempDir Path home;

  static TestNode start(Path home) throws Exception {
    // every tool call is an HTTP request: a rate limit the polls below cannot meet
    return TestNode.start(home, b -> b.rateLimit(10_000, 10_000));
  }

  static McpSyncClient client(TestNode node, String token) throws Exception {
    McpSyncClient c = McpClients.open(node, token, Duration.ofSeconds(90));
    c.initialize();
    return c;
  }

  /** Calls {@code tool} until it answers {@code done}, paced, for at most 60 s. */
  static JsonNode until(
      McpSyncClient c, String tool, Map<String, Object> args, Predicate<JsonNode> done)
      throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String last = null;
    while (System.nanoTime() < end) {
      McpSchema.CallToolResult r = call(c, tool, args);
      last = text(r);
      if (!Boolean.TRUE.equals(r.isError())) {
        JsonNode j = JSON.readTree(last);
        if (done.test(j)) {
          return j;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError(tool + " did not reach the state within 60 s; last: " + last);
  }

  static JsonNode ok(McpSchema.CallToolResult r) throws Exception {
    assertThat(r.isError()).as(text(r)).isNotEqualTo(Boolean.TRUE);
    return JSON.readTree(text(r));
  }

  /**
   * The route's privileged action was audited as on REST (marked with the tool), and the tool call
   * as well.
   */
  static void hasRoute(
      dev.cfn.server.audit.RecordingAuditTrail audit, String route, String target, String tool) {
    assertThat(audit.events())
        .anySatisfy(
            e -> {
              assertThat(e.kind()).isEqualTo(AuditEvent.Kind.PRIVILEGED_ACTION);
              assertThat(e.action()).isEqualTo(route);
              assertThat(e.target()).isEqualTo(target);
              assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
              assertThat(e.actor()).startsWith("tok_");
              assertThat(e.detail()).isEqualTo("done via " + tool);
            })
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo(tool);
              assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
            });
  }

  static Map<String, Object> submit(String yaml, String run) {
    return Map.of("graph", yaml, "run", run, "state", Map.of("who", "mcp"));
  }

  @Test
  void graphsAreSubmittedFollowedAndCancelledThroughTheTools() throws Exception {
    dev.cfn.server.audit.RecordingAuditTrail audit;
    try (TestNode node = start(home);
        McpSyncClient operator = client(node, node.token(Role.OPERATOR))) {
      audit = node.audit;
      assertThat(operator.listTools().tools())
          .extracting(McpSchema.Tool::name)
          .contains(
              "graphs_list",
              "graph_show",
              "graph_submit",
              "graph_cancel",
              "swarms_list",
              "swarm_show",
              "swarm_create",
              "swarm_join",
              "swarm_leave",
              "loops_list",
              "loop_show",
              "loop_decide");
      McpSchema.Tool submitTool =
          operator.listTools().tools().stream()
              .filter(t -> t.name().equals("graph_submit"))
              .findFirst()
              .orElseThrow();
      assertThat(String.valueOf(submitTool.inputSchema().get("required"))).isEqualTo("[graph]");
      assertThat(submitTool.description()).contains("POST /v1/graphs", "operator");

      JsonNode started = ok(call(operator, "graph_submit", submit(FlowRoutesTest.CHAIN, "m-1")));
      assertThat(started.path("run").asText()).isEqualTo("m-1");
      JsonNode done =
          until(
              operator,
              "graph_show",
              Map.of("run", "m-1"),
              j -> j.path("status").asText().equals("SUCCEEDED"));
      assertThat(done.path("tasks").get(1).path("result").asText()).isEqualTo("hello mcp!");
      assertThat(done.path("state").path("who").asText()).isEqualTo("mcp");
      JsonNode list = ok(call(operator, "graphs_list", Map.of()));
      assertThat(list.path("runs").get(0).path("counts").path("SUCCEEDED").asInt()).isEqualTo(2);
      // what the tool shows is what the route shows
      JsonNode rest =
          Gate.JSON.readTree(node.get("/v1/graphs/m-1", node.token(Role.VIEWER)).body());
      assertThat(done).isEqualTo(rest);

      ok(call(operator, "graph_submit", submit(FlowRoutesTest.STUCK, "m-2")));
      until(
          operator,
          "graph_show",
          Map.of("run", "m-2"),
          j -> j.path("tasks").get(0).path("status").asText().equals("RUNNING"));
      McpSchema.CallToolResult noTask =
          call(operator, "graph_cancel", Map.of("run", "m-2", "task", "nope"));
      assertThat(noTask.isError()).isTrue();
      assertThat(text(noTask)).contains("has no task 'nope'", "404");
      JsonNode cancel = ok(call(operator, "graph_cancel", Map.of("run", "m-2")));
      assertThat(cancel.path("cancel").asText()).isEqualTo("requested");
      until(
          operator,
          "graph_show",
          Map.of("run", "m-2"),
          j -> j.path("status").asText().equals("CANCELLED"));
    }
    hasRoute(audit, "POST /v1/graphs", "graph:m-1", "mcp.graph_submit");
    hasRoute(audit, "POST /v1/graphs/{run}/cancel", "graph:m-2", "mcp.graph_cancel");
  }

  @Test
  void aTokenWithoutTheRoleOrTheScopeIsRefusedAndNothingChanges() throws Exception {
    try (TestNode node = start(home)) {
      String agentToken = node.token(Role.AGENT);
      String otherAgents = node.token(Role.OPERATOR, "agent:planner", "swarm:team");
      String operatorToken = node.token(Role.OPERATOR);
      node.audit.clear();
      try (McpSyncClient agent = client(node, agentToken);
          McpSyncClient scoped = client(node, otherAgents);
          McpSyncClient operator = client(node, operatorToken)) {
        // the role: an agent token reads (the routes need viewer) and may not submit (operator)
        assertThat(ok(call(agent, "graphs_list", Map.of())).path("runs")).isEmpty();
        McpSchema.CallToolResult denied =
            call(agent, "graph_submit", submit(FlowRoutesTest.CHAIN, "d-1"));
        assertThat(denied.isError()).isTrue();
        assertThat(text(denied))
            .contains("permission denied", "POST /v1/graphs", "--role operator");
        McpSchema.CallToolResult swarmDenied = call(agent, "swarm_create", Map.of("name", "team"));
        assertThat(swarmDenied.isError()).isTrue();
        assertThat(text(swarmDenied)).contains("--role operator");

        // the scope: an operator token scoped to other agents may not send tasks to echo
        McpSchema.CallToolResult outOfScope =
            call(scoped, "graph_submit", submit(FlowRoutesTest.CHAIN, "d-2"));
        assertThat(outOfScope.isError()).isTrue();
        assertThat(text(outOfScope)).contains("permission denied", "agent 'echo'", "403");
        McpSchema.CallToolResult memberOutOfScope =
            call(
                scoped,
                "swarm_create",
                Map.of("name", "team", "members", List.of(Map.of("type", "echo", "key", "a"))));
        assertThat(memberOutOfScope.isError()).isTrue();
        assertThat(text(memberOutOfScope)).contains("agent 'echo'");
        McpSchema.CallToolResult swarmOutOfScope =
            call(scoped, "swarm_create", Map.of("name", "other-team"));
        assertThat(swarmOutOfScope.isError()).isTrue();
        assertThat(text(swarmOutOfScope)).contains("swarm 'other-team'");

        // bad arguments: refused by the tool's schema, or by the route's checks
        McpSchema.CallToolResult badRun =
            call(operator, "graph_submit", Map.of("graph", "x", "run", "no spaces"));
        assertThat(badRun.isError()).isTrue();
        assertThat(text(badRun)).contains("invalid arguments for graph_submit", "run");
        McpSchema.CallToolResult badTopology =
            call(operator, "swarm_create", Map.of("name", "x", "topology", "blob"));
        assertThat(badTopology.isError()).isTrue();
        assertThat(text(badTopology)).contains("topology");
        McpSchema.CallToolResult cyclic =
            call(
                operator,
                "graph_submit",
                Map.of(
                    "graph",
                    "graph: loop\ntasks:\n  - id: a\n    agent: echo\n    after: b\n    input: x\n"
                        + "  - id: b\n    agent: echo\n    after: a\n    input: y\n"));
        assertThat(cyclic.isError()).isTrue();
        assertThat(text(cyclic)).contains("422");
        McpSchema.CallToolResult missing = call(operator, "graph_show", Map.of());
        assertThat(missing.isError()).isTrue();
        assertThat(text(missing)).contains("run");

        // nothing of the refused calls exists
        assertThat(ok(call(operator, "graphs_list", Map.of())).path("runs")).isEmpty();
        assertThat(ok(call(operator, "swarms_list", Map.of())).path("swarms")).isEmpty();
      }
      assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
          .extracting(AuditEvent::action)
          .contains(
              "POST /v1/graphs", // the route's own denial, as on REST
              "mcp.graph_submit", // and the tool call's
              "POST /v1/swarms",
              "mcp.swarm_create");
      assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
          .anySatisfy(
              e -> {
                assertThat(e.action()).isEqualTo("POST /v1/graphs");
                assertThat(e.target()).isEqualTo("agent:echo");
              });
      assertThat(node.home.resolve(".cfn/runs/d-1")).doesNotExist();
      assertThat(node.home.resolve(".cfn/runs/d-2")).doesNotExist();
    }
  }

  @Test
  void swarmsAreMadeJoinedLeftAndClosedThroughTheTools() throws Exception {
    dev.cfn.server.audit.RecordingAuditTrail audit;
    try (TestNode node = start(home);
        McpSyncClient operator = client(node, node.token(Role.OPERATOR))) {
      audit = node.audit;
      JsonNode made =
          ok(
              call(
                  operator,
                  "swarm_create",
                  Map.of(
                      "name",
                      "team",
                      "topology",
                      "star",
                      "budget",
                      Map.of("maxCalls", 10),
                      "members",
                      List.of(Map.of("type", "echo", "key", "hub")))));
      assertThat(made.path("effective").asText()).isEqualTo("star");
      JsonNode joined =
          ok(call(operator, "swarm_join", Map.of("swarm", "team", "type", "echo", "key", "b")));
      assertThat(joined.path("id").asText()).isEqualTo("echo/b");
      McpSchema.CallToolResult twice =
          call(operator, "swarm_join", Map.of("swarm", "team", "type", "echo", "key", "b"));
      assertThat(twice.isError()).isTrue();
      assertThat(text(twice)).contains("already", "409");
      JsonNode shown = ok(call(operator, "swarm_show", Map.of("swarm", "team")));
      assertThat(shown.path("members").asInt()).isEqualTo(2);
      assertThat(shown.path("lead").asText()).isEqualTo("echo/hub");
      assertThat(shown.path("budget").path("limits").path("maxCalls").asInt()).isEqualTo(10);
      assertThat(ok(call(operator, "swarms_list", Map.of())).path("swarms").get(0).path("name"))
          .hasToString("\"team\"");
      ok(call(operator, "swarm_leave", Map.of("swarm", "team", "type", "echo", "key", "b")));
      assertThat(ok(call(operator, "swarm_show", Map.of("swarm", "team"))).path("members").asInt())
          .isEqualTo(1);
      McpSchema.CallToolResult none = call(operator, "swarm_show", Map.of("swarm", "nope"));
      assertThat(none.isError()).isTrue();
      assertThat(text(none)).contains("no swarm nope");
      ok(call(operator, "swarm_close", Map.of("swarm", "team")));
      assertThat(ok(call(operator, "swarms_list", Map.of())).path("swarms")).isEmpty();
    }
    hasRoute(audit, "POST /v1/swarms", "swarm:team", "mcp.swarm_create");
    hasRoute(audit, "POST /v1/swarms/{name}/members", "swarm:team/echo/b", "mcp.swarm_join");
    hasRoute(
        audit,
        "DELETE /v1/swarms/{name}/members/{type}/{key}",
        "swarm:team/echo/b",
        "mcp.swarm_leave");
  }

  @Test
  void anEscalatedLoopIsListedShownAndDecidedThroughTheTools() throws Exception {
    EscalatedLoop.run(home, "esc-m");
    try (TestNode node = start(home);
        McpSyncClient agent = client(node, node.token(Role.AGENT));
        McpSyncClient operator = client(node, node.token(Role.OPERATOR))) {
      JsonNode list = ok(call(agent, "loops_list", Map.of()));
      assertThat(list.path("loops").toString()).contains("\"id\":\"esc-m\"", "WAITING");
      JsonNode shown = ok(call(agent, "loop_show", Map.of("run", "esc-m")));
      assertThat(shown.path("status").asText()).isEqualTo("WAITING");
      assertThat(shown.toString()).contains("licence question");
      McpSchema.CallToolResult bad = call(agent, "loop_show", Map.of("run", "bad id"));
      assertThat(bad.isError()).isTrue();

      Map<String, Object> proceed = Map.of("run", "esc-m", "decision", "PROCEED", "note", "ok");
      McpSchema.CallToolResult denied = call(agent, "loop_decide", proceed);
      assertThat(denied.isError()).isTrue();
      assertThat(text(denied)).contains("--role operator");
      McpSchema.CallToolResult invalid =
          call(operator, "loop_decide", Map.of("run", "esc-m", "decision", "YES"));
      assertThat(invalid.isError()).isTrue();
      assertThat(text(invalid)).contains("invalid arguments for loop_decide");
      assertThat(ok(call(agent, "loop_show", Map.of("run", "esc-m"))).path("status").asText())
          .isEqualTo("WAITING");

      JsonNode decided = ok(call(operator, "loop_decide", proceed));
      assertThat(decided.path("status").asText()).isEqualTo("ACCEPTED");
      McpSchema.CallToolResult again = call(operator, "loop_decide", proceed);
      assertThat(again.isError()).isTrue();
      assertThat(text(again)).contains("not waiting for a decision");
      assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
          .anyMatch(
              e ->
                  e.target().equals("loop:esc-m")
                      && e.action().equals("POST /v1/loops/{run}/decision")
                      && e.outcome() == AuditEvent.Outcome.SUCCESS
                      && e.detail().contains("via mcp.loop_decide"));
    }
  }
}
