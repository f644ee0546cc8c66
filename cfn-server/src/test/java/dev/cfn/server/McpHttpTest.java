package dev.cfn.server;

import static dev.cfn.server.McpClients.JSON;
import static dev.cfn.server.McpClients.call;
import static dev.cfn.server.McpClients.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MCP server over streamable HTTP at {@code /mcp} inside the server, driven by the MCP SDK's
 * own client over TLS 1.3: the same tokens as the REST routes (anonymous, wrong, revoked and viewer
 * tokens refused before the MCP server sees the request), and each tool call authorized by the
 * token's role and scopes as the REST route it mirrors, and audited with the token's id.
 */
class McpHttpTest {
  @TempDir static Path home;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(home);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static McpSyncClient client(String token) throws Exception {
    return McpClients.open(node, token, Duration.ofSeconds(60));
  }

  @Test
  void toolsAnswerBehindTheTokensAndEachCallIsAuthorizedByTheTokensRole() throws Exception {
    String agentToken = node.token(Role.AGENT);
    String operatorToken = node.token(Role.OPERATOR);
    node.audit.clear();
    try (McpSyncClient agent = client(agentToken);
        McpSyncClient operator = client(operatorToken)) {
      agent.initialize();
      operator.initialize();
      assertThat(agent.listTools().tools())
          .extracting(McpSchema.Tool::name)
          .contains("agents_list", "memory_get", "memory_put", "run_task", "status");

      // an agent token writes memory as the agent api/TOKEN-ID, as PUT /v1/memory does
      McpSchema.CallToolResult put =
          call(agent, "memory_put", Map.of("key", "deploy", "value", "never on fridays"));
      assertThat(put.isError()).as(text(put)).isFalse();
      JsonNode written = JSON.readTree(text(put));
      assertThat(written.toString()).contains("api/tok_");
      McpSchema.CallToolResult got = call(agent, "memory_get", Map.of("key", "deploy"));
      assertThat(text(got)).contains("never on fridays");

      // run_task needs an operator token, as POST /v1/agents does
      McpSchema.CallToolResult run =
          call(agent, "run_task", Map.of("agent", "scribe", "task", "note this"));
      assertThat(run.isError()).isTrue();
      assertThat(text(run)).contains("permission denied").contains("--role operator");

      // the operator reads every entry whatever its level, as on /v1/memory
      McpSchema.CallToolResult asOperator = call(operator, "memory_get", Map.of("key", "deploy"));
      assertThat(text(asOperator)).as(text(asOperator)).contains("never on fridays");
    }
    assertThat(node.audit.events())
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("mcp.memory_put");
              assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
              assertThat(e.actor()).startsWith("tok_");
            })
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("mcp.run_task");
              assertThat(e.kind()).isEqualTo(AuditEvent.Kind.AUTHORIZATION_DENIAL);
            });
  }

  @Test
  void anonymousWrongRevokedAndViewerTokensAreRefusedBeforeTheMcpServer() throws Exception {
    HttpClient http = HttpClient.newBuilder().sslContext(TestNode.tls(node.server)).build();
    String init =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
            + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
    String[][] cases = {
      {null, "401"},
      {"cfn_" + "A".repeat(43), "401"},
      {node.revokedToken(Role.ADMIN), "401"},
      {node.expiredToken(Role.ADMIN), "401"},
      {node.token(Role.VIEWER), "403"}
    };
    for (String[] c : cases) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(node.server.url() + McpEndpoint.PATH))
              .header("Content-Type", "application/json")
              .header("Accept", "application/json, text/event-stream")
              .POST(HttpRequest.BodyPublishers.ofString(init));
      if (c[0] != null) {
        b.header("Authorization", "Bearer " + c[0]);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(c[0] + ": " + r.body()).isEqualTo(Integer.parseInt(c[1]));
      assertThat(r.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
      assertThat(r.body()).doesNotContain("jsonrpc");
    }
    try (McpSyncClient refused = client("cfn_" + "B".repeat(43))) {
      assertThatThrownBy(refused::initialize).isInstanceOf(RuntimeException.class);
    }
  }

  @Test
  void aScopedTokenUsesTheToolsItIsScopedForAndIsRefusedForTheOthers() throws Exception {
    String notes = node.token(Role.AGENT, "memory:notes");
    String planner = node.token(Role.OPERATOR, "agent:planner");
    node.audit.clear();
    try (McpSyncClient agent = client(notes);
        McpSyncClient operator = client(planner)) {
      agent.initialize();
      operator.initialize();
      McpSchema.CallToolResult put =
          call(agent, "memory_put", Map.of("namespace", "notes", "key", "k", "value", "v1"));
      assertThat(put.isError()).as(text(put)).isFalse();
      assertThat(text(call(agent, "memory_get", Map.of("namespace", "notes", "key", "k"))))
          .contains("v1");
      assertThat(
              call(agent, "memory_search", Map.of("query", "v1", "namespace", "notes")).isError())
          .isFalse();
      assertThat(call(agent, "agents_list", Map.of()).isError()).isFalse(); // needs no scope

      McpSchema.CallToolResult other =
          call(agent, "memory_put", Map.of("namespace", "other", "key", "k", "value", "v2"));
      assertThat(other.isError()).isTrue();
      assertThat(text(other)).contains("permission denied", "memory:other", "--scope memory:other");
      McpSchema.CallToolResult defaultNs = call(agent, "memory_get", Map.of("key", "k"));
      assertThat(defaultNs.isError()).isTrue();
      assertThat(text(defaultNs)).contains("memory:default");
      McpSchema.CallToolResult everywhere = call(agent, "memory_search", Map.of("query", "v1"));
      assertThat(everywhere.isError()).isTrue();
      assertThat(text(everywhere)).contains("memory:*");

      McpSchema.CallToolResult run =
          call(operator, "run_task", Map.of("agent", "scribe", "task", "note this"));
      assertThat(run.isError()).isTrue();
      assertThat(text(run)).contains("agent:scribe", "--scope agent:scribe");
    }
    assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
        .extracting(e -> e.action() + " " + e.detail())
        .containsExactly(
            "mcp.memory_put no scope for memory:other",
            "mcp.memory_get no scope for memory:default",
            "mcp.memory_search no scope for memory:*",
            "mcp.run_task no scope for agent:scribe");
    // the refused write changed nothing: an unscoped token finds no entry there
    McpSchema.CallToolResult absent;
    try (McpSyncClient admin = client(node.token(Role.ADMIN))) {
      admin.initialize();
      absent = call(admin, "memory_get", Map.of("namespace", "other", "key", "k"));
    }
    assertThat(text(absent)).contains("\"found\" : false");
  }
}
