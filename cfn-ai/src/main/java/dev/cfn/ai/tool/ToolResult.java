package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * What a tool call gives back to the model: text (often JSON) and whether it reports an error.
 * Errors are results too: a refused, invalid or failed call is told to the model as an error
 * result, so that it can correct itself, rather than thrown at the agent.
 *
 * @param content the text the model reads; never null
 * @param isError true when the call failed or was refused (the {@code is_error} flag of the
 *     Anthropic protocol; OpenAI has no flag, the text says it)
 */
public record ToolResult(String content, boolean isError) {

  /** Checks that there is content. */
  public ToolResult {
    Objects.requireNonNull(content, "content");
  }

  /** A successful result with {@code content} as its text. */
  public static ToolResult text(String content) {
    return new ToolResult(content, false);
  }

  /** A successful result holding {@code json} as compact JSON text. */
  public static ToolResult json(JsonNode json) {
    return new ToolResult(json.isTextual() ? json.asText() : json.toString(), false);
  }

  /** An error result: {@code message} says what went wrong and, where it can, what to do. */
  public static ToolResult error(String message) {
    return new ToolResult(message, true);
  }
}
