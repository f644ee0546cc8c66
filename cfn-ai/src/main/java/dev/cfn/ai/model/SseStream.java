package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * Server-sent events read from a streamed response, one {@link Event} at a time, as the SSE
 * specification frames them: {@code event:} and {@code data:} fields (several data lines joined
 * with a newline), dispatched at a blank line, comments ignored, an unfinished event at the end of
 * the body discarded.
 *
 * <p>When a server ignores {@code "stream": true} and answers with plain JSON, {@link #wholeBody()}
 * holds that answer instead and there are no events.
 */
final class SseStream implements AutoCloseable {
  /** One event: its name (empty when the server sent none) and its data. */
  record Event(String name, String data) {}

  private final HttpTransport transport;
  private final LineQueue lines;
  private final CompletableFuture<HttpResponse<Void>> exchange;
  private final Duration idleTimeout;
  private JsonNode wholeBody;

  SseStream(
      HttpTransport transport,
      LineQueue lines,
      CompletableFuture<HttpResponse<Void>> exchange,
      Duration idleTimeout) {
    this.transport = transport;
    this.lines = lines;
    this.exchange = exchange;
    this.idleTimeout = idleTimeout;
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
        }
        default -> {
          // id, retry and unknown fields do not matter here
        }
      }
    }
  }

  /** Reads the rest of the body as text (for error bodies and non-streamed answers). */
  String remainingText() {
    StringBuilder sb = new StringBuilder();
    String line;
    while ((line = line()) != null) {
      if (!sb.isEmpty()) {
        sb.append('\n');
      }
      sb.append(line);
    }
    return sb.toString();
  }

  private String line() {
    try {
      return lines.next(idleTimeout);
    } catch (TimeoutException e) {
      close();
      throw transport.timeout("the stream stalled: no data for " + idleTimeout, e);
    } catch (InterruptedException e) {
      close();
      Thread.currentThread().interrupt();
      throw transport.interrupted(e);
    } catch (IOException e) {
      close();
      Throwable cause = e.getCause() == null ? e : e.getCause();
      String m = cause.getMessage();
      throw transport.streamBroken(
          transport
              .redactor()
              .redact(cause.getClass().getSimpleName() + (m == null ? "" : " (" + m + ")")),
          e);
    }
  }

  @Override
  public void close() {
    lines.cancel();
    exchange.cancel(true);
  }
}
