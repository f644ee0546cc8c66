package dev.cfn.certify;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * An HTTP client of a cfn node's API, as a user's program would be: HTTP/1.1 over TLS 1.3 trusting
 * only the node's own certificate (or plain HTTP for a node served with {@code --insecure-http}),
 * one call at a time with a timeout, the answer's status and body (at most 1 MiB; a Server-Sent
 * Events stream is not read, only its status).
 */
final class ApiClient implements AutoCloseable {
  private static final int MAX_BODY = 1 << 20;

  private final String url;
  private final HttpClient http;
  private final KeyStore trust; // null for plain HTTP

  ApiClient(String url, KeyStore trust, Duration connectTimeout) {
    this.url = url;
    this.trust = trust;
    HttpClient.Builder b =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout);
    if (trust != null) {
      b.sslContext(tls("TLSv1.3", trust));
      SSLParameters params = new SSLParameters();
      params.setProtocols(new String[] {"TLSv1.3"});
      b.sslParameters(params);
    }
    this.http = b.build();
  }

  /** A TLS context of {@code protocol} that trusts only {@code trust}. */
  static SSLContext tls(String protocol, KeyStore trust) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext tls = SSLContext.getInstance(protocol);
      tls.init(null, tmf.getTrustManagers(), null);
      return tls;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up a " + protocol + " client: " + e, e);
    }
  }

  String url() {
    return url;
  }

  /** The certificate the client trusts; null for plain HTTP. */
  KeyStore trust() {
    return trust;
  }

  /** What a call got back: a status, or the I/O error that stopped it (status 0). */
  record Answer(int status, String body, String error) {
    boolean serverError() {
      return status >= 500;
    }

    boolean ok() {
      return status >= 200 && status < 300;
    }

    @Override
    public String toString() {
      if (status == 0) {
        return "no answer (" + error + ")";
      }
      if (status >= 400 && !body.isEmpty()) {
        String b = body.strip().replaceAll("\\s+", " ");
        return "HTTP " + status + " " + (b.length() > 160 ? b.substring(0, 160) + "..." : b);
      }
      return "HTTP " + status;
    }
  }

  Answer get(String path, String token, Duration timeout) {
    return call("GET", path, token, null, null, timeout);
  }

  Answer json(String method, String path, String token, String json, Duration timeout) {
    return call(
        method,
        path,
        token,
        "application/json",
        json == null ? null : json.getBytes(StandardCharsets.UTF_8),
        timeout);
  }

  /**
   * One call; never throws for a network failure (the answer has status 0 and the error).
   *
   * @param token a bearer token, or null for none, or a full header value starting with a space
   *     (sent as given)
   */
  Answer call(
      String method, String path, String token, String contentType, byte[] body, Duration timeout) {
    HttpRequest.Builder r;
    try {
      r = HttpRequest.newBuilder(URI.create(url + path)).timeout(timeout);
    } catch (IllegalArgumentException e) {
      return new Answer(0, "", "not a valid URI: " + e.getMessage());
    }
    if (token != null) {
      r.header("Authorization", token.startsWith(" ") ? token.strip() : "Bearer " + token);
    }
    if (contentType != null) {
      r.header("Content-Type", contentType);
    }
    r.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    try {
      HttpResponse<InputStream> res =
          http.send(r.build(), HttpResponse.BodyHandlers.ofInputStream());
      String type = res.headers().firstValue("Content-Type").orElse("");
      String text = "";
      try (InputStream in = res.body()) {
        if (!type.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
          text = new String(in.readNBytes(MAX_BODY), StandardCharsets.UTF_8);
        }
      }
      return new Answer(res.statusCode(), text, null);
    } catch (IOException e) {
      return new Answer(0, "", e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(0, "", "interrupted");
    }
  }

  /**
   * A GET sent without waiting; the future completes with the answer (status 0 on a network
   * failure), at most {@code timeout} later. The connection stays usable when the caller stops
   * waiting earlier.
   */
  java.util.concurrent.CompletableFuture<Answer> getAsync(String path, Duration timeout) {
    HttpRequest r = HttpRequest.newBuilder(URI.create(url + path)).timeout(timeout).GET().build();
    return http.sendAsync(r, HttpResponse.BodyHandlers.ofString())
        .handle(
            (res, e) ->
                e != null
                    ? new Answer(0, "", e.getClass().getSimpleName() + ": " + e.getMessage())
                    : new Answer(res.statusCode(), res.body(), null));
  }

  /** Closes the client's connections. */
  @Override
  public void close() {
    http.close();
  }

  /**
   * The trust store of the certificate under {@code home/.cfn/tls}, read as the server reads it.
   */
  static KeyStore trustOf(Path home) throws IOException {
    return dev.cfn.server.tls.ServerCertificate.loadOrCreate(
            home.resolve(".cfn").resolve("tls"), "127.0.0.1")
        .trustStore();
  }
}
