package dev.cfn.ai.tool;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ToolSpec;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One tool of an MCP server, as a cfn {@link Tool}: its name is {@code mcp__<server>__<tool>}, its
 * spec the server's description and input schema; a call is a {@code tools/call} request with the
 * (already validated) arguments, and the server's content becomes the result text.
 */
final class McpTool implements Tool {
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private final McpSyncClient client;
  private final String server;
  private final String remoteName;
  private final ToolSpec spec;
  private final boolean sideEffecting;

  McpTool(
      McpSyncClient client,
      String server,
      String remoteName,
      ToolSpec spec,
      boolean sideEffecting) {
    this.client = client;
    this.server = server;
    this.remoteName = remoteName;
    this.spec = spec;
    this.sideEffecting = sideEffecting;
  }

  @Override
  public ToolSpec spec() {
    return spec;
  }

  /** False only when the server marks the tool read-only ({@code readOnlyHint}). */
  @Override
  public boolean sideEffecting() {
    return sideEffecting;
  }

  /** The tool's name on its server. */
  String remoteName() {
    return remoteName;
  }

  @Override
  public ToolResult call(JsonNode arguments, ToolContext context) {
    Map<String, Object> args = ToolJson.MAPPER.convertValue(arguments, MAP);
    McpSchema.CallToolResult result;
    try {
      result =
          client.callTool(McpSchema.CallToolRequest.builder(remoteName).arguments(args).build());
    } catch (McpError e) {
      return ToolResult.error(
          "MCP server '"
              + server
              + "' answered the call of '"
              + remoteName
              + "' with an error: "
              + e.getMessage());
    }
    String text = text(result);
    if (Boolean.TRUE.equals(result.isError())) {
      return ToolResult.error(text.isEmpty() ? "the MCP tool reported an error" : text);
    }
    return ToolResult.text(text);
  }

  /** The result's content as text: texts as they are, other content described in brackets. */
  static String text(McpSchema.CallToolResult result) {
    List<String> parts = new ArrayList<>();
    if (result.content() != null) {
      for (McpSchema.Content c : result.content()) {
        parts.add(describe(c));
      }
    }
    if (parts.isEmpty() && result.structuredContent() != null) {
      parts.add(ToolJson.MAPPER.valueToTree(result.structuredContent()).toString());
    }
    return String.join("\n", parts);
  }

  private static String describe(McpSchema.Content c) {
    if (c instanceof McpSchema.TextContent t) {
      return t.text();
    }
    if (c instanceof McpSchema.ImageContent i) {
      return "[image " + i.mimeType() + ", " + base64Bytes(i.data()) + " bytes]";
    }
    if (c instanceof McpSchema.AudioContent a) {
      return "[audio " + a.mimeType() + ", " + base64Bytes(a.data()) + " bytes]";
    }
    if (c instanceof McpSchema.EmbeddedResource r) {
      if (r.resource() instanceof McpSchema.TextResourceContents t) {
        return t.text();
      }
      return "[resource " + r.resource().uri() + ", " + r.resource().mimeType() + "]";
    }
    if (c instanceof McpSchema.ResourceLink l) {
      return "[resource link " + l.uri() + (l.name() == null ? "" : " (" + l.name() + ")") + "]";
    }
    return "[" + c.type() + " content]";
  }

  private static long base64Bytes(String data) {
    return data == null ? 0 : data.length() * 3L / 4;
  }

  @Override
  public String toString() {
    return "Tool[" + spec.name() + " = MCP " + server + "/" + remoteName + "]";
  }
}
