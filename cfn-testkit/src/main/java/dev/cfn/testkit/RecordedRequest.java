package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * One request a {@link ModelServer} received, as tests inspect it: the raw parts (path, headers,
 * JSON body) and the facts a test usually asserts (model, system prompt, user messages, offered
 * tools, whether a tool result came back), read the same way for both protocols.
 *
 * <p>{@link #headers()} holds the real header values, so a test can check that its client sends the
 * key; {@link #toString()} hides credential headers ({@code Authorization}, {@code x-api-key}) so a
 * printed request never leaks one.
 */
public final class RecordedRequest {
  private final Protocol protocol;
  private final String method;
  private final String path;
  private final HeaderMap headers;
  private final JsonNode body;
  private final String model;
  private final boolean stream;
  private final String system;
  private final List<String> userMessages;
  private final List<String> toolNames;
  private final boolean toolResult;

  RecordedRequest(
      Protocol protocol, String method, String path, Map<String, String> headers, JsonNode body) {
    this.protocol = protocol;
    this.method = method;
    this.path = path;
    this.headers = new HeaderMap(headers);
    this.body = body;
    Dialect dialect = Dialect.of(protocol);
    this.model = Json.text(body.path("model"));
    this.stream = body.path("stream").asBoolean(false);
    this.system = dialect.system(body);
    this.userMessages = List.copyOf(dialect.userMessages(body));
    this.toolNames = List.copyOf(dialect.toolNames(body));
    this.toolResult = dialect.hasToolResult(body);
  }

  /** The protocol of the request, decided by its path. */
  public Protocol protocol() {
    return protocol;
  }

  /** The HTTP method, {@code POST} for every model call. */
  public String method() {
    return method;
  }

  /** The request path, e.g. {@code /v1/chat/completions}. */
  public String path() {
    return path;
  }

  /**
   * The request headers: immutable, looked up case-insensitively ({@code
   * headers().get("X-Api-Key")}), first value of each header. Values are real; the map's {@code
   * toString()} redacts credentials.
   */
  public Map<String, String> headers() {
    return headers;
  }

  /** A copy of the JSON body ({@code NullNode} when the body was empty or not JSON). */
  public JsonNode body() {
    return body.deepCopy();
  }

  JsonNode bodyView() {
    return body;
  }

  /** Whether the client asked for a streamed response ({@code "stream": true}). */
  public boolean stream() {
    return stream;
  }

  /** The {@code model} field, or {@code ""}. */
  public String model() {
    return model;
  }

  /**
   * The system prompt: OpenAI {@code system}/{@code developer} messages, Anthropic {@code system}
   * (string or text blocks), joined by newlines; {@code ""} when there is none.
   */
  public String system() {
    return system;
  }

  /**
   * The text of each user message in order (text parts joined by newlines). Anthropic user messages
   * that carry only tool results are not included.
   */
  public List<String> userMessages() {
    return userMessages;
  }

  /** The text of the last user message, or {@code ""} when there is none. */
  public String lastUserMessage() {
    return userMessages.isEmpty() ? "" : userMessages.get(userMessages.size() - 1);
  }

  /** The names of the tools the request offers, in order. */
  public List<String> toolNames() {
    return toolNames;
  }

  /**
   * Whether the last message carries a tool result: an OpenAI {@code tool} message, or an Anthropic
   * user message with a {@code tool_result} block. This is the turn after a tool call.
   */
  public boolean hasToolResult() {
    return toolResult;
  }

  /** A one-line summary for failure messages: protocol, model, stream, last user message. */
  String summary() {
    return protocol
        + " "
        + method
        + " "
        + path
        + " model="
        + (model.isEmpty() ? "(none)" : model)
        + " stream="
        + stream
        + " messages="
        + body.path("messages").size()
        + " lastUserMessage=\""
        + abbreviate(lastUserMessage(), 120)
        + "\" tools="
        + toolNames
        + " toolResult="
        + toolResult;
  }

  /** The summary plus headers with credentials redacted; safe to print. */
  @Override
  public String toString() {
    return "RecordedRequest[" + summary() + " headers=" + headers + "]";
  }

  static String abbreviate(String text, int max) {
    String flat = text.replace('\n', ' ');
    return flat.length() <= max ? flat : flat.substring(0, max) + "...";
  }
}
