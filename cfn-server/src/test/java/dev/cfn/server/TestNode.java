package dev.cfn.server;

import dev.cfn.core.AgentType;
import dev.cfn.core.RetryPolicy;
import dev.cfn.server.audit.RecordingAuditTrail;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real server on an ephemeral port over a temporary home, with an echo agent type and a type
 * whose handler always fails, a recording audit trail, and an HTTPS client that trusts (only) the
 * server's generated certificate and speaks TLS 1.3.
 */
final class TestNode implements AutoCloseable {
  final Path home;
  final CfnServer server;
  final RecordingAuditTrail audit = new RecordingAuditTrail();
  final HttpClient client;

  private TestNode(Path home, Consumer<CfnServer.Builder> more) throws Exception {
    this.home = home;
    CfnServer.Builder b =
        CfnServer.builder(home)
            .port(0)
            .audit(audit)
            .retryPolicy(new RetryPolicy(Duration.ZERO, 1.0, Duration.ZERO, 1))
            .agentType(
                AgentType.of(
                    "echo",
                    id ->
                        (m, ctx) -> {
                          if (m.isRequest()) {
                            ctx.reply(m.payload());
                          }
                        }))
            .agentType(AgentType.of("silent", id -> (m, ctx) -> {}))
            .agentType(
                AgentType.of(
                    "failing",
                    id ->
                        (m, ctx) -> {
                          throw new IllegalStateException("fails on purpose");
                        }));
    more.accept(b);
    this.server = b.start();
    this.client = client(server);
  }

  static TestNode start(Path home) throws Exception {
    return new TestNode(home, b -> {});
  }

  static TestNode start(Path home, Consumer<CfnServer.Builder> more) throws Exception {
    return new TestNode(home, more);
  }

  static HttpClient client(CfnServer server) throws Exception {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (server.certificate().isPresent()) {
      b.sslContext(tls(server)).sslParameters(tls13());
    }
    return b.build();
  }

  /** A TLS 1.3 context that trusts only {@code server}'s generated certificate. */
  static SSLContext tls(CfnServer server) throws Exception {
    KeyStore trust = server.certificate().orElseThrow().trustStore();
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    tls.init(null, tmf.getTrustManagers(), null);
    return tls;
  }

  /** Parameters that allow TLS 1.3 only. */
  static SSLParameters tls13() {
    SSLParameters params = new SSLParameters();
    params.setProtocols(new String[] {"TLSv1.3"});
    return params;
  }

  /** Who the tests' tokens are issued and revoked by, in their audit events. */
  static final String ACTOR = "user:test";

  /** A token of {@code role} with {@code scopes} (default {@code *}), valid for a day. */
  String token(Role role, String... scopes) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store
          .create(
              role,
              scopes.length == 0
                  ? java.util.List.of(Scope.ALL)
                  : Arrays.stream(scopes).map(Scope::parse).toList(),
              Duration.ofDays(1),
              "test",
              ACTOR)
          .secret();
    }
  }

  /** A token that expired a day ago. */
  String expiredToken(Role role) {
    Clock past = Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC);
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE), past)) {
      return store
          .create(role, java.util.List.of(Scope.ALL), Duration.ofDays(1), "old", ACTOR)
          .secret();
    }
  }

  /** A token that was revoked. */
  String revokedToken(Role role) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      var issued =
          store.create(role, java.util.List.of(Scope.ALL), Duration.ofDays(1), "gone", ACTOR);
      store.revoke(issued.token().id(), ACTOR);
      return issued.secret();
    }
  }

  HttpResponse<String> call(String method, String path, String token, String json)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    if (json != null) {
      r.header("Content-Type", "application/json");
      r.method(method, HttpRequest.BodyPublishers.ofString(json));
    } else {
      r.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A streamed GET: returns once the headers arrived; close the body to hang up. */
  HttpResponse<java.util.stream.Stream<String>> stream(
      String path, String token, String lastEventId) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(server.url() + path));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    if (lastEventId != null) {
      r.header("Last-Event-ID", lastEventId);
    }
    return client.send(r.GET().build(), HttpResponse.BodyHandlers.ofLines());
  }

  HttpResponse<String> get(String path, String token) throws Exception {
    return call("GET", path, token, null);
  }

  @Override
  public void close() {
    server.close();
  }
}
