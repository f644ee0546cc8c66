package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;

/**
 * Server-sent events read from a streamed response, one {@link Event} at a time, as the SSE
 * specification frames them: {@code event:} and {@code data:} fields (several data lines joined
 * with a newline), dispatched at a blank line, comments ignored, an unfinished event at the end of
 * the body discarded. An event's data is capped like a line ({@link
 * ProviderConfig#maxEventBytes()}); the body, its waits and its duration are bounded by the {@link
 * ResponseBody} it reads from.
 *
 * <p>When a server ignores {@code "stream": true} and answers with plain JSON, {@link #wholeBody()}
 * holds that answer instead and there are no events.
 */
final class SseStream implements AutoCloseable {
  /** One event: its name (empty when the server sent none) and its data. */
  record Event(String name, String data) {}

  private final HttpTransport transport;
  private final ResponseBody body;
  private final int status;
  private final HttpHeaders headers;
  private JsonNode wholeBody;

  SseStream(HttpTransport transport, ResponseBody body, int status, HttpHeaders headers) {
    this.transport = transport;
    this.body = body;
    this.status = status;
    this.headers = headers;
  }

  int status() {
    return status;
  }

  String contentType() {
    return headers.firstValue("content-type").orElse("");
  }

  void markWholeBody(JsonNode body) {
    this.wholeBody = body;
  }

  /** The JSON answer of a server that did not stream, or null. */
  JsonNode wholeBody() {
    return wholeBody;
  }

  /**
   * Reads the next event.
   *
   * @return the event, or null at the end of the stream
   * @throws ModelException of kind STREAM_BROKEN or TIMEOUT when the stream fails
   */
  Event next() {
    String name = "";
    StringBuilder data = null;
    while (true) {
      String line = line();
      if (line == null) {
        return null;
      }
      if (line.isEmpty()) {
        if (data != null) {
          return new Event(name, data.toString());
        }
        name = "";
        continue;
      }
      if (line.startsWith(":")) {
        continue;
      }
      int colon = line.indexOf(':');
      String field = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      switch (field) {
        case "event" -> name = value;
        case "data" -> {
          if (data == null) {
            data = new StringBuilder(value);
          } else {
            data.append('\n').append(value);
          }
          if (data.length() > transport.maxEventBytes()) {
            close();
            throw transport.tooLarge(
                "an event of the stream exceeded " + HttpTransport.size(transport.maxEventBytes()),
                "max-event-bytes");
          }
        }
        default -> {
          // id, retry and unknown fields do not matter here
        }
      }
    }
  }

  /**
   * Reads the rest of the body as text (for non-streamed answers), failing beyond the response cap.
   */
  String remainingText() {
    return body.readAll(transport.maxResponseBytes(), true);
  }

  /** Reads up to {@code limit} bytes of the rest of the body (for error bodies, only quoted). */
  String remainingText(long limit) {
    return body.readAll(limit, false);
  }

  private String line() {
    return body.readLine();
  }

  @Override
  public void close() {
    body.close();
  }
}
