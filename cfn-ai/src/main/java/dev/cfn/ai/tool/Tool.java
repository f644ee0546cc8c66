package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ToolSpec;

/**
 * Something an AI agent can do by asking for it in a model response: read a file, store a memory,
 * call an MCP server. A tool describes itself to the model with a {@link ToolSpec} (name,
 * description, JSON Schema of its arguments) and runs with arguments that already passed that
 * schema.
 *
 * <p>Tools are not called directly by agents: they are registered in a {@link ToolRegistry} and
 * called through a {@link ToolExecutor}, which checks the agent's {@link ToolPermissions},
 * validates the arguments, applies a timeout, turns exceptions into error results and records every
 * call in the {@link ToolAudit}.
 *
 * <p>Write one as a lambda with {@link #of}, as annotated methods of a plain object ({@link
 * ToolMethod}, {@link Param}, {@link ToolRegistry#register(Object)}), or implement this interface.
 * Implementations must be thread-safe: several agents may call one tool at once.
 */
public interface Tool {

  /** The tool as the model sees it. Its name is unique in a registry. */
  ToolSpec spec();

  /**
   * Runs the tool.
   *
   * @param arguments a JSON object valid against {@code spec().inputSchema()}
   * @param context the calling agent and the deadline of the call
   * @return the result for the model
   * @throws Exception when the tool fails; {@link ToolExecutor} reports it to the model as an error
   */
  ToolResult call(JsonNode arguments, ToolContext context) throws Exception;

  /**
   * Whether calling the tool changes something outside the conversation (writes a file, sends a
   * message, stores memory). Agents that replay conversations record the results of such calls
   * under an idempotency key instead of calling them twice. True unless the tool says otherwise: an
   * unknown tool is assumed to have effects.
   */
  default boolean sideEffecting() {
    return true;
  }

  /** The tool's name, {@code spec().name()}. */
  default String name() {
    return spec().name();
  }

  /**
   * A side-effecting tool from a lambda.
   *
   * @param name 1 to 64 letters, digits, {@code _} or {@code -}
   * @param description what the tool does and when to use it, for the model
   * @param inputSchema the JSON Schema (an object) of the arguments; compiled and checked when the
   *     tool is registered
   * @param handler the body
   */
  static Tool of(String name, String description, JsonNode inputSchema, ToolHandler handler) {
    return new FunctionTool(new ToolSpec(name, description, inputSchema), true, handler);
  }

  /** Like {@link #of}, for a tool without side effects ({@link #sideEffecting()} false). */
  static Tool readOnly(String name, String description, JsonNode inputSchema, ToolHandler handler) {
    return new FunctionTool(new ToolSpec(name, description, inputSchema), false, handler);
  }
}
