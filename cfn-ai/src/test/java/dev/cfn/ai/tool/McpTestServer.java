package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small real MCP server written with the MCP Java SDK, for the tests: run as a child JVM over
 * stdio ({@link #main}) or mounted in an in-process servlet container for streamable HTTP.
 *
 * <p>Tools: {@code echo} (text), {@code add} (two integers, read-only), {@code calls} (how many
 * tool calls this server has handled, itself excluded: proves invalid calls never reached it),
 * {@code fail} (an error result), {@code weird.name/x} (a name cfn must sanitize) and {@code
 * broken} (an input schema that is not valid JSON Schema, which cfn must leave out). Started over
 * stdio with the argument {@code --env-tools}, it also offers {@code env_names} (the names of its
 * environment variables, one a line) and {@code env_value} (the value of one, or {@code (unset)}).
 */
public final class McpTestServer {
  private McpTestServer() {}

  static McpJsonMapper json() {
    return new JacksonMcpJsonMapper(new ObjectMapper());
  }

  /** The tools, counting handled calls in {@code calls}. */
  static List<SyncToolSpecification> tools(McpJsonMapper json, AtomicInteger calls) {
    return List.of(
        tool(
            McpSchema.Tool.builder(
                    "echo",
                    json,
                    """
                    {"type": "object", "properties": {"text": {"type": "string"}},
                     "required": ["text"], "additionalProperties": false}
                    """)
                .description("Echoes the text back.")
                .build(),
            (exchange, request) -> {
              calls.incrementAndGet();
              return text("echo: " + request.arguments().get("text"), false);
            }),
        tool(
            McpSchema.Tool.builder(
                    "add",
                    json,
                    """
                    {"type": "object",
                     "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                     "required": ["a", "b"]}
                    """)
                .description("Adds two integers.")
                .annotations(new McpSchema.ToolAnnotations.Builder().readOnlyHint(true).build())
                .build(),
            (exchange, request) -> {
              calls.incrementAndGet();
              long a = ((Number) request.arguments().get("a")).longValue();
              long b = ((Number) request.arguments().get("b")).longValue();
              return text(Long.toString(a + b), false);
            }),
        tool(
            McpSchema.Tool.builder("calls", json, "{\"type\": \"object\", \"properties\": {}}")
                .description("How many tool calls this server has handled.")
                .build(),
            (exchange, request) -> text(Integer.toString(calls.get()), false)),
        tool(
            McpSchema.Tool.builder("fail", json, "{\"type\": \"object\", \"properties\": {}}")
                .description("Always fails.")
                .build(),
            (exchange, request) -> {
              calls.incrementAndGet();
              return text("the fail tool failed, as it always does", true);
            }),
        tool(
            McpSchema.Tool.builder(
                    "weird.name/x", json, "{\"type\": \"object\", \"properties\": {}}")
                .description("A tool whose name has characters models refuse.")
                .build(),
            (exchange, request) -> {
              calls.incrementAndGet();
              return text("weird ok", false);
            }),
        tool(
            McpSchema.Tool.builder(
                    "broken",
                    Map.of(
                        "type",
                        "object",
                        "properties",
                        Map.of("x", Map.of("$ref", "#/$defs/gone"))))
                .description("A tool whose input schema has a reference that points nowhere.")
                .build(),
            (exchange, request) -> {
              calls.incrementAndGet();
              return text("broken called", false);
            }));
  }

  private static SyncToolSpecification tool(
      McpSchema.Tool tool,
      java.util.function.BiFunction<
              io.modelcontextprotocol.server.McpSyncServerExchange,
              McpSchema.CallToolRequest,
              McpSchema.CallToolResult>
          handler) {
    return SyncToolSpecification.builder().tool(tool).callHandler(handler).build();
  }

  private static McpSchema.CallToolResult text(String text, boolean error) {
    return McpSchema.CallToolResult.builder().addTextContent(text).isError(error).build();
  }

  /** Tools that report the server process's environment. */
  static List<SyncToolSpecification> envTools(McpJsonMapper json) {
    return List.of(
        tool(
            McpSchema.Tool.builder("env_names", json, "{\"type\": \"object\", \"properties\": {}}")
                .description("The names of the server's environment variables.")
                .build(),
            (exchange, request) ->
                text(String.join("\n", new TreeSet<>(System.getenv().keySet())), false)),
        tool(
            McpSchema.Tool.builder(
                    "env_value",
                    json,
                    """
                    {"type": "object", "properties": {"name": {"type": "string"}},
                     "required": ["name"]}
                    """)
                .description("The value of one environment variable of the server.")
                .build(),
            (exchange, request) -> {
              String value = System.getenv((String) request.arguments().get("name"));
              return text(value == null ? "(unset)" : value, false);
            }));
  }

  static McpSchema.ServerCapabilities capabilities() {
    return McpSchema.ServerCapabilities.builder().tools(true).build();
  }

  /** Serves the tools over stdio until the client closes the connection or ends the process. */
  public static void main(String[] args) throws InterruptedException {
    McpJsonMapper json = json();
    List<SyncToolSpecification> tools = new ArrayList<>(tools(json, new AtomicInteger()));
    if (List.of(args).contains("--env-tools")) {
      tools.addAll(envTools(json));
    }
    McpSyncServer server =
        McpServer.sync(new StdioServerTransportProvider(json))
            .serverInfo("cfn-test-server", "1.0")
            .capabilities(capabilities())
            .strictToolNameValidation(false)
            .validateToolInputs(false)
            .tools(tools)
            .build();
    new CountDownLatch(1).await();
    server.close();
  }
}
