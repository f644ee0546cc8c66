package dev.cfn.ai.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A client of the Anthropic Messages protocol ({@code POST {baseUrl}/v1/messages}).
 *
 * <p>Sends {@code x-api-key} and {@code anthropic-version: 2023-06-01}, and always a {@code
 * max_tokens} (the request's, else the config's, else {@value
 * ProviderConfig#DEFAULT_ANTHROPIC_MAX_TOKENS}) because the protocol requires it. The system prompt
 * travels in {@code system}; tool calls are {@code tool_use} blocks of the assistant turn and tool
 * results {@code tool_result} blocks of the next user turn (consecutive turns of one role are
 * merged into one message, as the protocol expects); tool call ids another provider made are
 * rewritten to the characters the protocol allows. Streaming reads the {@code message_start},
 * {@code content_block_start/delta/stop}, {@code message_delta}, {@code message_stop}, {@code ping}
 * and {@code error} events. Cached prompt tokens are {@code cache_read_input_tokens}.
 *
 * <p>This client makes one HTTP attempt per call; {@link ModelProvider#create(ProviderConfig)}
 * wraps it with retries, rate limits and a circuit breaker. Thread-safe.
 */
public final class AnthropicProvider extends HttpModelProvider {
  /** The protocol version this client speaks. */
  public static final String API_VERSION = "2023-06-01";

  private static final Pattern VALID_TOOL_ID = Pattern.compile("[a-zA-Z0-9_-]+");
  private static final Pattern INVALID_TOOL_ID_CHAR = Pattern.compile("[^a-zA-Z0-9_-]");

  /**
   * Creates a client of an Anthropic-compatible server.
   *
   * @param config the provider's settings; its kind must be {@link ProviderConfig.Kind#ANTHROPIC}
   * @return the client (one HTTP attempt per call, no retries)
   */
  public static AnthropicProvider create(ProviderConfig config) {
    return new AnthropicProvider(config, Clock.systemUTC());
  }

  AnthropicProvider(ProviderConfig config, Clock clock) {
    super(config, clock, ProviderConfig.Kind.ANTHROPIC, "/v1/messages", "ANTHROPIC_MODEL");
  }

  @Override
  ChatResponse answer(JsonNode json, String model, boolean streamed) {
    if ("error".equals(json.path("type").asText())) {
      throw error(json.path("error"));
    }
    return response(json, model);
  }

  /** A content block being streamed. */
  private static final class Block {
    final String type;
    final String id;
    final String name;
    final StringBuilder json = new StringBuilder();
    ToolCall done;

    Block(String type, String id, String name) {
      this.type = type;
      this.id = id;
      this.name = name;
    }
  }

  @Override
  ChatResponse assemble(SseStream stream, StreamListener listener, String requested) {
    StringBuilder text = new StringBuilder();
    Map<Integer, Block> blocks = new HashMap<>();
    List<ToolCall> calls = new ArrayList<>();
    String model = requested;
    String stop = null;
    long input = 0;
    long output = 0;
    long cacheRead = 0;
    long cacheWrite = 0;
    boolean stopped = false;
    SseStream.Event event;
    while (!stopped && (event = stream.next()) != null) {
      JsonNode data;
      try {
        data = HttpTransport.JSON.readTree(event.data());
      } catch (JsonProcessingException e) {
        throw transport.streamBroken("an event is not JSON", e);
      }
      String type = data.path("type").asText(event.name());
      switch (type) {
        case "message_start" -> {
          JsonNode message = data.path("message");
          if (message.hasNonNull("model")) {
            model = message.get("model").asText();
          }
          JsonNode u = message.path("usage");
          input = u.path("input_tokens").asLong(input);
          output = u.path("output_tokens").asLong(output);
          cacheRead = u.path("cache_read_input_tokens").asLong(cacheRead);
          cacheWrite = u.path("cache_creation_input_tokens").asLong(cacheWrite);
        }
        case "content_block_start" -> {
          int index = data.path("index").asInt(blocks.size());
          JsonNode cb = data.path("content_block");
          String blockType = cb.path("type").asText("");
          Block block =
              new Block(
                  blockType,
                  cb.path("id").asText(ToolArguments.newId()),
                  cb.path("name").asText(""));
          blocks.put(index, block);
          if (blockType.equals("text")) {
            String initial = cb.path("text").asText("");
            if (!initial.isEmpty()) {
              text.append(initial);
              listener.onText(initial);
            }
          } else if (blockType.equals("tool_use")) {
            listener.onToolCallStart(block.id, block.name);
            JsonNode initialInput = cb.path("input");
            if (initialInput.isObject() && !initialInput.isEmpty()) {
              block.json.append(initialInput);
            }
          }
        }
        case "content_block_delta" -> {
          Block block = blocks.get(data.path("index").asInt(-1));
          JsonNode delta = data.path("delta");
          switch (delta.path("type").asText("")) {
            case "text_delta" -> {
              String piece = delta.path("text").asText("");
              if (!piece.isEmpty()) {
                text.append(piece);
                listener.onText(piece);
              }
            }
            case "input_json_delta" -> {
              String piece = delta.path("partial_json").asText("");
              if (block != null && !piece.isEmpty()) {
                block.json.append(piece);
                listener.onToolCallArguments(block.id, piece);
              }
            }
            default -> {
              // thinking, signature and citations deltas are not part of the answer
            }
          }
        }
        case "content_block_stop" -> {
          Block block = blocks.get(data.path("index").asInt(-1));
          if (block != null && block.type.equals("tool_use") && block.done == null) {
            block.done =
                new ToolCall(block.id, block.name, ToolArguments.parse(block.json.toString()));
            calls.add(block.done);
            listener.onToolCall(block.done);
          }
        }
        case "message_delta" -> {
          if (data.path("delta").hasNonNull("stop_reason")) {
            stop = data.path("delta").get("stop_reason").asText();
          }
          JsonNode u = data.path("usage");
          output = u.path("output_tokens").asLong(output);
          input = u.path("input_tokens").asLong(input);
          cacheRead = u.path("cache_read_input_tokens").asLong(cacheRead);
          cacheWrite = u.path("cache_creation_input_tokens").asLong(cacheWrite);
        }
        case "message_stop" -> stopped = true;
        case "error" -> throw error(data.path("error"));
        default -> {
          // ping and event types added later
        }
      }
    }
    if (!stopped) {
      throw transport.streamBroken("the stream ended before message_stop", null);
    }
    // A tool block whose stop event went missing still counts once the message stopped.
    for (Block b : blocks.values()) {
      if (b.type.equals("tool_use") && b.done == null) {
        b.done = new ToolCall(b.id, b.name, ToolArguments.parse(b.json.toString()));
        calls.add(b.done);
        listener.onToolCall(b.done);
      }
    }
    Usage usage = new Usage(input + cacheRead + cacheWrite, output, cacheRead);
    return new ChatResponse(text.toString(), calls, stopReason(stop), usage, model);
  }

  private ChatResponse response(JsonNode json, String requested) {
    StringBuilder text = new StringBuilder();
    List<ToolCall> calls = new ArrayList<>();
    for (JsonNode block : json.path("content")) {
      switch (block.path("type").asText("")) {
        case "text" -> text.append(block.path("text").asText(""));
        case "tool_use" -> {
          JsonNode input = block.path("input");
          calls.add(
              new ToolCall(
                  block.path("id").asText(ToolArguments.newId()),
                  block.path("name").asText(""),
                  input.isObject() ? input : ToolArguments.parse(input.asText(""))));
        }
        default -> {
          // thinking blocks are not part of the answer
        }
      }
    }
    JsonNode u = json.path("usage");
    long cacheRead = u.path("cache_read_input_tokens").asLong(0);
    Usage usage =
        new Usage(
            u.path("input_tokens").asLong(0)
                + cacheRead
                + u.path("cache_creation_input_tokens").asLong(0),
            u.path("output_tokens").asLong(0),
            cacheRead);
    return new ChatResponse(
        text.toString(),
        calls,
        stopReason(json.hasNonNull("stop_reason") ? json.get("stop_reason").asText() : null),
        usage,
        json.hasNonNull("model") ? json.get("model").asText() : requested);
  }

  static StopReason stopReason(String stop) {
    if (stop == null) {
      return StopReason.END;
    }
    return switch (stop) {
      case "end_turn", "stop_sequence" -> StopReason.END;
      case "tool_use" -> StopReason.TOOL_USE;
      case "max_tokens" -> StopReason.MAX_TOKENS;
      default -> StopReason.OTHER;
    };
  }

  private ModelException error(JsonNode error) {
    String type = error.path("type").asText("");
    ModelException.Kind kind =
        switch (type) {
          case "overloaded_error" -> ModelException.Kind.OVERLOADED;
          case "rate_limit_error" -> ModelException.Kind.RATE_LIMITED;
          case "authentication_error", "permission_error" -> ModelException.Kind.AUTH;
          case "invalid_request_error", "not_found_error", "request_too_large" ->
              ModelException.Kind.BAD_REQUEST;
          default -> ModelException.Kind.SERVER;
        };
    return new ModelException(
        kind,
        name(),
        0,
        null,
        "provider '"
            + name()
            + "' reported "
            + (type.isEmpty() ? "an error" : type)
            + ": "
            + transport.redactor().redact(error.path("message").asText(""))
            + "; "
            + ModelException.advice(kind, name()),
        null);
  }

  @Override
  Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>(config.headers());
    h.put("anthropic-version", API_VERSION);
    if (config.apiKey() != null) {
      h.put("x-api-key", config.apiKey());
    }
    return h;
  }

  @Override
  ObjectNode body(ChatRequest request, String model, boolean stream) {
    ObjectNode body = HttpTransport.JSON.createObjectNode();
    body.put("model", model);
    int maxTokens =
        request.maxTokens() != null
            ? request.maxTokens()
            : config.maxTokens() > 0
                ? config.maxTokens()
                : ProviderConfig.DEFAULT_ANTHROPIC_MAX_TOKENS;
    body.put("max_tokens", maxTokens);
    if (request.system() != null && !request.system().isEmpty()) {
      body.put("system", request.system());
    }
    ArrayNode messages = body.putArray("messages");
    String role = null;
    ArrayNode content = null;
    for (ChatMessage m : request.messages()) {
      String r = m instanceof ChatMessage.Assistant ? "assistant" : "user";
      if (!r.equals(role)) {
        role = r;
        ObjectNode msg = messages.addObject().put("role", r);
        content = msg.putArray("content");
      }
      switch (m) {
        case ChatMessage.User u -> content.addObject().put("type", "text").put("text", u.text());
        case ChatMessage.Assistant a -> {
          if (!a.text().isEmpty()) {
            content.addObject().put("type", "text").put("text", a.text());
          }
          for (ToolCall c : a.toolCalls()) {
            ObjectNode use =
                content
                    .addObject()
                    .put("type", "tool_use")
                    .put("id", toolId(c.id()))
                    .put("name", c.name());
            if (c.arguments().isObject()) {
              use.set("input", c.arguments());
            } else {
              // The model's arguments were not a JSON object; the protocol needs one.
              use.putObject("input").put("invalid_arguments", ToolArguments.toText(c.arguments()));
            }
          }
        }
        case ChatMessage.ToolResult t -> {
          ObjectNode result =
              content
                  .addObject()
                  .put("type", "tool_result")
                  .put("tool_use_id", toolId(t.toolCallId()))
                  .put("content", t.content());
          if (t.isError()) {
            result.put("is_error", true);
          }
        }
      }
    }
    if (!request.tools().isEmpty()) {
      ArrayNode tools = body.putArray("tools");
      for (ToolSpec t : request.tools()) {
        ObjectNode tool =
            tools.addObject().put("name", t.name()).put("description", t.description());
        tool.set("input_schema", t.inputSchema());
      }
    }
    if (request.temperature() != null) {
      body.put("temperature", request.temperature());
    }
    if (stream) {
      body.put("stream", true);
    }
    return body;
  }

  /**
   * A tool call's id as Anthropic accepts it ({@code ^[a-zA-Z0-9_-]+$}). Ids from other providers
   * ({@code functions.get_weather:0}, after a fallback from an OpenAI-compatible server) get every
   * other character replaced by {@code _} and a hash of the original appended, so that two ids
   * cannot become one. The mapping is a pure function of the id, so a tool_use and its tool_result
   * always agree; valid ids are sent unchanged.
   */
  static String toolId(String id) {
    if (VALID_TOOL_ID.matcher(id).matches()) {
      return id;
    }
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
    return INVALID_TOOL_ID_CHAR.matcher(id).replaceAll("_")
        + "_"
        + HexFormat.of().formatHex(hash, 0, 4);
  }
}
