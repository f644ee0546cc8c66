package dev.cfn.ai.tool;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/** Reads the input schemas of the built-in tools, written as JSON text in their classes. */
final class BuiltinSchemas {
  private BuiltinSchemas() {}

  static JsonNode parse(String json) {
    try {
      return ToolJson.MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a built-in tool schema is not JSON: " + e.getMessage(), e);
    }
  }
}
