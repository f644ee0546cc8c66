package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything that differs between the two wire protocols: how to read a request (system prompt,
 * user messages, tools), how to validate it like the real API, how to render a {@link Reply} or an
 * error, how to turn a recorded response back into a reply, and which parts of a request identify
 * it in a cassette. One instance per {@link Protocol}, stateless.
 */
abstract sealed class Dialect permits OpenAiDialect, AnthropicDialect {

  static Dialect of(Protocol protocol) {
    return switch (protocol) {
      case OPENAI -> OpenAiDialect.INSTANCE;
      case ANTHROPIC -> AnthropicDialect.INSTANCE;
    };
  }

  // ---- reading a request (lenient: a malformed body yields empty values, never an exception)

  abstract String system(JsonNode body);

  abstract List<String> userMessages(JsonNode body);

  abstract List<String> toolNames(JsonNode body);

  abstract boolean hasToolResult(JsonNode body);

  // ---- answering

  /** A 400 rendition when the real API would reject the request, else {@code null}. */
  abstract Rendition validate(RecordedRequest request, IdSequence ids);

  /** A 401 rendition when the request does not carry {@code key}, else {@code null}. */
  abstract Rendition authFailure(RecordedRequest request, String key, IdSequence ids);

  /** The protocol's error JSON for {@code status}, with the error type the real API uses. */
  abstract Rendition error(int status, String message, IdSequence ids);

  /** The protocol's "overloaded" error (Anthropic 529, OpenAI 503). */
  abstract Rendition overloaded(IdSequence ids);

  /**
   * The testkit's own refusal (no rule matched, nothing recorded), in the protocol's format: HTTP
   * 400 {@code invalid_request_error}, which clients do not retry (a 5xx would be retried with
   * backoff, slowing the failing test and hiding the cause behind "retries exhausted").
   */
  abstract Rendition testkitError(String message, IdSequence ids);

  /** A message reply rendered in the request's mode (a JSON body or server-sent events). */
  abstract Rendition render(Reply reply, RecordedRequest request, IdSequence ids);

  // ---- cassettes

  /** The parts of a request body that identify it in a cassette, normalized. */
  abstract JsonNode requestKey(JsonNode body);

  /** A recorded non-streamed 200 response as a reply. */
  abstract Reply replyFromBody(JsonNode body);

  /** A recorded stream as a reply. */
  abstract Reply replyFromEvents(List<Cassette.Event> events, boolean truncated);

  // ---- shared helpers

  /** The reply's usage, or an estimate of about one token per four characters. */
  static Reply.Usage usageFor(Reply reply, RecordedRequest request) {
    if (reply.usage() != null) {
      return reply.usage();
    }
    JsonNode body = request.bodyView();
    int promptChars =
        Json.textLength(body.path("system"))
            + Json.textLength(body.path("messages"))
            + Json.textLength(body.path("tools"));
    int outputChars = reply.text() == null ? 0 : reply.text().length();
    for (Reply.ToolCall call : reply.toolCalls()) {
      outputChars += call.name().length() + call.arguments().length();
    }
    return new Reply.Usage(tokens(promptChars), tokens(outputChars), 0);
  }

  private static int tokens(int chars) {
    return Math.max(1, (chars + 3) / 4);
  }

  /**
   * Splits text into stream fragments of at most {@code max} code points, starting a new fragment
   * before each word, so a streamed text arrives in several pieces like real token deltas.
   */
  static List<String> fragments(String text, int max) {
    List<String> out = new ArrayList<>();
    StringBuilder piece = new StringBuilder();
    int count = 0;
    boolean previousSpace = false;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      boolean space = Character.isWhitespace(cp);
      if (count > 0 && (count == max || (space && !previousSpace))) {
        out.add(piece.toString());
        piece.setLength(0);
        count = 0;
      }
      piece.appendCodePoint(cp);
      count++;
      previousSpace = space;
      i += Character.charCount(cp);
    }
    if (count > 0) {
      out.add(piece.toString());
    }
    return out;
  }

  static Reply.StopReason stopReasonOf(String wire) {
    return switch (wire) {
      case "tool_calls", "tool_use", "function_call" -> Reply.StopReason.TOOL_USE;
      case "length", "max_tokens" -> Reply.StopReason.MAX_TOKENS;
      default -> Reply.StopReason.END_TURN;
    };
  }

  static Map<String, String> requestIdHeader(String name, IdSequence ids) {
    return Map.of(name, ids.next("req_"));
  }
}
