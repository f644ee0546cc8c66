package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One tool of the cfn MCP server: its name, what it does, its input schema, the permission it needs
 * ({@code null} for a reading tool, allowed to every client) and its handler.
 *
 * @param name the tool's name, as the client calls it
 * @param description what it does and returns, for the model that reads the tool list
 * @param schema its JSON Schema input, an object schema
 * @param requires the permission a call needs, or {@code null}
 * @param readOnly true when it changes nothing (the MCP {@code readOnlyHint})
 * @param handler what a valid, authorized call runs
 */
record ToolDef(
    String name,
    String description,
    JsonNode schema,
    McpPermission requires,
    boolean readOnly,
    Handler handler) {

  ToolDef {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(handler, "handler");
  }

  /** Runs a call whose arguments passed the schema. */
  @FunctionalInterface
  interface Handler {
    /**
     * Handles {@code arguments} (a JSON object valid against the schema).
     *
     * @throws ToolFailure for a refusal the client can fix, told as a tool error
     */
    Answer handle(JsonNode arguments) throws Exception;
  }

  /**
   * A handler's answer.
   *
   * @param json the result, sent to the client as JSON text
   * @param failed true when the tool ran but what it was asked failed (a task that failed)
   * @param summary a short line for the audit: what was done, never a value or a task's text
   */
  record Answer(JsonNode json, boolean failed, String summary) {
    static Answer done(JsonNode json, String summary) {
      return new Answer(json, false, summary);
    }
  }
}
