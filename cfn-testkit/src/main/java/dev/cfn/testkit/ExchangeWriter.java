package dev.cfn.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a {@link Rendition} to an exchange: a fixed-length body, or server-sent events as a
 * chunked body flushed event by event. A scripted or recorded cut ends the stream by throwing
 * {@link ConnectionDrop}, which makes the JDK server close the socket without the final chunk.
 */
final class ExchangeWriter {
  private ExchangeWriter() {}

  /**
   * Thrown out of a handler to drop the connection: the JDK {@code HttpServer} closes the socket
   * when a handler throws, without completing the response.
   */
  static final class ConnectionDrop extends IOException {
    ConnectionDrop(String reason) {
      super(reason);
    }
  }

  /**
   * Writes {@code rendition}; for a stream, at most {@code cutAfterEvents} events ({@code -1}: all)
   * before dropping the connection.
   */
  static void write(HttpExchange exchange, Rendition rendition, int cutAfterEvents)
      throws IOException {
    rendition.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
    if (!rendition.streamed()) {
      byte[] body = rendition.body();
      exchange.sendResponseHeaders(rendition.status(), body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
      return;
    }
    exchange.sendResponseHeaders(rendition.status(), 0);
    OutputStream out = exchange.getResponseBody();
    out.flush(); // headers go out now, even if the stream is cut before its first event
    int sent = 0;
    for (Cassette.Event event : rendition.events()) {
      if (cutAfterEvents >= 0 && sent == cutAfterEvents) {
        out.flush();
        throw new ConnectionDrop("stream cut after " + sent + " events, as scripted");
      }
      out.write(encode(event));
      out.flush();
      sent++;
    }
    if (rendition.truncated()) {
      throw new ConnectionDrop("the recorded stream was cut after " + sent + " events");
    }
    out.close();
  }

  static byte[] encode(Cassette.Event event) {
    StringBuilder sb = new StringBuilder();
    if (event.name() != null) {
      sb.append("event: ").append(event.name()).append('\n');
    }
    for (String line : event.data().split("\n", -1)) {
      sb.append("data: ").append(line).append('\n');
    }
    sb.append('\n');
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
