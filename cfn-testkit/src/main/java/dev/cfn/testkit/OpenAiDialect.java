package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * OpenAI Chat Completions ({@code POST /v1/chat/completions}): request reading and validation,
 * {@code chat.completion} bodies, {@code chat.completion.chunk} streams ending in {@code data:
 * [DONE]}, and {@code {"error":{message,type,param,code}}} errors.
 */
final class OpenAiDialect extends Dialect {
  static final OpenAiDialect INSTANCE = new OpenAiDialect();

  private static final Set<String> ROLES =
      Set.of("system", "developer", "user", "assistant", "tool", "function");
  private static final int TEXT_FRAGMENT = 8;
  private static final int ARGUMENT_FRAGMENT = 10;

  private OpenAiDialect() {}

  // ---- reading

  static String contentText(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    List<String> parts = new ArrayList<>();
    for (JsonNode part : Json.elements(content)) {
      if ("text".equals(part.path("type").asText()) && part.path("text").isTextual()) {
        parts.add(part.path("text").asText());
      }
    }
    return String.join("\n", parts);
  }

  @Override
  String system(JsonNode body) {
    List<String> parts = new ArrayList<>();
    for (JsonNode m : Json.elements(body.path("messages"))) {
      String role = m.path("role").asText();
      if (role.equals("system") || role.equals("developer")) {
        parts.add(contentText(m.path("content")));
      }
    }
    return String.join("\n", parts);
  }

  @Override
  List<String> userMessages(JsonNode body) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : Json.elements(body.path("messages"))) {
      if ("user".equals(m.path("role").asText())) {
        out.add(contentText(m.path("content")));
      }
    }
    return out;
  }

  @Override
  List<String> toolNames(JsonNode body) {
    List<String> out = new ArrayList<>();
    for (JsonNode tool : Json.elements(body.path("tools"))) {
      if (tool.path("function").path("name").isTextual()) {
        out.add(tool.path("function").path("name").asText());
      }
    }
    for (JsonNode function : Json.elements(body.path("functions"))) {
      if (function.path("name").isTextual()) {
        out.add(function.path("name").asText());
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
    String role = messages.get(messages.size() - 1).path("role").asText();
    return role.equals("tool") || role.equals("function");
  }

  // ---- validation and auth

  @Override
  Rendition validate(RecordedRequest request, IdSequence ids) {
    JsonNode body = request.bodyView();
    if (!body.isObject()) {
      return invalid(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't"
              + " using your HTTP library correctly. The OpenAI API expects a JSON payload, but"
              + " what was sent was not valid JSON.)",
          null,
          null,
          ids);
    }
    if (request.model().isEmpty()) {
      return invalid("you must provide a model parameter", null, null, ids);
    }
    JsonNode messages = body.path("messages");
    if (!messages.isArray()) {
      return invalid(
          "Missing required parameter: 'messages'.", "messages", "missing_required_parameter", ids);
    }
    if (messages.isEmpty()) {
      return invalid(
          "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an"
              + " empty array instead.",
          "messages",
          "empty_array",
          ids);
    }
    for (String field : List.of("max_tokens", "max_completion_tokens")) {
      JsonNode value = body.path(field);
      if (!value.isMissingNode()
          && !value.isNull()
          && (!value.canConvertToInt() || value.asInt() < 1)) {
        return invalid(
            "Invalid '"
                + field
                + "': integer below minimum value. Expected a value >= 1, but got "
                + value
                + " instead.",
            field,
            "integer_below_min_value",
            ids);
      }
    }
    List<JsonNode> tools = Json.elements(body.path("tools"));
    for (int i = 0; i < tools.size(); i++) {
      if (!tools.get(i).path("function").path("name").isTextual()) {
        return invalid(
            "Missing required parameter: 'tools[" + i + "].function.name'.",
            "tools[" + i + "].function.name",
            "missing_required_parameter",
            ids);
      }
    }
    return validateConversation(messages, ids);
  }

  /** Roles, and that every tool call is answered by tool messages right after it. */
  private Rendition validateConversation(JsonNode messages, IdSequence ids) {
    Set<String> pending = null;
    int pendingFrom = -1;
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String role = m.path("role").asText();
      if (!ROLES.contains(role)) {
        return invalid(
            "Invalid value: '"
                + role
                + "'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool',"
                + " and 'developer'.",
            "messages[" + i + "].role",
            "invalid_value",
            ids);
      }
      if (role.equals("tool")) {
        String callId = Json.text(m.path("tool_call_id"));
        if (callId.isEmpty()) {
          return invalid(
              "Missing parameter 'tool_call_id': messages with role 'tool' must have a"
                  + " 'tool_call_id'.",
              "messages.[" + i + "].tool_call_id",
              null,
              ids);
        }
        if (pending == null || !pending.remove(callId)) {
          return invalid(
              "Invalid parameter: messages with role 'tool' must be a response to a preceeding"
                  + " message with 'tool_calls'.",
              "messages.[" + i + "].role",
              null,
              ids);
        }
        continue;
      }
      if (pending != null && !pending.isEmpty()) {
        return unanswered(pending, pendingFrom, ids);
      }
      pending = null;
      if (role.equals("assistant") && !m.path("tool_calls").isEmpty()) {
        pending = new LinkedHashSet<>();
        pendingFrom = i;
        for (JsonNode call : m.path("tool_calls")) {
          pending.add(Json.text(call.path("id")));
        }
      }
    }
    if (pending != null && !pending.isEmpty()) {
      return unanswered(pending, pendingFrom, ids);
    }
    return null;
  }

  private Rendition unanswered(Set<String> pending, int index, IdSequence ids) {
    return invalid(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to"
            + " each 'tool_call_id'. The following tool_call_ids did not have response messages: "
            + String.join(", ", pending),
        "messages.[" + index + "].role",
        null,
        ids);
  }

  private Rendition invalid(String message, String param, String code, IdSequence ids) {
    return errorBody(400, message, "invalid_request_error", param, code, ids);
  }

  @Override
  Rendition authFailure(RecordedRequest request, String key, IdSequence ids) {
    String auth = request.headers().get("authorization");
    if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return errorBody(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization"
              + " header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          "invalid_request_error",
          null,
          null,
          ids);
    }
    byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, key.getBytes(StandardCharsets.UTF_8))) {
      return errorBody(
          401,
          "Incorrect API key provided. (cfn-testkit: this server only accepts the key given to"
              + " requireApiKey.)",
          "invalid_request_error",
          null,
          "invalid_api_key",
          ids);
    }
    return null;
  }

  // ---- errors

  @Override
  Rendition error(int status, String message, IdSequence ids) {
    if (status == 429) {
      return errorBody(status, message, "requests", null, "rate_limit_exceeded", ids);
    }
    if (status == 401) {
      return errorBody(status, message, "invalid_request_error", null, "invalid_api_key", ids);
    }
    String type = status >= 500 ? "server_error" : "invalid_request_error";
    return errorBody(status, message, type, null, null, ids);
  }

  @Override
  Rendition overloaded(IdSequence ids) {
    return errorBody(
        503, "The server is overloaded or not ready yet.", "server_error", null, null, ids);
  }

  @Override
  Rendition testkitError(String message, IdSequence ids) {
    return errorBody(400, message, "invalid_request_error", null, "cfn_testkit_no_match", ids);
  }

  private Rendition errorBody(
      int status, String message, String type, String param, String code, IdSequence ids) {
    ObjectNode error = Json.object();
    error.put("message", message);
    error.put("type", type);
    error.put("param", param);
    error.put("code", code);
    ObjectNode body = Json.object();
    body.set("error", error);
    return Rendition.json(status, body, requestIdHeader("x-request-id", ids));
  }

  // ---- rendering

  private static String finishReason(Reply.StopReason reason) {
    return switch (reason) {
      case END_TURN -> "stop";
      case TOOL_USE -> "tool_calls";
      case MAX_TOKENS -> "length";
    };
  }

  private static ObjectNode usageJson(Reply.Usage usage) {
    ObjectNode u = Json.object();
    u.put("prompt_tokens", usage.input());
    u.put("completion_tokens", usage.output());
    u.put("total_tokens", usage.input() + usage.output());
    ObjectNode prompt = u.putObject("prompt_tokens_details");
    prompt.put("cached_tokens", usage.cached());
    prompt.put("audio_tokens", 0);
    ObjectNode completion = u.putObject("completion_tokens_details");
    completion.put("reasoning_tokens", 0);
    completion.put("audio_tokens", 0);
    completion.put("accepted_prediction_tokens", 0);
    completion.put("rejected_prediction_tokens", 0);
    return u;
  }

  @Override
  Rendition render(Reply reply, RecordedRequest request, IdSequence ids) {
    String id = ids.next("chatcmpl-");
    long created = Instant.now().getEpochSecond();
    List<Reply.ToolCall> calls = new ArrayList<>();
    for (Reply.ToolCall call : reply.toolCalls()) {
      calls.add(
          call.id() != null
              ? call
              : new Reply.ToolCall(ids.next("call_"), call.name(), call.arguments()));
    }
    Reply.Usage usage = usageFor(reply, request);
    String finish = finishReason(reply.effectiveStopReason());
    Map<String, String> headers = requestIdHeader("x-request-id", ids);
    if (!request.stream()) {
      ObjectNode message = Json.object();
      message.put("role", "assistant");
      message.put("content", reply.text());
      message.putNull("refusal");
      if (!calls.isEmpty()) {
        ArrayNode toolCalls = message.putArray("tool_calls");
        for (Reply.ToolCall call : calls) {
          ObjectNode c = toolCalls.addObject();
          c.put("id", call.id());
          c.put("type", "function");
          c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
        }
      }
      message.putArray("annotations");
      ObjectNode body = header(id, created, request.model(), "chat.completion");
      ObjectNode choice = body.putArray("choices").addObject();
      choice.put("index", 0);
      choice.set("message", message);
      choice.putNull("logprobs");
      choice.put("finish_reason", finish);
      body.set("usage", usageJson(usage));
      body.put("service_tier", "default");
      return Rendition.json(200, body, headers);
    }
    boolean includeUsage =
        request.bodyView().path("stream_options").path("include_usage").asBoolean();
    List<Cassette.Event> events = new ArrayList<>();
    ObjectNode first = Json.object();
    first.put("role", "assistant");
    first.put("content", reply.text() == null ? null : "");
    first.putNull("refusal");
    events.add(chunk(id, created, request.model(), first, null, includeUsage));
    if (reply.text() != null) {
      for (String fragment : fragments(reply.text(), TEXT_FRAGMENT)) {
        ObjectNode delta = Json.object().put("content", fragment);
        events.add(chunk(id, created, request.model(), delta, null, includeUsage));
      }
    }
    for (int i = 0; i < calls.size(); i++) {
      Reply.ToolCall call = calls.get(i);
      ObjectNode start = Json.object();
      ObjectNode startCall = start.putArray("tool_calls").addObject();
      startCall.put("index", i);
      startCall.put("id", call.id());
      startCall.put("type", "function");
      startCall.putObject("function").put("name", call.name()).put("arguments", "");
      events.add(chunk(id, created, request.model(), start, null, includeUsage));
      for (String fragment : fragments(call.arguments(), ARGUMENT_FRAGMENT)) {
        ObjectNode delta = Json.object();
        ObjectNode part = delta.putArray("tool_calls").addObject();
        part.put("index", i);
        part.putObject("function").put("arguments", fragment);
        events.add(chunk(id, created, request.model(), delta, null, includeUsage));
      }
    }
    events.add(chunk(id, created, request.model(), Json.object(), finish, includeUsage));
    if (includeUsage) {
      ObjectNode last = header(id, created, request.model(), "chat.completion.chunk");
      last.putArray("choices");
      last.set("usage", usageJson(usage));
      events.add(new Cassette.Event(null, Json.write(last)));
    }
    events.add(new Cassette.Event(null, "[DONE]"));
    return Rendition.stream(events, headers);
  }

  private static ObjectNode header(String id, long created, String model, String object) {
    ObjectNode node = Json.object();
    node.put("id", id);
    node.put("object", object);
    node.put("created", created);
    node.put("model", model);
    node.put("system_fingerprint", "fp_cfn_testkit");
    return node;
  }

  private static Cassette.Event chunk(
      String id,
      long created,
      String model,
      ObjectNode delta,
      String finishReason,
      boolean includeUsage) {
    ObjectNode node = header(id, created, model, "chat.completion.chunk");
    ObjectNode choice = node.putArray("choices").addObject();
    choice.put("index", 0);
    choice.set("delta", delta);
    choice.putNull("logprobs");
    choice.put("finish_reason", finishReason);
    if (includeUsage) {
      node.putNull("usage");
    }
    return new Cassette.Event(null, Json.write(node));
  }

  // ---- cassettes

  @Override
  JsonNode requestKey(JsonNode body) {
    ObjectNode key = Json.object();
    key.put("protocol", Protocol.OPENAI.name());
    key.put("model", Json.text(body.path("model")));
    ArrayNode messages = key.putArray("messages");
    for (JsonNode m : Json.elements(body.path("messages"))) {
      ObjectNode n = messages.addObject();
      n.put("role", Json.text(m.path("role")));
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        n.put("content", content.asText());
      } else if (content.isArray()) {
        boolean allText = true;
        for (JsonNode part : content) {
          allText &= "text".equals(part.path("type").asText());
        }
        if (allText) {
          n.put("content", contentText(content));
        } else {
          n.set("content", content);
        }
      }
      if (!m.path("tool_calls").isEmpty()) {
        ArrayNode calls = n.putArray("tool_calls");
        for (JsonNode call : m.path("tool_calls")) {
          ObjectNode c = calls.addObject();
          c.put("name", Json.text(call.path("function").path("name")));
          String arguments = Json.text(call.path("function").path("arguments"));
          JsonNode parsed = Json.parseOrNull(arguments);
          c.set("arguments", parsed != null ? parsed : Json.object().put("raw", arguments));
        }
      }
    }
    ArrayNode tools = key.putArray("tools");
    for (JsonNode tool : Json.elements(body.path("tools"))) {
      JsonNode f = tool.path("function");
      ObjectNode t = tools.addObject();
      t.put("name", Json.text(f.path("name")));
      t.put("description", Json.text(f.path("description")));
      t.set(
          "parameters",
          f.path("parameters").isMissingNode() ? NullNode.instance : f.path("parameters"));
    }
    for (JsonNode f : Json.elements(body.path("functions"))) {
      ObjectNode t = tools.addObject();
      t.put("name", Json.text(f.path("name")));
      t.put("description", Json.text(f.path("description")));
      t.set(
          "parameters",
          f.path("parameters").isMissingNode() ? NullNode.instance : f.path("parameters"));
    }
    return key;
  }

  @Override
  Reply replyFromBody(JsonNode body) {
    JsonNode choice = body.path("choices").path(0);
    JsonNode message = choice.path("message");
    String text = message.path("content").isTextual() ? message.path("content").asText() : null;
    List<Reply.ToolCall> calls = new ArrayList<>();
    for (JsonNode call : Json.elements(message.path("tool_calls"))) {
      calls.add(
          new Reply.ToolCall(
              Json.text(call.path("id")),
              Json.text(call.path("function").path("name")),
              Json.text(call.path("function").path("arguments"))));
    }
    return Reply.recorded(
        text,
        calls,
        usageOf(body.path("usage")),
        stopReasonOf(choice.path("finish_reason").asText()),
        false);
  }

  @Override
  Reply replyFromEvents(List<Cassette.Event> events, boolean truncated) {
    StringBuilder text = new StringBuilder();
    boolean sawText = false;
    TreeMap<Integer, String[]> calls = new TreeMap<>(); // index -> {id, name, arguments}
    String finish = "stop";
    Reply.Usage usage = null;
    for (Cassette.Event event : events) {
      JsonNode chunk = Json.parseOrNull(event.data());
      if (chunk == null) {
        continue;
      }
      if (chunk.path("usage").isObject()) {
        usage = usageOf(chunk.path("usage"));
      }
      JsonNode choice = chunk.path("choices").path(0);
      JsonNode delta = choice.path("delta");
      if (delta.path("content").isTextual()) {
        sawText = true;
        text.append(delta.path("content").asText());
      }
      for (JsonNode call : Json.elements(delta.path("tool_calls"))) {
        String[] acc =
            calls.computeIfAbsent(call.path("index").asInt(), i -> new String[] {"", "", ""});
        if (call.path("id").isTextual()) {
          acc[0] = call.path("id").asText();
        }
        if (call.path("function").path("name").isTextual()) {
          acc[1] = call.path("function").path("name").asText();
        }
        acc[2] += Json.text(call.path("function").path("arguments"));
      }
      if (choice.path("finish_reason").isTextual()) {
        finish = choice.path("finish_reason").asText();
      }
    }
    List<Reply.ToolCall> list = new ArrayList<>();
    calls.values().forEach(c -> list.add(new Reply.ToolCall(c[0], c[1], c[2])));
    String replyText = text.length() > 0 || (sawText && list.isEmpty()) ? text.toString() : null;
    return Reply.recorded(replyText, list, usage, stopReasonOf(finish), truncated);
  }

  private static Reply.Usage usageOf(JsonNode usage) {
    if (!usage.isObject()) {
      return null;
    }
    return new Reply.Usage(
        usage.path("prompt_tokens").asInt(),
        usage.path("completion_tokens").asInt(),
        usage.path("prompt_tokens_details").path("cached_tokens").asInt());
  }

  @Override
  public String toString() {
    return Protocol.OPENAI.name().toLowerCase(Locale.ROOT);
  }
}
