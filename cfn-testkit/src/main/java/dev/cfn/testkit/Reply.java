package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One answer of a {@link ModelServer}, written once and rendered in the protocol (OpenAI or
 * Anthropic) and the mode (streaming or not) of the request it answers.
 *
 * <p>A reply is either a <b>message</b> (text and/or tool calls, with usage and a stop reason), an
 * <b>error</b> (an HTTP status with the protocol's error JSON) or a <b>connection reset</b>. Any
 * reply can be delayed with {@link #after(Duration)}; a streamed message can be cut short with
 * {@link #cutStreamAfter(int)}. Replies are immutable: every {@code with...} method returns a new
 * reply, so one value can be reused across rules and tests.
 *
 * <pre>{@code
 * Reply.text("Let me check the weather.")
 *     .withToolCall("get_weather", "{\"city\":\"Paris\"}")
 *     .withUsage(120, 18, 100);
 * Reply.rateLimited(Duration.ofSeconds(2));
 * Reply.text("slow answer").after(Duration.ofMillis(300));
 * }</pre>
 */
public final class Reply {

  /**
   * Why the model stopped, independent of the protocol. Rendered as OpenAI {@code finish_reason}
   * ({@code stop}, {@code tool_calls}, {@code length}) or Anthropic {@code stop_reason} ({@code
   * end_turn}, {@code tool_use}, {@code max_tokens}).
   */
  public enum StopReason {
    /** The model finished its turn: OpenAI {@code stop}, Anthropic {@code end_turn}. */
    END_TURN,
    /** The model wants tools run: OpenAI {@code tool_calls}, Anthropic {@code tool_use}. */
    TOOL_USE,
    /** The output hit the token limit: OpenAI {@code length}, Anthropic {@code max_tokens}. */
    MAX_TOKENS
  }

  enum Kind {
    MESSAGE,
    ERROR,
    OVERLOADED,
    RESET
  }

  /** A tool call; {@code id} is {@code null} when the server should generate one. */
  record ToolCall(String id, String name, String arguments) {}

  /** Token counts; {@code input} includes {@code cached}. */
  record Usage(int input, int output, int cached) {}

  private final Kind kind;
  private final String text;
  private final List<ToolCall> toolCalls;
  private final Usage usage;
  private final StopReason stopReason;
  private final int status;
  private final String errorMessage;
  private final Map<String, String> headers;
  private final Duration delay;
  private final int cutAfterEvents;
  private final boolean truncatedRecording;

  private Reply(
      Kind kind,
      String text,
      List<ToolCall> toolCalls,
      Usage usage,
      StopReason stopReason,
      int status,
      String errorMessage,
      Map<String, String> headers,
      Duration delay,
      int cutAfterEvents,
      boolean truncatedRecording) {
    this.kind = kind;
    this.text = text;
    this.toolCalls = List.copyOf(toolCalls);
    this.usage = usage;
    this.stopReason = stopReason;
    this.status = status;
    this.errorMessage = errorMessage;
    this.headers = Map.copyOf(headers);
    this.delay = delay;
    this.cutAfterEvents = cutAfterEvents;
    this.truncatedRecording = truncatedRecording;
  }

  private static Reply message(String text, List<ToolCall> calls) {
    return new Reply(
        Kind.MESSAGE, text, calls, null, null, 200, null, Map.of(), Duration.ZERO, -1, false);
  }

  private static Reply fault(Kind kind, int status, String message, Map<String, String> headers) {
    return new Reply(
        kind, null, List.of(), null, null, status, message, headers, Duration.ZERO, -1, false);
  }

  private Reply copy(
      String text,
      List<ToolCall> calls,
      Usage usage,
      StopReason stopReason,
      Map<String, String> headers,
      Duration delay,
      int cutAfterEvents) {
    return new Reply(
        kind,
        text,
        calls,
        usage,
        stopReason,
        status,
        errorMessage,
        headers,
        delay,
        cutAfterEvents,
        truncatedRecording);
  }

  /**
   * An assistant message with this text. In a streamed response the text is split into several
   * fragments (OpenAI {@code delta.content}, Anthropic {@code text_delta}).
   */
  public static Reply text(String text) {
    return message(Objects.requireNonNull(text, "text"), List.of());
  }

  /**
   * An assistant message that calls one tool, with a generated call id ({@code call_...} for
   * OpenAI, {@code toolu_...} for Anthropic; unique within a server).
   *
   * @param jsonArguments the arguments as a JSON object, e.g. {@code {"city":"Paris"}}
   * @throws IllegalArgumentException if {@code jsonArguments} is not a JSON object
   */
  public static Reply toolCall(String name, String jsonArguments) {
    return message(null, List.of(call(null, name, jsonArguments)));
  }

  /** Like {@link #toolCall(String, String)} with a fixed call id, for tests that assert it. */
  public static Reply toolCall(String id, String name, String jsonArguments) {
    return message(null, List.of(call(Objects.requireNonNull(id, "id"), name, jsonArguments)));
  }

  /**
   * An error response: HTTP {@code code} with the protocol's error JSON carrying {@code message}
   * (OpenAI {@code {error:{message,type,code}}}, Anthropic {@code {type:"error",error:{type,
   * message}}}); the error type follows the status as the real APIs do (e.g. 400 {@code
   * invalid_request_error}, 500 {@code server_error} / {@code api_error}).
   *
   * @param code an HTTP status from 400 to 599
   */
  public static Reply status(int code, String message) {
    if (code < 400 || code > 599) {
      throw new IllegalArgumentException(
          "Reply.status needs an error status 400..599, got " + code + "; use Reply.text for 200");
    }
    return fault(Kind.ERROR, code, Objects.requireNonNull(message, "message"), Map.of());
  }

  /**
   * A 429 rate-limit error with a {@code Retry-After} header in whole seconds (rounded up), as both
   * providers send: OpenAI type {@code requests} / code {@code rate_limit_exceeded}, Anthropic
   * {@code rate_limit_error}.
   */
  public static Reply rateLimited(Duration retryAfter) {
    long millis = Objects.requireNonNull(retryAfter, "retryAfter").toMillis();
    if (millis < 0) {
      throw new IllegalArgumentException("retryAfter must not be negative, got " + retryAfter);
    }
    long seconds = (millis + 999) / 1000;
    return fault(
        Kind.ERROR,
        429,
        "Rate limit reached (cfn-testkit). Please try again in " + seconds + "s.",
        Map.of("retry-after", Long.toString(seconds)));
  }

  /**
   * The provider is overloaded: Anthropic HTTP 529 {@code overloaded_error}, OpenAI HTTP 503 {@code
   * server_error}.
   */
  public static Reply overloaded() {
    return fault(Kind.OVERLOADED, 529, "Overloaded", Map.of());
  }

  /**
   * No response at all: the server closes the connection after reading the request, so the client
   * sees an {@link java.io.IOException}. Note that an HTTP client may retry such a request on its
   * own; every retry is a new request and consumes the next script step.
   */
  public static Reply connectionReset() {
    return fault(Kind.RESET, 0, null, Map.of());
  }

  /** This reply with its text set (replacing any text), keeping its tool calls. */
  public Reply withText(String text) {
    requireMessage("withText");
    return copy(
        Objects.requireNonNull(text, "text"),
        toolCalls,
        usage,
        stopReason,
        headers,
        delay,
        cutAfterEvents);
  }

  /** This reply plus one more tool call, with a generated id. */
  public Reply withToolCall(String name, String jsonArguments) {
    return withCall(call(null, name, jsonArguments));
  }

  /** This reply plus one more tool call with a fixed id. */
  public Reply withToolCall(String id, String name, String jsonArguments) {
    return withCall(call(Objects.requireNonNull(id, "id"), name, jsonArguments));
  }

  /**
   * This reply with fixed token counts, replacing the default estimate (about one token per four
   * characters of prompt and of output).
   *
   * @param input all prompt tokens, cached ones included (OpenAI {@code prompt_tokens}; Anthropic
   *     {@code input_tokens} is rendered as {@code input - cached})
   * @param output generated tokens (OpenAI {@code completion_tokens}, Anthropic {@code
   *     output_tokens})
   * @param cached prompt tokens read from the provider's cache (OpenAI {@code
   *     prompt_tokens_details.cached_tokens}, Anthropic {@code cache_read_input_tokens})
   */
  public Reply withUsage(int input, int output, int cached) {
    requireMessage("withUsage");
    if (input < 0 || output < 0 || cached < 0 || cached > input) {
      throw new IllegalArgumentException(
          "withUsage needs 0 <= cached <= input and output >= 0, got input="
              + input
              + " output="
              + output
              + " cached="
              + cached);
    }
    return copy(
        text,
        toolCalls,
        new Usage(input, output, cached),
        stopReason,
        headers,
        delay,
        cutAfterEvents);
  }

  /**
   * This reply with an explicit stop reason. Without it the stop reason is {@link
   * StopReason#TOOL_USE} when the reply calls tools, else {@link StopReason#END_TURN}.
   */
  public Reply stopReason(StopReason reason) {
    requireMessage("stopReason");
    return copy(
        text,
        toolCalls,
        usage,
        Objects.requireNonNull(reason, "reason"),
        headers,
        delay,
        cutAfterEvents);
  }

  /** This reply with an extra HTTP response header (e.g. a rate-limit header a client reads). */
  public Reply withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name.toLowerCase(java.util.Locale.ROOT), Objects.requireNonNull(value, "value"));
    return copy(text, toolCalls, usage, stopReason, more, delay, cutAfterEvents);
  }

  /**
   * This reply, sent only after {@code delay}: the server waits before the response headers, so a
   * client sees a slow response (use it to exercise client timeouts).
   */
  public Reply after(Duration delay) {
    if (Objects.requireNonNull(delay, "delay").isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    return copy(text, toolCalls, usage, stopReason, headers, delay, cutAfterEvents);
  }

  /**
   * For a streaming request: send only the first {@code events} server-sent events, then close the
   * connection abruptly, without the terminal event ({@code data: [DONE]} or {@code message_stop})
   * and without ending the chunked body, as a dropped connection would. A non-streaming request
   * gets the whole response.
   */
  public Reply cutStreamAfter(int events) {
    requireMessage("cutStreamAfter");
    if (events < 0) {
      throw new IllegalArgumentException("cutStreamAfter needs events >= 0, got " + events);
    }
    return copy(text, toolCalls, usage, stopReason, headers, delay, events);
  }

  private Reply withCall(ToolCall call) {
    requireMessage("withToolCall");
    List<ToolCall> calls = new ArrayList<>(toolCalls);
    calls.add(call);
    return copy(text, calls, usage, stopReason, headers, delay, cutAfterEvents);
  }

  private void requireMessage(String method) {
    if (kind != Kind.MESSAGE) {
      throw new IllegalStateException(
          method + " applies to a message reply (text or tool call), not to " + this);
    }
  }

  private static ToolCall call(String id, String name, String jsonArguments) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(jsonArguments, "jsonArguments");
    JsonNode parsed = Json.parseOrNull(jsonArguments);
    if (parsed == null || !parsed.isObject()) {
      throw new IllegalArgumentException(
          "tool call arguments for '"
              + name
              + "' must be a JSON object such as {\"city\":\"Paris\"}, got: "
              + jsonArguments);
    }
    return new ToolCall(id, name, jsonArguments);
  }

  /** A message reply rebuilt from a recording; arguments are taken as recorded, unchecked. */
  static Reply recorded(
      String text, List<ToolCall> calls, Usage usage, StopReason reason, boolean truncated) {
    return new Reply(
        Kind.MESSAGE,
        text,
        calls,
        usage,
        reason,
        200,
        null,
        Map.of(),
        Duration.ZERO,
        -1,
        truncated);
  }

  Kind kind() {
    return kind;
  }

  String text() {
    return text;
  }

  List<ToolCall> toolCalls() {
    return toolCalls;
  }

  Usage usage() {
    return usage;
  }

  /** The stop reason to render: the explicit one, else derived from the tool calls. */
  StopReason effectiveStopReason() {
    if (stopReason != null) {
      return stopReason;
    }
    return toolCalls.isEmpty() ? StopReason.END_TURN : StopReason.TOOL_USE;
  }

  int status() {
    return status;
  }

  String errorMessage() {
    return errorMessage;
  }

  Map<String, String> headers() {
    return headers;
  }

  Duration delay() {
    return delay;
  }

  int cutAfterEvents() {
    return cutAfterEvents;
  }

  boolean truncatedRecording() {
    return truncatedRecording;
  }

  /** A short description for test failure messages, e.g. {@code text("Hi") + toolCall(f)}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    switch (kind) {
      case MESSAGE -> {
        List<String> parts = new ArrayList<>();
        if (text != null) {
          parts.add("text(\"" + RecordedRequest.abbreviate(text, 60) + "\")");
        }
        for (ToolCall c : toolCalls) {
          parts.add("toolCall(" + c.name() + ")");
        }
        sb.append(String.join(" + ", parts));
        if (usage != null) {
          sb.append(".withUsage(")
              .append(usage.input())
              .append(", ")
              .append(usage.output())
              .append(", ")
              .append(usage.cached())
              .append(')');
        }
        if (stopReason != null) {
          sb.append(".stopReason(").append(stopReason).append(')');
        }
        if (cutAfterEvents >= 0) {
          sb.append(".cutStreamAfter(").append(cutAfterEvents).append(')');
        }
      }
      case ERROR -> sb.append("status(").append(status).append(", \"").append(errorMessage);
      case OVERLOADED -> sb.append("overloaded()");
      case RESET -> sb.append("connectionReset()");
    }
    if (kind == Kind.ERROR) {
      sb.append("\")");
    }
    if (!delay.isZero()) {
      sb.append(".after(").append(delay).append(')');
    }
    return sb.toString();
  }
}
