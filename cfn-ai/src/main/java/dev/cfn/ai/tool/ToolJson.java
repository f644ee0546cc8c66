package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.internal.json.JsonMappers;

/** The one Jackson mapper of the package, and shorthands for building schema nodes. */
final class ToolJson {
  static final ObjectMapper MAPPER = JsonMappers.create();

  private ToolJson() {}

  static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  static ArrayNode array() {
    return JsonNodeFactory.instance.arrayNode();
  }

  /** {@code {"type": type}} with a description when one is given. */
  static ObjectNode typed(String type, String description) {
    ObjectNode node = object().put("type", type);
    if (description != null && !description.isEmpty()) {
      node.put("description", description);
    }
    return node;
  }
}
