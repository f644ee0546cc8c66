package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.function.Function;

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
 * @param scope what a call acts on, as the scope the mirrored REST route checks ({@code memory:NS}
 *     of {@code memory_put}), from its valid arguments; {@code null} when it needs no scope
 */
record ToolDef(
    String name,
    String description,
    JsonNode schema,
    McpPermission requires,
    boolean readOnly,
    Handler handler,
    Function<JsonNode, Target> scope) {

  /** A tool that needs no scope. */
  ToolDef(
      String name,
      String description,
      JsonNode schema,
      McpPermission requires,
      boolean readOnly,
      Handler handler) {
    this(name, description, schema, requires, readOnly, handler, null);
  }

  /**
   * What one call acts on: a scope's kind and the name it must allow.
   *
   * @param kind {@code agent}, {@code topic} or {@code memory}
   * @param name the agent type, topic or namespace ({@code *}: every one)
   */
  record Target(String kind, String name) {
    @Override
    public String toString() {
      return kind + ":" + name;
    }
  }

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
