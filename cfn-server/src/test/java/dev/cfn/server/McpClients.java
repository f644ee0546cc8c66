package dev.cfn.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

/**
 * The MCP tests' client of a {@link TestNode}: the MCP SDK's own client over streamable HTTP at
 * {@code /mcp}, TLS 1.3 trusting only the node's certificate, with a bearer token; and the
 * tool-call helpers they share.
 */
final class McpClients {
  static final ObjectMapper JSON = new ObjectMapper();

  private McpClients() {}

  /**
   * A client of {@code node} sending {@code token} (not initialized yet: a test that expects the
   * token refused initializes it itself), each request waiting at most {@code requestTimeout}.
   */
  static McpSyncClient open(TestNode node, String token, Duration requestTimeout) throws Exception {
    HttpClientStreamableHttpTransport transport =
        HttpClientStreamableHttpTransport.builder(node.server.url())
            .endpoint(McpEndpoint.PATH)
            .jsonMapper(new JacksonMcpJsonMapper(JSON))
            .clientBuilder(
                HttpClient.newBuilder()
                    .sslContext(TestNode.tls(node.server))
                    .sslParameters(TestNode.tls13())
                    .connectTimeout(Duration.ofSeconds(10)))
            .httpRequestCustomizer(
                (builder, method, uri, body, context) ->
                    builder.header("Authorization", "Bearer " + token))
            .build();
    return McpClient.sync(transport)
        .requestTimeout(requestTimeout)
        .initializationTimeout(Duration.ofSeconds(60))
        .build();
  }

  /** The text of a tool result's first content. */
  static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().getFirst()).text();
  }

  /** Calls {@code tool} with {@code args}. */
  static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
    return c.callTool(new McpSchema.CallToolRequest(tool, args));
  }
}
