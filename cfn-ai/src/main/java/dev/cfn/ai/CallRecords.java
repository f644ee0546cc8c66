package dev.cfn.ai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.internal.json.JsonMappers;
import dev.cfn.ai.model.ChatResponse;
import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.Usage;
import dev.cfn.ai.tool.ToolResult;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON form of the results {@link LlmAgent} keeps in its {@link CallLog}: a model's answer and
 * a tool's result. Written by hand, field by field, so the stored form does not change when a
 * record gains a component; {@code "v"} is the format version.
 */
final class CallRecords {
  private static final ObjectMapper JSON = JsonMappers.create();
  private static final int VERSION = 1;

  private CallRecords() {}

  static String response(ChatResponse r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("v", VERSION);
    o.put("text", r.text());
    ArrayNode calls = o.putArray("toolCalls");
    for (ToolCall c : r.toolCalls()) {
      calls.addObject().put("id", c.id()).put("name", c.name()).set("arguments", c.arguments());
    }
    o.put("stopReason", r.stopReason().name());
    o.putObject("usage")
        .put("input", r.usage().inputTokens())
        .put("output", r.usage().outputTokens())
        .put("cached", r.usage().cachedTokens());
    o.put("model", r.model());
    return o.toString();
  }

  static ChatResponse response(String json, String key) {
    JsonNode o = parse(json, key);
    List<ToolCall> calls = new ArrayList<>();
    for (JsonNode c : o.path("toolCalls")) {
      calls.add(new ToolCall(c.path("id").asText(), c.path("name").asText(), c.path("arguments")));
    }
    JsonNode u = o.path("usage");
    StopReason stop;
    try {
      stop = StopReason.valueOf(o.path("stopReason").asText());
    } catch (IllegalArgumentException e) {
      throw unreadable(key, "an unknown stop reason", e);
    }
    return new ChatResponse(
        o.path("text").asText(),
        calls,
        stop,
        new Usage(u.path("input").asLong(), u.path("output").asLong(), u.path("cached").asLong()),
        o.path("model").asText());
  }

  static String toolResult(ToolResult r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("v", VERSION);
    o.put("content", r.content());
    o.put("isError", r.isError());
    return o.toString();
  }

  static ToolResult toolResult(String json, String key) {
    JsonNode o = parse(json, key);
    return new ToolResult(o.path("content").asText(), o.path("isError").asBoolean());
  }

  private static JsonNode parse(String json, String key) {
    try {
      JsonNode o = JSON.readTree(json);
      if (o == null || !o.isObject() || o.path("v").asInt() != VERSION) {
        throw unreadable(key, "not a version " + VERSION + " call record", null);
      }
      return o;
    } catch (JsonProcessingException e) {
      throw unreadable(key, "not JSON", e);
    }
  }

  private static IllegalStateException unreadable(String key, String what, Exception cause) {
    return new IllegalStateException(
        "the call log's record '"
            + key
            + "' is "
            + what
            + ", so the call cannot be replayed; remove the record (or the call-log file) to let"
            + " the call run again",
        cause);
  }
}
