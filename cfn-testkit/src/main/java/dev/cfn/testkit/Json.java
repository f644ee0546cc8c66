package dev.cfn.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The module's one JSON mapper and the few lenient tree reads every dialect needs. */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /** Parses {@code bytes}, or returns {@link NullNode} when they are empty or not JSON. */
  static JsonNode parseLenient(byte[] bytes) {
    if (bytes.length == 0) {
      return NullNode.instance;
    }
    try {
      JsonNode node = MAPPER.readTree(bytes);
      return node == null ? NullNode.instance : node;
    } catch (java.io.IOException e) {
      return NullNode.instance;
    }
  }

  /** Parses {@code text}, or returns {@code null} when it is not JSON. */
  static JsonNode parseOrNull(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a JSON tree: " + e.getMessage(), e);
    }
  }

  static byte[] bytes(JsonNode node) {
    return write(node).getBytes(StandardCharsets.UTF_8);
  }

  /** The text of a node when it is textual, else {@code ""}. */
  static String text(JsonNode node) {
    return node != null && node.isTextual() ? node.asText() : "";
  }

  /** The elements of an array node; an empty list for anything else. */
  static List<JsonNode> elements(JsonNode node) {
    List<JsonNode> out = new ArrayList<>();
    if (node != null && node.isArray()) {
      node.forEach(out::add);
    }
    return out;
  }

  /** Sum of the lengths of every string value below {@code node}: a crude size of a prompt. */
  static int textLength(JsonNode node) {
    if (node == null) {
      return 0;
    }
    if (node.isTextual()) {
      return node.asText().length();
    }
    int sum = 0;
    for (JsonNode child : node) {
      sum += textLength(child);
    }
    return sum;
  }
}
