package dev.cfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A client of a running node's API, for the operator commands given {@code --server URL} (see
 * {@link ServerOptions}): bearer token, TLS 1.3 with the server's certificate pinned by its SHA-256
 * fingerprint (nothing else is trusted: no CA, no host-name rule, the exact certificate), and every
 * failure turned into a {@link CommandFailure} that says what happened and what to do: no server, a
 * certificate that is not the pinned one, a refused token (exit 3), a refused request (exit 2).
 */
final class NodeClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final URI base;
  private final String token;
  private final HttpClient http;
  private final Pin pin; // null for plain HTTP

  private NodeClient(URI base, String token, HttpClient http, Pin pin) {
    this.base = base;
    this.token = token;
    this.http = http;
    this.pin = pin;
  }

  /** A client of a node serving plain HTTP ({@code cfn serve --insecure-http}). */
  static NodeClient plain(URI base, String token) {
    return new NodeClient(
        base, token, HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build(), null);
  }

  /** A client that accepts only the certificate whose SHA-256 is {@code fingerprint}. */
  static NodeClient pinned(URI base, String token, byte[] fingerprint) {
    return pinned(base, token, fingerprint, null);
  }

  /**
   * A client that accepts only the certificate whose SHA-256 is {@code fingerprint} and presents
   * {@code identity} when the server asks for a client certificate ({@code cfn serve
   * --client-certs}); {@code token} may then be null, the certificate authenticating alone.
   */
  static NodeClient pinned(
      URI base, String token, byte[] fingerprint, dev.cfn.server.tls.ClientIdentity identity) {
    Pin pin = new Pin(fingerprint);
    try {
      SSLContext tls = SSLContext.getInstance("TLSv1.3");
      javax.net.ssl.KeyManager[] keys = null;
      if (identity != null) {
        char[] password = new char[24]; // protects an in-memory key store only
        for (int i = 0; i < password.length; i++) {
          password[i] = (char) ('a' + RANDOM.nextInt(26));
        }
        javax.net.ssl.KeyManagerFactory kmf =
            javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(identity.keyStore(password), password);
        keys = kmf.getKeyManagers();
      }
      tls.init(keys, new TrustManager[] {pin}, null);
      SSLParameters params = new SSLParameters();
      params.setProtocols(new String[] {"TLSv1.3"});
      HttpClient http =
          HttpClient.newBuilder()
              .sslContext(tls)
              .sslParameters(params)
              .connectTimeout(CONNECT_TIMEOUT)
              .build();
      return new NodeClient(base, token, http, pin);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK offers no TLS 1.3", e);
    }
  }

  /** The SHA-256 of the certificate in the PEM file {@code pem}. */
  static byte[] fingerprintOf(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      X509Certificate cert =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    } catch (IOException | GeneralSecurityException e) {
      throw CommandFailure.usage(
          "cannot read the certificate " + pem + ": " + e.getMessage(),
          "pass --fingerprint with the SHA-256 cfn serve printed");
    }
  }

  /** The server, as {@code https://HOST:PORT}. */
  URI base() {
    return base;
  }

  /** {@code GET path}: the JSON answer, or empty when the server answers 404. */
  Optional<JsonNode> get(String path) {
    return call("GET", path, null);
  }

  /** {@code METHOD path} with a JSON body (or none): the answer, or empty on 404. */
  Optional<JsonNode> call(String method, String path, Object body) {
    HttpRequest.Builder b = request(path, TIMEOUT).header("Accept", "application/json");
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      try {
        b.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
      } catch (IOException e) {
        throw new IllegalStateException("cannot write the request body", e);
      }
    }
    HttpResponse<byte[]> r = send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() == 404) {
      return Optional.empty();
    }
    if (r.statusCode() >= 300) {
      throw refused(method + " " + path, r.statusCode(), r.headers(), r.body());
    }
    try {
      return Optional.of(JSON.readTree(r.body()));
    } catch (IOException e) {
      throw CommandFailure.failed(
          base + " answered " + path + " with something that is not JSON",
          "check that --server names a cfn node");
    }
  }

  /**
   * {@code GET path} into {@code target} (created; it must not exist): the answer's headers, or
   * empty on 404. A refused call leaves no file.
   */
  Optional<java.net.http.HttpHeaders> download(String path, Path target, Duration timeout) {
    HttpRequest req = request(path, timeout).GET().build();
    HttpResponse<InputStream> r = send(req, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      if (r.statusCode() == 404) {
        return Optional.empty();
      }
      if (r.statusCode() >= 300) {
        throw refused("GET " + path, r.statusCode(), r.headers(), in.readNBytes(64 * 1024));
      }
      Files.copy(in, target);
      long expected = r.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (expected >= 0 && Files.size(target) != expected) {
        Files.deleteIfExists(target);
        throw CommandFailure.failed(
            base + " sent " + Files.size(target) + " of " + expected + " bytes", "run it again");
      }
      return Optional.of(r.headers());
    } catch (IOException e) {
      try {
        Files.deleteIfExists(target);
      } catch (IOException ignored) {
        // reported below
      }
      throw CommandFailure.failed(
          "the transfer from " + base + " broke off: " + e.getMessage(), "run it again");
    }
  }

  /**
   * {@code GET /v1/events}: the node's live events as Server-Sent Events, resumed after event
   * {@code lastEventId} ({@code Last-Event-ID}) when it is not null, else from the next event on.
   * Returns the open stream once the node answered 200; close it to hang up.
   *
   * @throws CommandFailure when the node refuses the stream, or has none (404: an older node)
   */
  InputStream events(Long lastEventId) {
    HttpRequest.Builder b = request("/v1/events", TIMEOUT).header("Accept", "text/event-stream");
    if (lastEventId != null) {
      b.header("Last-Event-ID", Long.toString(lastEventId));
    }
    HttpResponse<InputStream> r = send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() == 200) {
      return r.body();
    }
    try (InputStream in = r.body()) {
      if (r.statusCode() == 404) {
        throw CommandFailure.failed(
            "the node at " + base + " serves no live events (no /v1/events)",
            "update cfn on the node");
      }
      throw refused("GET /v1/events", r.statusCode(), r.headers(), in.readNBytes(64 * 1024));
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  /** {@code text} as one path segment. */
  static String segment(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private HttpRequest.Builder request(String path, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout);
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }

  private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
    try {
      return http.send(req, handler);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CommandFailure.failed("interrupted while waiting for " + base, "run it again");
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  private CommandFailure unreachable(IOException e) {
    if (pin != null && pin.mismatch != null) {
      return CommandFailure.failed(
          "the server at "
              + base
              + " shows a certificate with SHA-256 "
              + pin.mismatch
              + ", not the one pinned; nothing was sent",
          "if this is your node, pass the fingerprint cfn serve printed with --fingerprint;"
              + " otherwise something else answers at that address");
    }
    if (e instanceof HttpConnectTimeoutException) {
      return CommandFailure.failed(
          "no answer from " + base + " within " + CONNECT_TIMEOUT.toSeconds() + " s",
          "check that cfn serve runs there and that --server names its address and port");
    }
    if (e instanceof HttpTimeoutException) {
      return CommandFailure.failed(
          base + " took too long to answer", "check the node's log, then run it again");
    }
    if (causedBy(e, ConnectException.class)) {
      return CommandFailure.failed(
          "no cfn server answers at " + base + " (connection refused)",
          "start it with cfn serve, or check the address and port of --server");
    }
    if (causedBy(e, SSLException.class)) {
      return CommandFailure.failed(
          "the TLS handshake with " + base + " failed: " + ErrorReport.oneLine(e.getMessage()),
          "a node started with --insecure-http is reached with http://; cfn serve speaks TLS 1.3");
    }
    return CommandFailure.failed(
        "cannot reach " + base + ": " + ErrorReport.oneLine(String.valueOf(e.getMessage())),
        "check that cfn serve runs there and that --server names it");
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> kind) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (kind.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private CommandFailure refused(
      String what, int status, java.net.http.HttpHeaders headers, byte[] body) {
    String detail;
    try {
      JsonNode problem = JSON.readTree(body);
      detail = problem.path("detail").asText(problem.path("title").asText("status " + status));
    } catch (IOException | RuntimeException e) {
      detail = "status " + status;
    }
    detail = ErrorReport.oneLine(detail);
    return switch (status) {
      case 401 ->
          new CommandFailure(
              ExitCode.DENIED,
              "the server at "
                  + base
                  + " refused the "
                  + (token == null ? "client certificate: " : "token: ")
                  + detail,
              token == null
                  ? "trust the certificate on the node with cfn cert issue or cfn cert trust, and"
                      + " start it with cfn serve --client-certs"
                  : "create one with cfn token create on the node and pass it with --token-file"
                      + " FILE or "
                      + ServerOptions.TOKEN_ENV);
      case 403 ->
          new CommandFailure(
              ExitCode.DENIED,
              "the server at " + base + " refused " + what + ": " + detail,
              "use a token or certificate whose role and scopes allow it");
      case 429 ->
          CommandFailure.failed(
              "the server at " + base + " is rate-limiting this token: " + detail,
              "retry after " + headers.firstValue("Retry-After").orElse("a few") + " s");
      case 503 ->
          CommandFailure.failed(
              "the node at " + base + " is not ready: " + detail, "retry in a moment");
      default ->
          status < 500
              ? CommandFailure.usage(
                  "the server at " + base + " refused " + what + ": " + detail, "see the detail")
              : CommandFailure.failed(
                  "the node at " + base + " failed " + what + ": " + detail,
                  "its log says more; run it again");
    };
  }

  /**
   * Trusts exactly one certificate, by the SHA-256 of its encoding: no CA chain, no host-name rule
   * (the pin is stronger than both); remembers a mismatch to name it in the error.
   */
  static final class Pin extends X509ExtendedTrustManager {
    private final byte[] expected;
    volatile String mismatch;

    Pin(byte[] expected) {
      this.expected = expected.clone();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server sent no certificate");
      }
      byte[] seen;
      try {
        seen = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      } catch (GeneralSecurityException e) {
        throw new CertificateException("cannot hash the server's certificate", e);
      }
      if (!MessageDigest.isEqual(seen, expected)) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < seen.length; i++) {
          b.append(i == 0 ? "" : ":").append(HexFormat.of().withUpperCase().toHexDigits(seen[i]));
        }
        mismatch = b.toString();
        throw new CertificateException("the certificate is not the pinned one");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a client of cfn trusts no client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
