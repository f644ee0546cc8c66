package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recording side of a {@link ModelServer}: forwards each model request to the real provider
 * with the client's headers (credentials included), streams the answer back as it arrives, and
 * appends request and response to a {@link Cassette} saved after every interaction.
 *
 * <p>Credentials never reach the file: request headers are not recorded, response headers are
 * limited to a safe list, and every credential value seen in a request header is scrubbed from the
 * bodies on save.
 */
final class UpstreamProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UpstreamProxy.class);

  /** Hop-by-hop and framing headers the HTTP client sets itself. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "host",
          "connection",
          "content-length",
          "expect",
          "upgrade",
          "transfer-encoding",
          "accept-encoding",
          "keep-alive",
          "te",
          "trailer",
          "proxy-connection",
          "http2-settings");

  /** Response headers the JDK server sets itself, or that must not pass a re-framed body. */
  private static final Set<String> NOT_RETURNED =
      Set.of(
          "connection",
          "content-length",
          "transfer-encoding",
          "keep-alive",
          "date",
          ":status",
          "set-cookie");

  private final URI upstream;
  private final Path file;
  private final Cassette cassette = new Cassette();
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  UpstreamProxy(URI upstream, Path file) {
    this.upstream = upstream;
    this.file = file;
  }

  URI upstream() {
    return upstream;
  }

  Cassette cassette() {
    return cassette;
  }

  /** The upstream URL for a request path; tolerates an upstream given with a trailing /v1. */
  URI target(URI requestUri) {
    String base = upstream.toString().replaceAll("/+$", "");
    String path = requestUri.getRawPath();
    if (base.endsWith("/v1") && path.startsWith("/v1/")) {
      path = path.substring(3);
    }
    String query = requestUri.getRawQuery();
    return URI.create(base + path + (query == null ? "" : "?" + query));
  }

  /** Forwards the exchange upstream, relays the answer and records it. */
  void forward(HttpExchange exchange, RecordedRequest request, byte[] rawBody, IdSequence ids)
      throws IOException {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(target(exchange.getRequestURI()))
            .timeout(Duration.ofMinutes(10))
            .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(rawBody));
    exchange
        .getRequestHeaders()
        .forEach(
            (name, values) -> {
              String lower = name.toLowerCase(Locale.ROOT);
              if (NOT_FORWARDED.contains(lower)) {
                return;
              }
              for (String value : values) {
                if (HeaderMap.isSecret(lower)) {
                  rememberSecret(value);
                }
                try {
                  builder.header(name, value);
                } catch (IllegalArgumentException restricted) {
                  log.debug("not forwarding restricted header {}", name);
                }
              }
            });
    HttpResponse<InputStream> response;
    try {
      response = client.send(builder.build(), UpstreamBody.handler());
    } catch (IOException e) {
      log.warn("recording proxy could not reach upstream {}: {}", upstream, e.toString());
      ExchangeWriter.write(
          exchange,
          Dialect.of(request.protocol())
              .error(
                  502,
                  "cfn-testkit recording proxy could not reach upstream "
                      + upstream
                      + ": "
                      + e.getMessage(),
                  ids),
          -1);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ExchangeWriter.ConnectionDrop("interrupted while calling upstream");
    }
    Map<String, String> recorded = new LinkedHashMap<>();
    response
        .headers()
        .map()
        .forEach(
            (name, values) -> {
              String lower = name.toLowerCase(Locale.ROOT);
              if (values.isEmpty() || NOT_RETURNED.contains(lower)) {
                return;
              }
              exchange.getResponseHeaders().put(name, values);
              if (isRecordable(lower)) {
                recorded.put(lower, values.get(0));
              }
            });
    String contentType = response.headers().firstValue("content-type").orElse("");
    if (contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
      relayStream(exchange, request, response, recorded);
    } else {
      byte[] body;
      try (InputStream in = response.body()) {
        body = in.readAllBytes();
      }
      JsonNode json = Json.parseLenient(body);
      if (json instanceof NullNode && body.length > 0) {
        json = TextNode.valueOf(new String(body, StandardCharsets.UTF_8));
      }
      // recorded before the client has the answer, so a test that closes the server right after
      // its last call still finds that call in the file
      record(request, response.statusCode(), recorded, json, null, false);
      exchange.sendResponseHeaders(response.statusCode(), body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private void relayStream(
      HttpExchange exchange,
      RecordedRequest request,
      HttpResponse<InputStream> response,
      Map<String, String> recorded)
      throws IOException {
    exchange.sendResponseHeaders(response.statusCode(), 0);
    OutputStream out = exchange.getResponseBody();
    out.flush(); // the client sees the headers before the first event
    SseReader events = new SseReader();
    boolean truncated = false;
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      while (true) {
        String line;
        try {
          line = reader.readLine();
        } catch (IOException upstreamCut) {
          truncated = true;
          break;
        }
        if (line == null) {
          break;
        }
        events.accept(line);
        try {
          out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
          if (line.isEmpty()) {
            out.flush();
          }
        } catch (IOException clientGone) {
          log.warn(
              "client left during a streamed {} response; the interaction is not recorded",
              request.protocol());
          throw new ExchangeWriter.ConnectionDrop("client closed the stream");
        }
      }
    }
    // recorded before the body ends, for the same reason as above
    record(request, response.statusCode(), recorded, null, events.finish(), truncated);
    if (truncated) {
      throw new ExchangeWriter.ConnectionDrop("upstream stream ended abruptly");
    }
    out.close();
  }

  private void record(
      RecordedRequest request,
      int status,
      Map<String, String> headers,
      JsonNode body,
      List<Cassette.Event> events,
      boolean truncated) {
    cassette.add(
        new Cassette.Interaction(
            request.protocol(),
            request.path(),
            request.body(),
            status,
            headers,
            body,
            events,
            truncated));
    save();
    log.debug("recorded {} interaction {} into {}", request.protocol(), cassette.size(), file);
  }

  void save() {
    cassette.save(file, Set.copyOf(secrets));
  }

  private void rememberSecret(String value) {
    String v = value.trim();
    if (v.regionMatches(true, 0, "Bearer ", 0, 7)) {
      v = v.substring(7).trim();
    }
    if (!v.isEmpty()) {
      secrets.add(v);
    }
  }

  private static boolean isRecordable(String header) {
    return header.equals("content-type")
        || header.equals("retry-after")
        || header.equals("retry-after-ms")
        || header.equals("request-id")
        || header.equals("x-request-id")
        || header.startsWith("x-ratelimit-")
        || header.startsWith("anthropic-ratelimit-");
  }

  @Override
  public void close() {
    try {
      save();
    } finally {
      client.shutdownNow();
    }
  }

  /** Collects server-sent events from lines (the {@code event:} and {@code data:} fields). */
  static final class SseReader {
    private final List<Cassette.Event> events = new ArrayList<>();
    private String name;
    private StringBuilder data;

    void accept(String line) {
      if (line.isEmpty()) {
        dispatch();
        return;
      }
      if (line.startsWith(":")) {
        return;
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
        default -> {}
      }
    }

    private void dispatch() {
      if (data != null) {
        events.add(new Cassette.Event(name, data.toString()));
      }
      name = null;
      data = null;
    }

    List<Cassette.Event> finish() {
      dispatch();
      return events;
    }
  }
}
