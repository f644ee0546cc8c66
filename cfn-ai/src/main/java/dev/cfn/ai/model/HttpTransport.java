package dev.cfn.ai.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.internal.json.JsonMappers;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * POSTs JSON to one provider over the JDK {@link HttpClient} and turns every way that can fail into
 * a {@link ModelException}: HTTP error statuses (with {@code Retry-After}), timeouts, refused and
 * reset connections, oversized answers. Error bodies are quoted only after the {@link KeyRedactor}
 * has removed the key and every configured header value.
 *
 * <p>Bodies are never buffered by the client: {@link BodyChunks} pulls one chunk at a time and
 * {@link ResponseBody} counts them against {@link ProviderConfig#maxResponseBytes()} and {@link
 * ProviderConfig#maxEventBytes()}, so a server that sends forever costs bounded memory.
 *
 * <p>Time: an attempt is given the time its caller has left ({@link ChatRequest#timeout()}, null
 * for no limit). A non-streamed attempt is bounded as a whole by the smaller of that and the
 * request timeout. A streamed attempt waits for its response headers at most that long, then at
 * most the request timeout between any two chunks, and as a whole at most the smaller of the stream
 * timeout and the caller's time. Every bound reached cancels the exchange, which closes the
 * connection.
 */
final class HttpTransport implements AutoCloseable {
  static final ObjectMapper JSON = JsonMappers.create();
  private static final int MAX_QUOTED_BODY = 500;
  private static final long MAX_ERROR_BODY = 64 * 1024;

  private final String provider;
  private final HttpClient client;
  private final Duration requestTimeout;
  private final Duration streamTimeout;
  private final long maxResponseBytes;
  private final int maxEventBytes;
  private final KeyRedactor redactor;
  private final Clock clock;

  HttpTransport(ProviderConfig config, Clock clock) {
    this.provider = config.name();
    this.requestTimeout = config.requestTimeout();
    this.streamTimeout = config.streamTimeout();
    this.maxResponseBytes = config.maxResponseBytes();
    this.maxEventBytes = config.maxEventBytes();
    this.redactor = new KeyRedactor(config.apiKey(), config.headers().values());
    this.clock = clock;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  KeyRedactor redactor() {
    return redactor;
  }

  long maxResponseBytes() {
    return maxResponseBytes;
  }

  int maxEventBytes() {
    return maxEventBytes;
  }

  /**
   * POSTs a JSON body and returns the JSON answer.
   *
   * @param callTimeout the time the caller has left, or null for no limit
   * @throws ModelException on any failure
   */
  JsonNode post(URI uri, Map<String, String> headers, JsonNode body, Duration callTimeout) {
    Duration total = min(requestTimeout, callTimeout);
    String setting = setting(requestTimeout, "request-timeout", callTimeout);
    long start = System.nanoTime();
    try (SseStream response =
        exchange(
            uri,
            headers,
            body,
            "application/json",
            total,
            setting,
            (info, chunks, f) -> {
              Duration left = total.minusNanos(System.nanoTime() - start);
              return new ResponseBody(
                  this, chunks, f, left.isNegative() ? Duration.ZERO : left, left, setting);
            })) {
      return parse(response.remainingText(), response.status());
    }
  }

  /**
   * POSTs a JSON body asking for a server-sent event stream, and returns once the response headers
   * arrived.
   *
   * @param callTimeout the time the caller has left, or null for no limit
   * @throws ModelException when the request fails or the status is an error
   */
  SseStream postStream(URI uri, Map<String, String> headers, JsonNode body, Duration callTimeout) {
    Duration headerWait = min(requestTimeout, callTimeout);
    Duration total = min(streamTimeout, callTimeout);
    String setting = setting(streamTimeout, "stream-timeout", callTimeout);
    long start = System.nanoTime();
    SseStream stream =
        exchange(
            uri,
            headers,
            body,
            "text/event-stream",
            headerWait,
            setting(requestTimeout, "request-timeout", callTimeout),
            (info, chunks, f) -> {
              Duration left = total.minusNanos(System.nanoTime() - start);
              return new ResponseBody(
                  this,
                  chunks,
                  f,
                  requestTimeout,
                  left.isNegative() ? Duration.ZERO : left,
                  setting);
            });
    try {
      String type = stream.contentType();
      if (!type.toLowerCase(Locale.ROOT).contains("text/event-stream")) {
        // The server ignored "stream": true and answered with one JSON document.
        stream.markWholeBody(parse(stream.remainingText(), stream.status()));
      }
      return stream;
    } catch (RuntimeException e) {
      stream.close();
      throw e;
    }
  }

  /** Makes the body reader of an exchange once its headers arrived. */
  private interface BodyFactory {
    ResponseBody create(
        HttpResponse.ResponseInfo info,
        BodyChunks chunks,
        CompletableFuture<HttpResponse<Void>> exchange);
  }

  /**
   * Sends the request and waits for the response headers; throws the HTTP error of an error status
   * (its body read only up to {@value #MAX_ERROR_BODY} bytes).
   */
  private SseStream exchange(
      URI uri,
      Map<String, String> headers,
      JsonNode body,
      String accept,
      Duration headerWait,
      String headerSetting,
      BodyFactory bodies) {
    HttpRequest request = request(uri, headers, body, accept);
    BodyChunks chunks = new BodyChunks();
    CompletableFuture<HttpResponse<Void>> future =
        client.sendAsync(
            request,
            info -> {
              chunks.headers(info);
              return chunks;
            });
    future.whenComplete(
        (r, t) -> {
          if (t != null) {
            chunks.fail(t);
          }
        });
    HttpResponse.ResponseInfo info;
    try {
      info = chunks.awaitHeaders(headerWait.toNanos());
    } catch (TimeoutException e) {
      chunks.cancel();
      future.cancel(true);
      throw timeout(
          "no response within " + headerWait.toMillis() + " ms (" + headerSetting + ")", e);
    } catch (InterruptedException e) {
      chunks.cancel();
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw interrupted(e);
    } catch (IOException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      ModelException failed = failure(cause);
      if (closedBeforeAnswer(cause)) {
        // Closed, reset or EOF before the first response byte, on a connection that was open:
        // usually a pooled connection the server had closed. Safe to resend at once, since the
        // server did not answer (ResilientProvider does, on another connection).
        failed = ModelException.noResponse(failed);
      }
      throw failed;
    }
    SseStream stream =
        new SseStream(this, bodies.create(info, chunks, future), info.statusCode(), info.headers());
    if (info.statusCode() >= 300) {
      String text;
      try {
        text = stream.remainingText(MAX_ERROR_BODY);
      } catch (ModelException e) {
        text = "";
      } finally {
        stream.close();
      }
      throw httpError(info.statusCode(), info.headers(), text);
    }
    return stream;
  }

  /**
   * Whether a failure before the response headers means the connection ended before the first byte
   * of an answer: the JDK's "HTTP/1.1 header parser received no bytes" (EOF on a pooled
   * connection), a connection reset, a bare EOF, or an HTTP/2 GOAWAY. Not a refused or timed-out
   * connection (a new connection failed), nor a failure part way through the headers (the server
   * did answer, badly).
   */
  static boolean closedBeforeAnswer(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof HttpTimeoutException) {
        return false;
      }
      String m = t.getMessage() == null ? "" : t.getMessage();
      if (m.contains("parsing HTTP/1.1")) {
        return false; // bytes of an answer had arrived
      }
      if (m.contains("header parser received no bytes")
          || m.contains("GOAWAY")
          || (t instanceof java.net.SocketException
              && (m.contains("Connection reset") || m.contains("Broken pipe")))
          || t instanceof java.io.EOFException
          || t instanceof java.nio.channels.ClosedChannelException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static Duration min(Duration a, Duration callTimeout) {
    if (callTimeout == null) {
      return a;
    }
    Duration c = callTimeout.isNegative() ? Duration.ZERO : callTimeout;
    return c.compareTo(a) < 0 ? c : a;
  }

  /** Names what bounds a wait, for messages: the provider's setting or the caller's deadline. */
  private String setting(Duration configured, String key, Duration callTimeout) {
    return callTimeout != null && callTimeout.compareTo(configured) < 0
        ? "the time left before the caller's deadline"
        : key + " of provider '" + provider + "'";
  }

  /** A byte count for messages: {@code 16 MiB}, {@code 512 KiB}, {@code 100 bytes}. */
  static String size(long bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
      return bytes / (1024 * 1024) + " MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
      return bytes / 1024 + " KiB";
    }
    return bytes + " bytes";
  }

  /** A response broke a size cap: not retried, since it would again. */
  ModelException tooLarge(String what, String key) {
    return new ModelException(
        ModelException.Kind.RESPONSE_TOO_LARGE,
        provider,
        0,
        null,
        "provider '"
            + provider
            + "': "
            + what
            + "; the call was cancelled (fix: raise "
            + key
            + " of provider '"
            + provider
            + "' in the providers file, or check that base-url points at a model API)",
        null);
  }

  private HttpRequest request(URI uri, Map<String, String> headers, JsonNode body, String accept) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a request body", e);
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
            .header("Content-Type", "application/json")
            .header("Accept", accept);
    if ("http".equalsIgnoreCase(uri.getScheme())) {
      // Plain-text HTTP/2 upgrade confuses several local servers; HTTP/2 stays on for TLS.
      b.version(HttpClient.Version.HTTP_1_1);
    }
    try {
      headers.forEach(b::header);
    } catch (IllegalArgumentException e) {
      // The JDK quotes the offending value, which may be a secret: say which header, redacted.
      throw new ModelException(
          ModelException.Kind.BAD_REQUEST,
          provider,
          0,
          null,
          "provider '"
              + provider
              + "': a request header was refused by the HTTP client ("
              + redactor.redact(String.valueOf(e.getMessage()))
              + "); fix the headers of the provider",
          null);
    }
    return b.build();
  }

  JsonNode parse(String text, int status) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ModelException(
          ModelException.Kind.SERVER,
          provider,
          status,
          null,
          "provider '"
              + provider
              + "' answered HTTP "
              + status
              + " with a body that is not JSON: "
              + quote(text)
              + "; check that base-url points at the API (e.g. ends in /v1 for OpenAI-compatible"
              + " servers)",
          null);
    }
  }

  ModelException httpError(int status, HttpHeaders headers, String body) {
    ModelException.Kind kind = ModelException.kindOf(status);
    Duration retryAfter = retryAfter(headers);
    String detail = errorDetail(body);
    String message =
        "provider '"
            + provider
            + "' answered HTTP "
            + status
            + (detail.isEmpty() ? "" : ": " + detail)
            + (retryAfter == null ? "" : " (retry after " + retryAfter.toMillis() + " ms)")
            + "; "
            + ModelException.advice(kind, provider);
    return new ModelException(kind, provider, status, retryAfter, message, null);
  }

  /** The server's own words about an error, from either protocol's error object, redacted. */
  String errorDetail(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode node = JSON.readTree(body);
      JsonNode error = node.path("error");
      if (error.isObject()) {
        String type = error.path("type").asText(error.path("code").asText(""));
        String msg = error.path("message").asText("");
        return redactor.redact(((type.isEmpty() ? "" : type + ": ") + msg).strip());
      }
      if (error.isTextual()) {
        return redactor.redact(error.asText());
      }
      if (node.path("message").isTextual()) {
        return redactor.redact(node.path("message").asText());
      }
    } catch (JsonProcessingException e) {
      // not JSON: quote the text
    }
    return quote(body);
  }

  private String quote(String text) {
    String t = text == null ? "" : text.strip();
    if (t.length() > MAX_QUOTED_BODY) {
      t = t.substring(0, MAX_QUOTED_BODY) + "...";
    }
    return redactor.redact(t);
  }

  /** Parses {@code retry-after-ms}, or {@code Retry-After} as seconds or an HTTP-date. */
  Duration retryAfter(HttpHeaders headers) {
    var ms = headers.firstValue("retry-after-ms");
    if (ms.isPresent()) {
      try {
        return Duration.ofMillis(Math.max(0, (long) Double.parseDouble(ms.get().strip())));
      } catch (NumberFormatException e) {
        // fall through to Retry-After
      }
    }
    var value = headers.firstValue("retry-after");
    if (value.isEmpty()) {
      return null;
    }
    return parseRetryAfter(value.get(), clock);
  }

  static Duration parseRetryAfter(String value, Clock clock) {
    String v = value.strip();
    try {
      double seconds = Double.parseDouble(v);
      return seconds <= 0 ? Duration.ZERO : Duration.ofMillis((long) (seconds * 1000));
    } catch (NumberFormatException e) {
      // not seconds: an HTTP-date
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration d = Duration.between(clock.instant(), at.toInstant());
      return d.isNegative() ? Duration.ZERO : d;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  ModelException failure(Throwable t) {
    if (t instanceof ModelException m) {
      return m;
    }
    if (t instanceof HttpConnectTimeoutException) {
      return new ModelException(
          ModelException.Kind.NETWORK,
          provider,
          0,
          null,
          "provider '"
              + provider
              + "': could not connect in time; "
              + ModelException.advice(ModelException.Kind.NETWORK, provider),
          t);
    }
    if (t instanceof HttpTimeoutException) {
      return timeout("no response in time", t);
    }
    if (t instanceof CancellationException) {
      return interrupted(t);
    }
    String what = t instanceof ConnectException ? "connection refused" : describe(t);
    return new ModelException(
        ModelException.Kind.NETWORK,
        provider,
        0,
        null,
        "provider '"
            + provider
            + "': "
            + what
            + "; "
            + ModelException.advice(ModelException.Kind.NETWORK, provider),
        t);
  }

  private String describe(Throwable t) {
    String m = t.getMessage();
    return redactor.redact(
        t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : " (" + m + ")"));
  }

  ModelException timeout(String what, Throwable cause) {
    return new ModelException(
        ModelException.Kind.TIMEOUT,
        provider,
        0,
        null,
        "provider '"
            + provider
            + "': "
            + what
            + "; "
            + ModelException.advice(ModelException.Kind.TIMEOUT, provider),
        cause);
  }

  /**
   * The caller's thread was interrupted, or the call cancelled: {@link
   * ModelException.Kind#CANCELLED}, which is neither retried nor counted against the circuit
   * breaker. An interrupt stays set on the thread, so that the caller's own waits see it too.
   */
  ModelException interrupted(Throwable cause) {
    if (cause instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return new ModelException(
        ModelException.Kind.CANCELLED,
        provider,
        0,
        null,
        "provider '" + provider + "': the call was interrupted or cancelled",
        cause);
  }

  ModelException streamBroken(String what, Throwable cause) {
    return new ModelException(
        ModelException.Kind.STREAM_BROKEN,
        provider,
        0,
        null,
        "provider '"
            + provider
            + "': the stream broke off: "
            + what
            + "; "
            + ModelException.advice(ModelException.Kind.STREAM_BROKEN, provider),
        cause);
  }

  String provider() {
    return provider;
  }

  /** Stops the client without waiting: calls in flight fail (close() would wait for them). */
  @Override
  public void close() {
    client.shutdownNow();
  }
}
