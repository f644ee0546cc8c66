package dev.cfn.ai;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.internal.json.JsonMappers;
import dev.cfn.ai.model.ChatResponse;
import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.Usage;
import dev.cfn.ai.tool.ToolResult;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
    try (Writer w = new Writer()) {
      JsonGenerator g = w.generator;
      g.writeStartObject();
      g.writeNumberField("v", VERSION);
      g.writeStringField("text", r.text());
      g.writeArrayFieldStart("toolCalls");
      for (ToolCall c : r.toolCalls()) {
        g.writeStartObject();
        g.writeStringField("id", c.id());
        g.writeStringField("name", c.name());
        g.writeFieldName("arguments");
        JSON.writeTree(g, c.arguments());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeStringField("stopReason", r.stopReason().name());
      g.writeObjectFieldStart("usage");
      g.writeNumberField("input", r.usage().inputTokens());
      g.writeNumberField("output", r.usage().outputTokens());
      g.writeNumberField("cached", r.usage().cachedTokens());
      g.writeEndObject();
      g.writeStringField("model", r.model());
      g.writeEndObject();
      return w.text();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
    try (Writer w = new Writer()) {
      JsonGenerator g = w.generator;
      g.writeStartObject();
      g.writeNumberField("v", VERSION);
      g.writeStringField("content", r.content());
      g.writeBooleanField("isError", r.isError());
      g.writeEndObject();
      return w.text();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

  /**
   * A generator writing to a string, on the mapper's factory: its buffers come from the shared
   * recycler pool ({@link JsonMappers}), where a tree's {@code toString()} took a fresh recycler on
   * every virtual thread. Writing to a {@link StringWriter} cannot fail, so I/O errors are
   * unchecked.
   */
  private static final class Writer implements AutoCloseable {
    final StringWriter out = new StringWriter(256);
    final JsonGenerator generator;

    Writer() {
      try {
        generator = JSON.getFactory().createGenerator(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    String text() {
      try {
        generator.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out.toString();
    }

    @Override
    public void close() {
      try {
        generator.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
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
