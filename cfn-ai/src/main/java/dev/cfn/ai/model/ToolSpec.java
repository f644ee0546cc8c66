package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A tool as the model sees it: its name, what it does, and the JSON Schema of its arguments. Both
 * the OpenAI ({@code tools[].function}) and the Anthropic ({@code tools[]}, {@code input_schema})
 * protocols carry exactly these three things.
 *
 * @param name the tool's name, 1 to 64 characters of letters, digits, {@code _} and {@code -} (the
 *     rule both protocols share)
 * @param description what the tool does and when to use it, for the model
 * @param inputSchema a JSON Schema object describing the arguments
 */
public record ToolSpec(String name, String description, JsonNode inputSchema) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  public ToolSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(inputSchema, "inputSchema");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "tool name '"
              + name
              + "' is invalid: use 1 to 64 letters, digits, '_' or '-' (the models' own rule)");
    }
    if (!inputSchema.isObject()) {
      throw new IllegalArgumentException(
          "the input schema of tool '" + name + "' must be a JSON object, got " + inputSchema);
    }
  }
}
