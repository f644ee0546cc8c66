package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A call of a tool that the model asked for.
 *
 * @param id the provider's id of the call, echoed back with its result ({@code tool_call_id} in
 *     OpenAI, {@code tool_use_id} in Anthropic)
 * @param name the tool's name
 * @param arguments the arguments as the model gave them: a JSON object when the model produced
 *     valid JSON; otherwise a text node holding the raw text, so that the caller can report the
 *     error back to the model instead of failing
 */
public record ToolCall(String id, String name, JsonNode arguments) {
  public ToolCall {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(arguments, "arguments");
  }
}
