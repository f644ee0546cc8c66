package dev.cfn.ai.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A client of the OpenAI Chat Completions protocol ({@code POST {baseUrl}/chat/completions}), which
 * OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter, Z.ai and Kimi all speak.
 *
 * <p>Sends {@code Authorization: Bearer <key>} when a key is configured (local servers need none).
 * Streaming asks for {@code stream_options.include_usage} so that the last chunk carries the usage;
 * tool calls arrive as fragments keyed by {@code index} and are assembled here. Cached prompt
 * tokens come from {@code usage.prompt_tokens_details.cached_tokens}.
 *
 * <p>This client makes one HTTP attempt per call; {@link ModelProvider#create(ProviderConfig)}
 * wraps it with retries, rate limits and a circuit breaker. Thread-safe.
 */
public final class OpenAiProvider extends HttpModelProvider {
  /**
   * Creates a client of an OpenAI-compatible server.
   *
   * @param config the provider's settings; its kind must be {@link ProviderConfig.Kind#OPENAI}
   * @return the client (one HTTP attempt per call, no retries)
   */
  public static OpenAiProvider create(ProviderConfig config) {
    return new OpenAiProvider(config, Clock.systemUTC());
  }

  OpenAiProvider(ProviderConfig config, Clock clock) {
    super(config, clock, ProviderConfig.Kind.OPENAI, "/chat/completions", "OPENAI_MODEL");
  }

  @Override
  ChatResponse answer(JsonNode json, String model, boolean streamed) {
    // Only a plain answer is checked for an in-body error; a streamed whole body is read as is.
    if (!streamed && json.path("error").isObject()) {
      throw inBodyError(json.path("error"), 200);
    }
    return response(json, model);
  }

  @Override
  ChatResponse assemble(SseStream stream, StreamListener listener, String requestedModel) {
    StringBuilder text = new StringBuilder();
    TreeMap<Integer, PartialCall> calls = new TreeMap<>();
    String finish = null;
    Usage usage = Usage.ZERO;
    String model = requestedModel;
    boolean done = false;
    SseStream.Event event;
    while ((event = stream.next()) != null) {
      String data = event.data().strip();
      if (data.equals("[DONE]")) {
        done = true;
        break;
      }
      if (data.isEmpty()) {
        continue;
      }
      JsonNode chunk;
      try {
        chunk = HttpTransport.JSON.readTree(data);
      } catch (JsonProcessingException e) {
        throw transport.streamBroken("a chunk is not JSON", e);
      }
      if (chunk.path("error").isObject()) {
        throw inBodyError(chunk.path("error"), 0);
      }
      if (chunk.hasNonNull("model")) {
        model = chunk.get("model").asText();
      }
      if (chunk.path("usage").isObject()) {
        usage = usage(chunk.path("usage"));
      }
      JsonNode choice = chunk.path("choices").path(0);
      if (choice.isMissingNode()) {
        continue;
      }
      JsonNode delta = choice.path("delta");
      String content = contentText(delta.path("content"));
      if (!content.isEmpty()) {
        text.append(content);
        listener.onText(content);
      }
      int position = 0;
      for (JsonNode fragment : delta.path("tool_calls")) {
        int index = indexOf(fragment, position++, calls);
        PartialCall call = calls.computeIfAbsent(index, i -> new PartialCall());
        call.absorb(fragment, listener);
      }
      if (choice.hasNonNull("finish_reason")) {
        finish = choice.get("finish_reason").asText();
      }
    }
    if (!done && finish == null) {
      throw transport.streamBroken("the stream ended before its last chunk", null);
    }
    List<ToolCall> toolCalls = new ArrayList<>();
    for (PartialCall p : calls.values()) {
      ToolCall call = p.complete(listener);
      toolCalls.add(call);
      listener.onToolCall(call);
    }
    return new ChatResponse(
        text.toString(), toolCalls, stopReason(finish, toolCalls), usage, model);
  }

  /**
   * The index a streamed tool-call fragment belongs to, for servers that omit {@code index}: a
   * fragment with another id than the current call's, or without an id but with a name while the
   * current call already has one, starts a new call; any other continues the current call.
   */
  private static int indexOf(JsonNode fragment, int position, TreeMap<Integer, PartialCall> calls) {
    if (fragment.hasNonNull("index")) {
      return fragment.get("index").asInt();
    }
    String id = fragment.path("id").asText("");
    if (calls.isEmpty()) {
      return position;
    }
    int last = calls.lastKey();
    PartialCall lastCall = calls.get(last);
    if (!id.isEmpty() && lastCall.id != null && !lastCall.id.equals(id)) {
      return last + 1;
    }
    boolean named = !fragment.path("function").path("name").asText("").isEmpty();
    if (id.isEmpty() && named && lastCall.name != null) {
      return last + 1; // a name without index or id: the next call, not a rename of this one
    }
    return Math.max(last, position);
  }

  /** A tool call assembled from streamed fragments. */
  private static final class PartialCall {
    String id;
    String name;
    final StringBuilder arguments = new StringBuilder();
    final StringBuilder pending = new StringBuilder();
    boolean started;

    void absorb(JsonNode fragment, StreamListener listener) {
      if (id == null && fragment.hasNonNull("id") && !fragment.get("id").asText().isEmpty()) {
        id = fragment.get("id").asText();
      }
      JsonNode function = fragment.path("function");
      if (function.hasNonNull("name") && !function.get("name").asText().isEmpty()) {
        name = name == null ? function.get("name").asText() : name;
      }
      JsonNode args = function.path("arguments");
      String piece = args.isTextual() ? args.asText() : args.isObject() ? args.toString() : "";
      if (!started && name != null) {
        if (id == null) {
          id = ToolArguments.newId();
        }
        started = true;
        listener.onToolCallStart(id, name);
        if (!pending.isEmpty()) {
          listener.onToolCallArguments(id, pending.toString());
          pending.setLength(0);
        }
      }
      if (!piece.isEmpty()) {
        arguments.append(piece);
        if (started) {
          listener.onToolCallArguments(id, piece);
        } else {
          pending.append(piece);
        }
      }
    }

    ToolCall complete(StreamListener listener) {
      if (id == null) {
        id = ToolArguments.newId();
      }
      if (!started) {
        started = true;
        listener.onToolCallStart(id, name == null ? "" : name);
      }
      return new ToolCall(id, name == null ? "" : name, ToolArguments.parse(arguments.toString()));
    }
  }

  private ChatResponse response(JsonNode json, String requestedModel) {
    JsonNode choice = json.path("choices").path(0);
    JsonNode message = choice.path("message");
    List<ToolCall> calls = new ArrayList<>();
    for (JsonNode tc : message.path("tool_calls")) {
      JsonNode function = tc.path("function");
      JsonNode args = function.path("arguments");
      String id = tc.path("id").asText("");
      calls.add(
          new ToolCall(
              id.isEmpty() ? ToolArguments.newId() : id,
              function.path("name").asText(""),
              args.isObject() ? args : ToolArguments.parse(args.asText(""))));
    }
    String finish =
        choice.hasNonNull("finish_reason") ? choice.get("finish_reason").asText() : null;
    return new ChatResponse(
        contentText(message.path("content")),
        calls,
        stopReason(finish, calls),
        usage(json.path("usage")),
        json.hasNonNull("model") ? json.get("model").asText() : requestedModel);
  }

  /** Content is a string, null, or (on some servers) an array of {@code {type:text}} parts. */
  private static String contentText(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (JsonNode part : content) {
        if (part.path("text").isTextual()) {
          sb.append(part.get("text").asText());
        }
      }
      return sb.toString();
    }
    return "";
  }

  static StopReason stopReason(String finish, List<ToolCall> calls) {
    StopReason r =
        finish == null
            ? StopReason.END
            : switch (finish) {
              case "stop" -> StopReason.END;
              case "tool_calls", "function_call" -> StopReason.TOOL_USE;
              case "length" -> StopReason.MAX_TOKENS;
              default -> StopReason.OTHER;
            };
    // Some servers say "stop" although the message carries tool calls.
    return r == StopReason.END && !calls.isEmpty() ? StopReason.TOOL_USE : r;
  }

  static Usage usage(JsonNode usage) {
    if (!usage.isObject()) {
      return Usage.ZERO;
    }
    return new Usage(
        Math.max(0, usage.path("prompt_tokens").asLong(0)),
        Math.max(0, usage.path("completion_tokens").asLong(0)),
        Math.max(0, usage.path("prompt_tokens_details").path("cached_tokens").asLong(0)));
  }

  private ModelException inBodyError(JsonNode error, int status) {
    String type = error.path("type").asText(error.path("code").asText(""));
    ModelException.Kind kind =
        error.path("code").isInt()
            ? ModelException.kindOf(error.path("code").asInt())
            : kindOfErrorType(type);
    String message = transport.redactor().redact(error.path("message").asText(""));
    return new ModelException(
        kind,
        name(),
        status,
        null,
        "provider '"
            + name()
            + "' reported an error"
            + (type.isEmpty() ? "" : " (" + transport.redactor().redact(type) + ")")
            + ": "
            + message
            + "; "
            + ModelException.advice(kind, name()),
        null);
  }

  private static ModelException.Kind kindOfErrorType(String type) {
    String t = type.toLowerCase(java.util.Locale.ROOT);
    if (t.contains("rate") || t.contains("quota")) {
      return ModelException.Kind.RATE_LIMITED;
    }
    if (t.contains("overload")) {
      return ModelException.Kind.OVERLOADED;
    }
    if (t.contains("auth") || t.contains("api_key") || t.contains("permission")) {
      return ModelException.Kind.AUTH;
    }
    if (t.contains("invalid") || t.contains("not_found")) {
      return ModelException.Kind.BAD_REQUEST;
    }
    return ModelException.Kind.SERVER;
  }

  @Override
  Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>(config.headers());
    if (config.apiKey() != null) {
      h.put("Authorization", "Bearer " + config.apiKey());
    }
    return h;
  }

  @Override
  ObjectNode body(ChatRequest request, String model, boolean stream) {
    ObjectNode body = HttpTransport.JSON.createObjectNode();
    body.put("model", model);
    ArrayNode messages = body.putArray("messages");
    if (request.system() != null && !request.system().isEmpty()) {
      messages.addObject().put("role", "system").put("content", request.system());
    }
    for (ChatMessage m : request.messages()) {
      switch (m) {
        case ChatMessage.User u ->
            messages.addObject().put("role", "user").put("content", u.text());
        case ChatMessage.Assistant a -> {
          ObjectNode msg = messages.addObject().put("role", "assistant");
          if (a.text().isEmpty() && !a.toolCalls().isEmpty()) {
            msg.putNull("content");
          } else {
            msg.put("content", a.text());
          }
          if (!a.toolCalls().isEmpty()) {
            ArrayNode calls = msg.putArray("tool_calls");
            for (ToolCall c : a.toolCalls()) {
              ObjectNode call = calls.addObject().put("id", c.id()).put("type", "function");
              call.putObject("function")
                  .put("name", c.name())
                  .put("arguments", ToolArguments.toText(c.arguments()));
            }
          }
        }
        case ChatMessage.ToolResult r ->
            messages
                .addObject()
                .put("role", "tool")
                .put("tool_call_id", r.toolCallId())
                .put("content", r.isError() ? "ERROR: " + r.content() : r.content());
      }
    }
    if (!request.tools().isEmpty()) {
      ArrayNode tools = body.putArray("tools");
      for (ToolSpec t : request.tools()) {
        ObjectNode tool = tools.addObject().put("type", "function");
        ObjectNode f = tool.putObject("function").put("name", t.name());
        f.put("description", t.description());
        f.set("parameters", t.inputSchema());
      }
    }
    Integer maxTokens = request.maxTokens();
    if (maxTokens == null && config.maxTokens() > 0) {
      maxTokens = config.maxTokens();
    }
    if (maxTokens != null) {
      body.put(maxTokensField(model), maxTokens);
    }
    if (request.temperature() != null) {
      body.put("temperature", request.temperature());
    }
    if (stream) {
      body.put("stream", true);
      body.putObject("stream_options").put("include_usage", true);
    }
    return body;
  }

  /**
   * OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...) refuse {@code max_tokens} and take {@code
   * max_completion_tokens}; every other OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM
   * Studio...) takes {@code max_tokens}.
   */
  static String maxTokensField(String model) {
    return model != null && REASONING_MODEL.matcher(model).lookingAt()
        ? "max_completion_tokens"
        : "max_tokens";
  }

  private static final java.util.regex.Pattern REASONING_MODEL =
      java.util.regex.Pattern.compile("(?:openai/)?(?:o[1-9]|gpt-5)");
}
