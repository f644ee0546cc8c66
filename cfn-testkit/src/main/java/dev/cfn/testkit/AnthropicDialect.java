package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Anthropic Messages ({@code POST /v1/messages}): request reading and validation (including the
 * required {@code anthropic-version} header and {@code max_tokens}, tool_use/tool_result pairing,
 * and tool ids matching {@code ^[a-zA-Z0-9_-]+$}), {@code message} bodies, the {@code
 * message_start} ... {@code message_stop} event stream, and {@code
 * {"type":"error","error":{type,message}}} errors.
 */
final class AnthropicDialect extends Dialect {
  static final AnthropicDialect INSTANCE = new AnthropicDialect();

  private static final int TEXT_FRAGMENT = 8;

  /** The pattern the real API requires of tool_use ids and tool_result tool_use_ids. */
  static final Pattern TOOL_ID = Pattern.compile("^[a-zA-Z0-9_-]+$");

  private static final int ARGUMENT_FRAGMENT = 10;

  private AnthropicDialect() {}

  // ---- reading

  static String contentText(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    List<String> parts = new ArrayList<>();
    for (JsonNode block : Json.elements(content)) {
      if ("text".equals(block.path("type").asText())) {
        parts.add(Json.text(block.path("text")));
      }
    }
    return String.join("\n", parts);
  }

  private static boolean hasText(JsonNode content) {
    if (content.isTextual()) {
      return true;
    }
    for (JsonNode block : Json.elements(content)) {
      if ("text".equals(block.path("type").asText())) {
        return true;
      }
    }
    return false;
  }

  @Override
  String system(JsonNode body) {
    return contentText(body.path("system"));
  }

  @Override
  List<String> userMessages(JsonNode body) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : Json.elements(body.path("messages"))) {
      if ("user".equals(m.path("role").asText()) && hasText(m.path("content"))) {
        out.add(contentText(m.path("content")));
      }
    }
    return out;
  }

  @Override
  List<String> toolNames(JsonNode body) {
    List<String> out = new ArrayList<>();
    for (JsonNode tool : Json.elements(body.path("tools"))) {
      if (tool.path("name").isTextual()) {
        out.add(tool.path("name").asText());
      }
    }
    return out;
  }

  @Override
  boolean hasToolResult(JsonNode body) {
    List<JsonNode> messages = Json.elements(body.path("messages"));
    if (messages.isEmpty()) {
      return false;
    }
    JsonNode last = messages.get(messages.size() - 1);
    return "user".equals(last.path("role").asText()) && !blocks(last, "tool_result").isEmpty();
  }

  private static List<JsonNode> blocks(JsonNode message, String type) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode block : Json.elements(message.path("content"))) {
      if (type.equals(block.path("type").asText())) {
        out.add(block);
      }
    }
    return out;
  }

  // ---- validation and auth

  @Override
  Rendition validate(RecordedRequest request, IdSequence ids) {
    if (!request.headers().containsKey("anthropic-version")) {
      return invalid("anthropic-version: header is required", ids);
    }
    JsonNode body = request.bodyView();
    if (!body.isObject()) {
      return invalid("There was an error parsing the body of your request", ids);
    }
    if (request.model().isEmpty()) {
      return invalid("model: Field required", ids);
    }
    JsonNode maxTokens = body.path("max_tokens");
    if (maxTokens.isMissingNode() || maxTokens.isNull()) {
      return invalid("max_tokens: Field required", ids);
    }
    if (!maxTokens.canConvertToInt() || !maxTokens.isIntegralNumber()) {
      return invalid("max_tokens: Input should be a valid integer", ids);
    }
    if (maxTokens.asInt() < 1) {
      return invalid("max_tokens: Input should be greater than or equal to 1", ids);
    }
    JsonNode messages = body.path("messages");
    if (!messages.isArray()) {
      return invalid("messages: Field required", ids);
    }
    if (messages.isEmpty()) {
      return invalid("messages: at least one message is required", ids);
    }
    List<JsonNode> tools = Json.elements(body.path("tools"));
    for (int i = 0; i < tools.size(); i++) {
      JsonNode tool = tools.get(i);
      String type = Json.text(tool.path("type"));
      if (!tool.path("name").isTextual()) {
        return invalid("tools." + i + ".name: Field required", ids);
      }
      if ((type.isEmpty() || type.equals("custom")) && !tool.path("input_schema").isObject()) {
        return invalid("tools." + i + ".custom.input_schema: Field required", ids);
      }
    }
    return validateConversation(messages, ids);
  }

  /** Roles, and that tool_use and tool_result blocks pair up across adjacent messages. */
  private Rendition validateConversation(JsonNode messages, IdSequence ids) {
    Set<String> previousToolUses = Set.of();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String role = m.path("role").asText();
      if (role.equals("system")) {
        return invalid(
            "messages: Unexpected role \"system\". The Messages API accepts a top-level `system`"
                + " parameter, not \"system\" as an input message role.",
            ids);
      }
      if (!role.equals("user") && !role.equals("assistant")) {
        return invalid("messages." + i + ".role: Input should be 'user' or 'assistant'", ids);
      }
      Rendition badId = checkToolIds(m, i, ids);
      if (badId != null) {
        return badId;
      }
      Set<String> results = new LinkedHashSet<>();
      List<JsonNode> resultBlocks = blocks(m, "tool_result");
      for (int j = 0; j < resultBlocks.size(); j++) {
        String id = Json.text(resultBlocks.get(j).path("tool_use_id"));
        if (!previousToolUses.contains(id)) {
          return invalid(
              "messages."
                  + i
                  + ".content: unexpected `tool_use_id` found in `tool_result` blocks: "
                  + id
                  + ". Each `tool_result` block must have a corresponding `tool_use` block in the"
                  + " previous message.",
              ids);
        }
        results.add(id);
      }
      if (!previousToolUses.isEmpty() && !results.containsAll(previousToolUses)) {
        Set<String> missing = new LinkedHashSet<>(previousToolUses);
        missing.removeAll(results);
        return missingResults(i - 1, missing, ids);
      }
      Set<String> uses = new LinkedHashSet<>();
      if (role.equals("assistant")) {
        for (JsonNode block : blocks(m, "tool_use")) {
          uses.add(Json.text(block.path("id")));
        }
      }
      previousToolUses = uses;
    }
    if (!previousToolUses.isEmpty()) {
      return missingResults(messages.size() - 1, previousToolUses, ids);
    }
    return null;
  }

  /**
   * Tool ids must match {@link #TOOL_ID}, as the real API requires: ids from another provider
   * ({@code functions.get_weather:0}) are refused with a 400 naming the block.
   */
  private Rendition checkToolIds(JsonNode message, int index, IdSequence ids) {
    List<JsonNode> blocks = Json.elements(message.path("content"));
    for (int j = 0; j < blocks.size(); j++) {
      JsonNode block = blocks.get(j);
      String field =
          switch (block.path("type").asText()) {
            case "tool_use" -> "tool_use.id";
            case "tool_result" -> "tool_result.tool_use_id";
            default -> null;
          };
      if (field == null) {
        continue;
      }
      JsonNode id = block.path(field.equals("tool_use.id") ? "id" : "tool_use_id");
      if (!id.isTextual() || !TOOL_ID.matcher(id.asText()).matches()) {
        return invalid(
            "messages."
                + index
                + ".content."
                + j
                + "."
                + field
                + ": String should match pattern '"
                + TOOL_ID.pattern()
                + "'",
            ids);
      }
    }
    return null;
  }

  private Rendition missingResults(int index, Set<String> missing, IdSequence ids) {
    return invalid(
        "messages."
            + index
            + ": `tool_use` ids were found without `tool_result` blocks immediately after: "
            + String.join(", ", missing)
            + ". Each `tool_use` block must have a corresponding `tool_result` block in the next"
            + " message.",
        ids);
  }

  private Rendition invalid(String message, IdSequence ids) {
    return errorBody(400, "invalid_request_error", message, ids);
  }

  @Override
  Rendition authFailure(RecordedRequest request, String key, IdSequence ids) {
    String given = request.headers().get("x-api-key");
    if (given == null) {
      return errorBody(401, "authentication_error", "x-api-key header is required", ids);
    }
    if (!MessageDigest.isEqual(
        given.trim().getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
      return errorBody(401, "authentication_error", "invalid x-api-key", ids);
    }
    return null;
  }

  // ---- errors

  static String errorType(int status) {
    return switch (status) {
      case 400 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 402 -> "billing_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 504 -> "timeout_error";
      case 529 -> "overloaded_error";
      default -> status >= 500 ? "api_error" : "invalid_request_error";
    };
  }

  @Override
  Rendition error(int status, String message, IdSequence ids) {
    return errorBody(status, errorType(status), message, ids);
  }

  @Override
  Rendition overloaded(IdSequence ids) {
    return errorBody(529, "overloaded_error", "Overloaded", ids);
  }

  @Override
  Rendition testkitError(String message, IdSequence ids) {
    return errorBody(400, "invalid_request_error", message, ids);
  }

  private Rendition errorBody(int status, String type, String message, IdSequence ids) {
    Map<String, String> headers = requestIdHeader("request-id", ids);
    ObjectNode body = Json.object();
    body.put("type", "error");
    body.putObject("error").put("type", type).put("message", message);
    body.put("request_id", headers.get("request-id"));
    return Rendition.json(status, body, headers);
  }

  // ---- rendering

  private static String stopReason(Reply.StopReason reason) {
    return switch (reason) {
      case END_TURN -> "end_turn";
      case TOOL_USE -> "tool_use";
      case MAX_TOKENS -> "max_tokens";
    };
  }

  private static ObjectNode usageJson(Reply.Usage usage) {
    ObjectNode u = Json.object();
    u.put("input_tokens", usage.input() - usage.cached());
    u.put("cache_creation_input_tokens", 0);
    u.put("cache_read_input_tokens", usage.cached());
    u.put("output_tokens", usage.output());
    u.put("service_tier", "standard");
    return u;
  }

  private static JsonNode input(Reply.ToolCall call) {
    JsonNode parsed = Json.parseOrNull(call.arguments());
    if (parsed == null || !parsed.isObject()) {
      throw new IllegalStateException(
          "the tool call '"
              + call.name()
              + "' has arguments that are not a JSON object, which Anthropic's tool_use.input"
              + " must be: "
              + call.arguments());
    }
    return parsed;
  }

  @Override
  Rendition render(Reply reply, RecordedRequest request, IdSequence ids) {
    String id = ids.next("msg_");
    List<Reply.ToolCall> calls = new ArrayList<>();
    for (Reply.ToolCall call : reply.toolCalls()) {
      calls.add(
          call.id() != null
              ? call
              : new Reply.ToolCall(ids.next("toolu_"), call.name(), call.arguments()));
    }
    Reply.Usage usage = usageFor(reply, request);
    String stop = stopReason(reply.effectiveStopReason());
    Map<String, String> headers = requestIdHeader("request-id", ids);
    ObjectNode message = Json.object();
    message.put("id", id);
    message.put("type", "message");
    message.put("role", "assistant");
    message.put("model", request.model());
    ArrayNode content = message.putArray("content");
    if (!request.stream()) {
      if (reply.text() != null) {
        content.addObject().put("type", "text").put("text", reply.text());
      }
      for (Reply.ToolCall call : calls) {
        ObjectNode block = content.addObject();
        block.put("type", "tool_use").put("id", call.id()).put("name", call.name());
        block.set("input", input(call));
      }
      message.put("stop_reason", stop);
      message.putNull("stop_sequence");
      message.set("usage", usageJson(usage));
      return Rendition.json(200, message, headers);
    }
    List<Cassette.Event> events = new ArrayList<>();
    message.putNull("stop_reason");
    message.putNull("stop_sequence");
    ObjectNode startUsage = usageJson(new Reply.Usage(usage.input(), 1, usage.cached()));
    message.set("usage", startUsage);
    ObjectNode start = Json.object().put("type", "message_start");
    start.set("message", message);
    events.add(event("message_start", start));
    int index = 0;
    boolean pinged = false;
    if (reply.text() != null) {
      ObjectNode blockStart = Json.object().put("type", "content_block_start").put("index", index);
      blockStart.putObject("content_block").put("type", "text").put("text", "");
      events.add(event("content_block_start", blockStart));
      events.add(event("ping", Json.object().put("type", "ping")));
      pinged = true;
      for (String fragment : fragments(reply.text(), TEXT_FRAGMENT)) {
        ObjectNode delta = Json.object().put("type", "content_block_delta").put("index", index);
        delta.putObject("delta").put("type", "text_delta").put("text", fragment);
        events.add(event("content_block_delta", delta));
      }
      events.add(
          event(
              "content_block_stop",
              Json.object().put("type", "content_block_stop").put("index", index)));
      index++;
    }
    for (Reply.ToolCall call : calls) {
      ObjectNode blockStart = Json.object().put("type", "content_block_start").put("index", index);
      ObjectNode block = blockStart.putObject("content_block");
      block.put("type", "tool_use").put("id", call.id()).put("name", call.name());
      block.putObject("input");
      events.add(event("content_block_start", blockStart));
      if (!pinged) {
        events.add(event("ping", Json.object().put("type", "ping")));
        pinged = true;
      }
      for (String fragment : fragments(call.arguments(), ARGUMENT_FRAGMENT)) {
        ObjectNode delta = Json.object().put("type", "content_block_delta").put("index", index);
        delta.putObject("delta").put("type", "input_json_delta").put("partial_json", fragment);
        events.add(event("content_block_delta", delta));
      }
      events.add(
          event(
              "content_block_stop",
              Json.object().put("type", "content_block_stop").put("index", index)));
      index++;
    }
    if (!pinged) {
      events.add(event("ping", Json.object().put("type", "ping")));
    }
    ObjectNode messageDelta = Json.object().put("type", "message_delta");
    messageDelta.putObject("delta").put("stop_reason", stop).putNull("stop_sequence");
    messageDelta.putObject("usage").put("output_tokens", usage.output());
    events.add(event("message_delta", messageDelta));
    events.add(event("message_stop", Json.object().put("type", "message_stop")));
    return Rendition.stream(events, headers);
  }

  private static Cassette.Event event(String name, ObjectNode data) {
    return new Cassette.Event(name, Json.write(data));
  }

  // ---- cassettes

  @Override
  JsonNode requestKey(JsonNode body) {
    ObjectNode key = Json.object();
    key.put("protocol", Protocol.ANTHROPIC.name());
    key.put("model", Json.text(body.path("model")));
    ArrayNode system = key.putArray("system");
    if (body.path("system").isTextual()) {
      system.add(body.path("system").asText());
    }
    for (JsonNode block : Json.elements(body.path("system"))) {
      system.add(Json.text(block.path("text")));
    }
    ArrayNode messages = key.putArray("messages");
    for (JsonNode m : Json.elements(body.path("messages"))) {
      ObjectNode n = messages.addObject();
      n.put("role", Json.text(m.path("role")));
      n.set("content", normalizedContent(m.path("content")));
    }
    ArrayNode tools = key.putArray("tools");
    for (JsonNode tool : Json.elements(body.path("tools"))) {
      ObjectNode t = tool.isObject() ? ((ObjectNode) tool).deepCopy() : Json.object();
      t.remove("cache_control");
      tools.add(t);
    }
    return key;
  }

  private static ArrayNode normalizedContent(JsonNode content) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    if (content.isTextual()) {
      out.addObject().put("type", "text").put("text", content.asText());
      return out;
    }
    for (JsonNode block : Json.elements(content)) {
      String type = Json.text(block.path("type"));
      ObjectNode n = out.addObject().put("type", type);
      switch (type) {
        case "text" -> n.put("text", Json.text(block.path("text")));
        case "tool_use" -> {
          n.put("name", Json.text(block.path("name")));
          n.set("input", block.path("input"));
        }
        case "tool_result" -> {
          n.set("content", normalizedContent(block.path("content")));
          n.put("is_error", block.path("is_error").asBoolean(false));
        }
        case "thinking" -> n.put("thinking", Json.text(block.path("thinking")));
        case "redacted_thinking" -> {}
        default -> {
          n.setAll((ObjectNode) block.deepCopy());
          n.remove("cache_control");
        }
      }
    }
    return out;
  }

  @Override
  Reply replyFromBody(JsonNode body) {
    StringBuilder text = new StringBuilder();
    boolean sawText = false;
    List<Reply.ToolCall> calls = new ArrayList<>();
    for (JsonNode block : Json.elements(body.path("content"))) {
      switch (Json.text(block.path("type"))) {
        case "text" -> {
          sawText = true;
          text.append(Json.text(block.path("text")));
        }
        case "tool_use" ->
            calls.add(
                new Reply.ToolCall(
                    Json.text(block.path("id")),
                    Json.text(block.path("name")),
                    Json.write(block.path("input"))));
        default -> {}
      }
    }
    JsonNode usage = body.path("usage");
    int cached = usage.path("cache_read_input_tokens").asInt();
    int input =
        usage.path("input_tokens").asInt()
            + cached
            + usage.path("cache_creation_input_tokens").asInt();
    return Reply.recorded(
        sawText ? text.toString() : null,
        calls,
        usage.isObject()
            ? new Reply.Usage(input, usage.path("output_tokens").asInt(), cached)
            : null,
        stopReasonOf(body.path("stop_reason").asText()),
        false);
  }

  @Override
  Reply replyFromEvents(List<Cassette.Event> events, boolean truncated) {
    StringBuilder text = new StringBuilder();
    boolean sawText = false;
    TreeMap<Integer, String[]> calls = new TreeMap<>(); // index -> {id, name, partial json}
    String stop = "end_turn";
    int input = 0;
    int cached = 0;
    int output = 0;
    boolean sawUsage = false;
    for (Cassette.Event event : events) {
      JsonNode data = Json.parseOrNull(event.data());
      if (data == null) {
        continue;
      }
      switch (Json.text(data.path("type"))) {
        case "message_start" -> {
          JsonNode usage = data.path("message").path("usage");
          sawUsage = usage.isObject();
          cached = usage.path("cache_read_input_tokens").asInt();
          input =
              usage.path("input_tokens").asInt()
                  + cached
                  + usage.path("cache_creation_input_tokens").asInt();
          output = usage.path("output_tokens").asInt();
        }
        case "content_block_start" -> {
          JsonNode block = data.path("content_block");
          if ("text".equals(block.path("type").asText())) {
            sawText = true;
            text.append(Json.text(block.path("text")));
          } else if ("tool_use".equals(block.path("type").asText())) {
            calls.put(
                data.path("index").asInt(),
                new String[] {Json.text(block.path("id")), Json.text(block.path("name")), ""});
          }
        }
        case "content_block_delta" -> {
          JsonNode delta = data.path("delta");
          if ("text_delta".equals(delta.path("type").asText())) {
            text.append(Json.text(delta.path("text")));
          } else if ("input_json_delta".equals(delta.path("type").asText())) {
            String[] call = calls.get(data.path("index").asInt());
            if (call != null) {
              call[2] += Json.text(delta.path("partial_json"));
            }
          }
        }
        case "message_delta" -> {
          if (data.path("delta").path("stop_reason").isTextual()) {
            stop = data.path("delta").path("stop_reason").asText();
          }
          if (data.path("usage").path("output_tokens").isNumber()) {
            output = data.path("usage").path("output_tokens").asInt();
          }
        }
        default -> {}
      }
    }
    List<Reply.ToolCall> list = new ArrayList<>();
    for (String[] call : calls.values()) {
      list.add(new Reply.ToolCall(call[0], call[1], call[2].isEmpty() ? "{}" : call[2]));
    }
    return Reply.recorded(
        sawText ? text.toString() : null,
        list,
        sawUsage ? new Reply.Usage(input, output, cached) : null,
        stopReasonOf(stop),
        truncated);
  }

  @Override
  public String toString() {
    return Protocol.ANTHROPIC.name().toLowerCase(Locale.ROOT);
  }
}
