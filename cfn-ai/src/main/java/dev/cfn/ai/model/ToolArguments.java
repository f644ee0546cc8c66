package dev.cfn.ai.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.UUID;

/**
 * Turns the argument text a model produced into the {@link ToolCall#arguments()} node: a JSON
 * object when the text is one, an empty object when the model sent nothing, otherwise a text node
 * with the raw text so that the agent can tell the model its arguments were malformed.
 */
final class ToolArguments {
  private ToolArguments() {}

  static JsonNode parse(String raw) {
    if (raw == null || raw.isBlank()) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode node = HttpTransport.JSON.readTree(raw);
      if (node != null && node.isObject()) {
        return node;
      }
    } catch (JsonProcessingException e) {
      // fall through: keep the raw text
    }
    return JsonNodeFactory.instance.textNode(raw);
  }

  /** An id for a call whose server gave none (some local OpenAI-compatible servers). */
  static String newId() {
    return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }

  /** The arguments as JSON text, the way OpenAI's {@code function.arguments} carries them. */
  static String toText(JsonNode arguments) {
    if (arguments.isTextual()) {
      return arguments.asText();
    }
    return arguments.toString();
  }
}
