package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every route the router holds (read from Javalin's router, not from a list here) refuses an
 * anonymous call, a wrong token, an expired and a revoked one with 401 and a problem body, except
 * {@code /health/*}; and the whole role × route matrix, from the table below, is enforced.
 */
class AuthenticationTest {
  @TempDir static Path home;
  static TestNode node;

  /** The least role of each route: the matrix, written independently of the route table. */
  static final Map<String, Role> LEAST_ROLE = new LinkedHashMap<>();

  static {
    LEAST_ROLE.put("GET /openapi.json", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/agents", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/agents/{type}/{key}", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/agents/validate", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/budgets", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/dead-letters", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/events", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/messages/send", Role.AGENT);
    LEAST_ROLE.put("POST /v1/messages/publish", Role.AGENT);
    LEAST_ROLE.put("POST /v1/messages/request", Role.AGENT);
    LEAST_ROLE.put("GET /v1/messages/{id}/answer", Role.AGENT);
    LEAST_ROLE.put("GET /v1/memory", Role.AGENT);
    LEAST_ROLE.put("GET /v1/memory/{namespace}/{key}", Role.AGENT);
    LEAST_ROLE.put("PUT /v1/memory/{namespace}/{key}", Role.AGENT);
    LEAST_ROLE.put("POST /v1/agents", Role.OPERATOR);
    LEAST_ROLE.put("DELETE /v1/agents/{type}/{key}", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/dead-letters/{id}", Role.OPERATOR);
    LEAST_ROLE.put("POST /v1/dead-letters/{id}/replay", Role.OPERATOR);
    LEAST_ROLE.put("DELETE /v1/dead-letters/{id}", Role.ADMIN);
    LEAST_ROLE.put("DELETE /v1/dead-letters", Role.ADMIN);
    LEAST_ROLE.put("GET /v1/loops", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/loops", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/loops/{run}", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/loops/{run}/decision", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/graphs", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/graphs", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/graphs/{run}", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/graphs/{run}/cancel", Role.OPERATOR);
    LEAST_ROLE.put("POST /v1/graphs/{run}/resume", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/swarms", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/swarms", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/swarms/{name}", Role.VIEWER);
    LEAST_ROLE.put("DELETE /v1/swarms/{name}", Role.OPERATOR);
    LEAST_ROLE.put("POST /v1/swarms/{name}/members", Role.OPERATOR);
    LEAST_ROLE.put("DELETE /v1/swarms/{name}/members/{type}/{key}", Role.OPERATOR);
    LEAST_ROLE.put("GET /metrics", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/alerts", Role.VIEWER);
    LEAST_ROLE.put("GET /v1/alerts/history", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/alerts/test", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/availability", Role.VIEWER);
    LEAST_ROLE.put("DELETE /v1/memory/{namespace}/{key}", Role.AGENT);
    LEAST_ROLE.put("GET /v1/memory/{namespace}", Role.AGENT);
    LEAST_ROLE.put("GET /v1/store/check", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/backup", Role.ADMIN);
    LEAST_ROLE.put("GET /v1/rollouts", Role.VIEWER);
    LEAST_ROLE.put("POST /v1/rollouts/{agent}/promote", Role.OPERATOR);
    LEAST_ROLE.put("POST /v1/rollouts/{agent}/rollback", Role.OPERATOR);
    LEAST_ROLE.put("GET /v1/certify/latest", Role.VIEWER);
  }

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(home);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static String concrete(String path) {
    return path.replace("{type}", "echo")
        .replace("{key}", "k1")
        .replace("{id}", "1")
        .replace("{namespace}", "ns")
        .replace("{run}", "run-1")
        .replace("{agent}", "reviewer")
        .replace("{name}", "team");
  }

  static String body(String route) {
    return switch (route) {
      case "POST /v1/agents" -> "{\"type\":\"echo\",\"key\":\"k1\"}";
      case "POST /v1/agents/validate" ->
          "{\"definition\":\"---\\nname: helper\\ndescription: Helps\\n---\\nYou help.\\n\"}";
      case "POST /v1/messages/send" -> "{\"to\":\"echo/k1\",\"payload\":\"hi\"}";
      case "POST /v1/messages/publish" -> "{\"topic\":\"t.x\",\"source\":\"s\",\"payload\":\"hi\"}";
      case "POST /v1/messages/request" ->
          "{\"to\":\"echo/k1\",\"payload\":\"hi\",\"timeoutMs\":5000}";
      case "PUT /v1/memory/{namespace}/{key}" -> "{\"value\":\"v\"}";
      case "POST /v1/loops/{run}/decision" -> "{\"decision\":\"ABORT\"}";
      case "POST /v1/loops" -> // admitted, then refused (422): the node has no such owner
          "{\"task\":\"x\",\"implementers\":[\"echo\"],\"validators\":[\"echo\",\"echo\"],"
              + "\"owner\":\"no-such-agent\"}";
      case "POST /v1/rollouts/{agent}/rollback" -> "{\"reason\":\"a test\"}";
      case "POST /v1/graphs" ->
          "{\"graph\":\"graph: g\\ntasks:\\n  - id: a\\n    agent: echo\\n    input: hi\\n\"}";
      case "POST /v1/graphs/{run}/cancel" -> "{}";
      case "POST /v1/swarms" -> "{\"name\":\"team\",\"topology\":\"star\"}";
      case "POST /v1/swarms/{name}/members" -> "{\"type\":\"echo\",\"key\":\"k1\"}";
      default -> null;
    };
  }

  static HttpResponse<String> call(String route, String token) throws Exception {
    if (route.equals("GET /v1/events")) {
      HttpResponse<java.util.stream.Stream<String>> r = node.stream("/v1/events", token, null);
      String first;
      try (java.util.stream.Stream<String> lines = r.body()) {
        first = r.statusCode() == 200 ? "" : String.join("\n", lines.toList());
      }
      return new Answer(r, first);
    }
    String[] parts = route.split(" ", 2);
    String path = concrete(parts[1]);
    if (route.equals("GET /v1/memory")) {
      path += "?q=anything";
    }
    return node.call(parts[0], path, token, body(route));
  }

  /** A streamed answer seen as a string answer: its status, headers and (for a refusal) body. */
  record Answer(HttpResponse<?> streamed, String text) implements HttpResponse<String> {
    @Override
    public int statusCode() {
      return streamed.statusCode();
    }

    @Override
    public java.net.http.HttpRequest request() {
      return streamed.request();
    }

    @Override
    public java.util.Optional<HttpResponse<String>> previousResponse() {
      return java.util.Optional.empty();
    }

    @Override
    public java.net.http.HttpHeaders headers() {
      return streamed.headers();
    }

    @Override
    public String body() {
      return text;
    }

    @Override
    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
      return streamed.sslSession();
    }

    @Override
    public java.net.URI uri() {
      return streamed.uri();
    }

    @Override
    public java.net.http.HttpClient.Version version() {
      return streamed.version();
    }
  }

  @Test
  void everyRouteButHealthRefusesAnonymousWrongExpiredAndRevokedTokens() throws Exception {
    List<String> routes = node.server.routerRoutes();
    assertThat(routes).hasSizeGreaterThan(10).contains("GET /health/live", "GET /health/ready");
    String wrong = "cfn_" + "A".repeat(43);
    String expired = node.expiredToken(Role.ADMIN);
    String revoked = node.revokedToken(Role.ADMIN);
    int checked = 0;
    for (String route : routes) {
      if (route.startsWith("GET /health/")) {
        assertThat(call(route, null).statusCode()).as(route).isEqualTo(200);
        continue;
      }
      for (String token : new String[] {null, wrong, "not-even-a-token", expired, revoked}) {
        HttpResponse<String> r = call(route, token);
        assertThat(r.statusCode()).as(route + " with " + token).isEqualTo(401);
        assertThat(r.headers().firstValue("Content-Type"))
            .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
        assertThat(r.body()).contains("\"status\":401");
        checked++;
      }
    }
    assertThat(checked).isEqualTo((routes.size() - 2) * 5);
    assertThat(node.audit.of(AuditEvent.Kind.AUTHENTICATION_FAILURE))
        .hasSizeGreaterThanOrEqualTo(checked)
        .allSatisfy(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.DENIED));
    assertThat(node.audit.events())
        .noneMatch(e -> e.detail().contains(expired) || e.actor().contains(expired));
  }

  @Test
  void theRoleMatrixIsEnforcedOnEveryRoute() throws Exception {
    List<String> routes =
        node.server.routerRoutes().stream().filter(r -> !r.startsWith("GET /health/")).toList();
    assertThat(routes).containsExactlyInAnyOrderElementsOf(LEAST_ROLE.keySet());
    for (Role role : Role.values()) {
      String token = node.token(role);
      for (String route : routes) {
        node.audit.clear();
        HttpResponse<String> r = call(route, token);
        boolean allowed = role.includes(LEAST_ROLE.get(route));
        if (allowed) {
          assertThat(r.statusCode()).as(role + " on " + route + ": " + r.body()).isNotIn(401, 403);
        } else {
          assertThat(r.statusCode()).as(role + " on " + route).isEqualTo(403);
          assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
              .singleElement()
              .satisfies(e -> assertThat(e.action()).isEqualTo(route));
        }
      }
    }
  }

  @Test
  void scopesLimitWhichAgentsTopicsAndNamespacesATokenMayActFor() throws Exception {
    String planner = node.token(Role.OPERATOR, "agent:planner", "memory:notes", "topic:cfn.task.*");
    node.audit.clear();
    HttpResponse<String> send =
        node.call("POST", "/v1/messages/send", planner, "{\"to\":\"echo/1\",\"payload\":1}");
    assertThat(send.statusCode()).isEqualTo(403);
    assertThat(send.body()).contains("agent:echo");
    assertThat(node.call("PUT", "/v1/memory/other/k", planner, "{\"value\":\"v\"}").statusCode())
        .isEqualTo(403);
    assertThat(node.call("PUT", "/v1/memory/notes/k", planner, "{\"value\":\"v\"}").statusCode())
        .isEqualTo(200);
    assertThat(
            node.call(
                    "POST",
                    "/v1/messages/publish",
                    planner,
                    "{\"topic\":\"cfn.flow.done\",\"source\":\"s\",\"payload\":1}")
                .statusCode())
        .isEqualTo(403);
    assertThat(
            node.call(
                    "POST",
                    "/v1/messages/publish",
                    planner,
                    "{\"topic\":\"cfn.task.created\",\"source\":\"s\",\"payload\":1}")
                .statusCode())
        .isEqualTo(202);
    assertThat(node.get("/v1/memory?q=v", planner).statusCode()).isEqualTo(403);
    assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL)).hasSize(4);
  }

  @Test
  void aSwarmNeedsItsOwnScopeAndEachMembersAgentScope() throws Exception {
    String echoOnly = node.token(Role.OPERATOR, "agent:echo");
    String crewOnly = node.token(Role.OPERATOR, "swarm:crew");
    String crew = node.token(Role.OPERATOR, "swarm:crew", "agent:echo");
    String members = "\"members\":[{\"type\":\"echo\",\"key\":\"s1\"}]";
    String create = "{\"name\":\"crew\",\"topology\":\"star\"," + members + "}";
    node.audit.clear();
    HttpResponse<String> noSwarmScope = node.call("POST", "/v1/swarms", echoOnly, create);
    assertThat(noSwarmScope.statusCode()).isEqualTo(403);
    assertThat(noSwarmScope.body()).contains("swarm 'crew'", "--scope swarm:crew");
    HttpResponse<String> noMemberScope = node.call("POST", "/v1/swarms", crewOnly, create);
    assertThat(noMemberScope.statusCode()).isEqualTo(403);
    assertThat(noMemberScope.body()).contains("agent 'echo'");
    assertThat(node.get("/v1/swarms/crew", crew).statusCode()).as("nothing made").isEqualTo(404);
    assertThat(node.call("POST", "/v1/swarms", crew, create).statusCode()).isEqualTo(201);
    String join = "{\"type\":\"echo\",\"key\":\"s2\"}";
    assertThat(node.call("POST", "/v1/swarms/crew/members", echoOnly, join).statusCode())
        .isEqualTo(403);
    assertThat(node.call("POST", "/v1/swarms/crew/members", crew, join).statusCode())
        .isEqualTo(201);
    assertThat(node.call("DELETE", "/v1/swarms/crew/members/echo/s2", echoOnly, null).statusCode())
        .isEqualTo(403);
    assertThat(node.call("DELETE", "/v1/swarms/crew", echoOnly, null).statusCode()).isEqualTo(403);
    assertThat(node.call("DELETE", "/v1/swarms/crew", crewOnly, null).statusCode())
        .as("closing acts on every member")
        .isEqualTo(403);
    assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
        .hasSize(6)
        .allSatisfy(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.DENIED));
    assertThat(node.call("DELETE", "/v1/swarms/crew", crew, null).statusCode()).isEqualTo(200);
  }
}
