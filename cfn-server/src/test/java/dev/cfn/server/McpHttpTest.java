package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MCP server over streamable HTTP at {@code /mcp} inside the server, driven by the MCP SDK's
 * own client over TLS 1.3: the same tokens as the REST routes (anonymous, wrong, revoked and viewer
 * tokens refused before the MCP server sees the request), and each tool call authorized by the
 * token's role as the REST route it mirrors, and audited with the token's id.
 */
class McpHttpTest {
  @TempDir static Path home;
  static TestNode node;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(home);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static SSLContext tls() throws Exception {
    KeyStore trust = node.server.certificate().orElseThrow().trustStore();
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    tls.init(null, tmf.getTrustManagers(), null);
    return tls;
  }

  static McpSyncClient client(String token) throws Exception {
    SSLContext tls = tls();
    SSLParameters params = new SSLParameters();
    params.setProtocols(new String[] {"TLSv1.3"});
    HttpClientStreamableHttpTransport transport =
        HttpClientStreamableHttpTransport.builder(node.server.url())
            .endpoint(McpEndpoint.PATH)
            .jsonMapper(new JacksonMcpJsonMapper(JSON))
            .clientBuilder(
                HttpClient.newBuilder()
                    .sslContext(tls)
                    .sslParameters(params)
                    .connectTimeout(Duration.ofSeconds(10)))
            .httpRequestCustomizer(
                (builder, method, uri, body, context) ->
                    builder.header("Authorization", "Bearer " + token))
            .build();
    return McpClient.sync(transport)
        .requestTimeout(Duration.ofSeconds(60))
        .initializationTimeout(Duration.ofSeconds(60))
        .build();
  }

  static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().getFirst()).text();
  }

  static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
    return c.callTool(new McpSchema.CallToolRequest(tool, args));
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
    HttpClient http = HttpClient.newBuilder().sslContext(tls()).build();
    String init =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
            + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
    String[][] cases = {
      {null, "401"},
      {"cfn_" + "A".repeat(43), "401"},
      {node.revokedToken(Role.ADMIN), "401"},
      {node.expiredToken(Role.ADMIN), "401"},
      {node.token(Role.VIEWER), "403"},
      {node.token(Role.ADMIN, "memory:notes"), "403"}
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
}
