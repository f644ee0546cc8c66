package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The body of a tool written as a lambda, for {@link Tool#of}. It receives arguments that have
 * already passed the tool's input schema.
 */
@FunctionalInterface
public interface ToolHandler {

  /**
   * Runs the tool.
   *
   * @param arguments the arguments, a JSON object valid against the tool's input schema
   * @param context who calls and until when
   * @return the result for the model; an exception is turned into an error result by {@link
   *     ToolExecutor}
   * @throws Exception when the tool fails; its message is shown to the model
   */
  ToolResult handle(JsonNode arguments, ToolContext context) throws Exception;
}
