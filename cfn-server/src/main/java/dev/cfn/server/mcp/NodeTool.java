package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serial;
import java.util.Objects;

/**
 * A tool that the server embedding the MCP server adds to it ({@link CfnMcpServer#http(McpSettings,
 * McpAudit, String, java.util.List)}): {@code cfn serve} adds one per REST route of its task
 * graphs, swarms and CFN Loop runs, each authorized, validated and audited by the route it mirrors.
 * The catalog runs it like its own tools: its arguments are checked against {@code schema}, then
 * the handler is called with the {@link McpCaller} of the request, and the call is recorded in the
 * {@link McpAudit}.
 *
 * @param name the tool's name, as the client calls it
 * @param description what it does and returns, for the model that reads the tool list
 * @param schema its JSON Schema input, an object schema
 * @param readOnly true when it changes nothing (the MCP {@code readOnlyHint})
 * @param handler what a call whose arguments are valid runs
 */
public record NodeTool(
    String name, String description, JsonNode schema, boolean readOnly, Handler handler) {

  /** Requires every value. */
  public NodeTool {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(handler, "handler");
  }

  /** Runs one call. */
  @FunctionalInterface
  public interface Handler {
    /**
     * Handles {@code arguments} (valid against the tool's schema) for {@code caller}.
     *
     * @return the answer
     * @throws Refusal when the call is refused or fails, told to the client as a tool error
     */
    Answer call(McpCaller caller, JsonNode arguments) throws Exception;
  }

  /**
   * A handler's answer.
   *
   * @param json the result, sent to the client as JSON text
   * @param summary a short line for the audit: what was done and on what, never a value
   */
  public record Answer(JsonNode json, String summary) {
    /** Requires both values. */
    public Answer {
      Objects.requireNonNull(json, "json");
      Objects.requireNonNull(summary, "summary");
    }
  }

  /**
   * A call refused or failed: its message says what is wrong and how to fix it, and its kind is how
   * the call is recorded.
   */
  public static final class Refusal extends RuntimeException {
    @Serial private static final long serialVersionUID = 1L;

    /** How a refused call ended. */
    public enum Kind {
      /** The caller may not do it (its role or scopes). */
      DENIED,
      /** What it asked is not valid. */
      INVALID,
      /** It was valid and allowed, and did not succeed (nothing found, a conflict). */
      FAILED
    }

    private final Kind kind;

    /** A refusal of {@code kind} with {@code message}. */
    public Refusal(Kind kind, String message) {
      super(message, null, false, false);
      this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** How the call is recorded. */
    public Kind kind() {
      return kind;
    }
  }
}
