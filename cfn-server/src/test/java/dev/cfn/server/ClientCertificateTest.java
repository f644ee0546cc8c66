package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.ClientCertificate;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.tls.ClientIdentity;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS ({@code cfn serve --client-certs}) attacked: a trusted certificate authenticates
 * without a token, as the principal its registration names (role, scopes), and the audit log says
 * so ({@code crt_} ids); a self-signed certificate no one trusted, one from another CA, an expired
 * one, a revoked one (on a connection that was already open) are refused with 401 and audited; a
 * trusted certificate with too low a role gets 403; a certificate that may not authenticate a
 * client fails the handshake; and bearer tokens keep working for clients without a certificate.
 */
class ClientCertificateTest {
  @TempDir static Path home;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(home, b -> b.clientCertificates(true));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static ClientIdentity fresh(String name) {
    Instant now = Instant.now();
    return ClientIdentity.generate(
        name, now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(30)));
  }

  static ClientCertificate trust(ClientIdentity id, Role role, String... scopes) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store.trustCertificate(
          id.certificate(),
          role,
          scopes.length == 0
              ? List.of(Scope.ALL)
              : List.of(scopes).stream().map(Scope::parse).toList(),
          Duration.ofDays(1),
          "test",
          TestNode.ACTOR,
          "cert.trust");
    }
  }

  /** An HTTPS client that pins the server's certificate and presents {@code keys} (null: none). */
  static HttpClient client(KeyStore keys) throws Exception {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(node.server.certificate().orElseThrow().trustStore());
    KeyManagerFactory kmf = null;
    if (keys != null) {
      kmf = KeyManagerFactory.getInstance("SunX509"); // sends what it has, expired or not
      kmf.init(keys, "pw".toCharArray());
    }
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    tls.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    SSLParameters params = new SSLParameters();
    params.setProtocols(new String[] {"TLSv1.3"});
    return HttpClient.newBuilder()
        .sslContext(tls)
        .sslParameters(params)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  static HttpClient client(ClientIdentity id) throws Exception {
    return client(id.keyStore("pw".toCharArray()));
  }

  static HttpResponse<String> call(HttpClient c, String method, String path, String json)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(node.server.url() + path))
            .timeout(Duration.ofSeconds(30));
    if (json != null) {
      r.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(json));
    } else {
      r.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return c.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aTrustedCertificateAuthenticatesWithoutATokenAndIsAuditedAsItsPrincipal() throws Exception {
    ClientIdentity id = fresh("ops-laptop");
    ClientCertificate trusted = trust(id, Role.OPERATOR);
    assertThat(trusted.principal().id()).startsWith("crt_");
    assertThat(trusted.fingerprint()).isEqualTo(ClientCertificate.fingerprintOf(id.certificate()));
    HttpClient c = client(id);
    node.audit.clear();
    assertThat(call(c, "GET", "/v1/agents", null).statusCode()).isEqualTo(200);
    HttpResponse<String> spawned =
        call(c, "POST", "/v1/agents", "{\"type\":\"echo\",\"key\":\"mtls-1\"}");
    assertThat(spawned.statusCode()).as(spawned.body()).isEqualTo(201);
    assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.actor()).isEqualTo(trusted.principal().id());
              assertThat(e.action()).isEqualTo("POST /v1/agents");
              assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
            });
    assertThat(node.audit.of(AuditEvent.Kind.AUTHENTICATION_FAILURE)).isEmpty();
  }

  @Test
  void aSelfSignedCertificateNoOneTrustedIsRefused() throws Exception {
    node.audit.clear();
    ClientIdentity stranger = fresh("ops-laptop"); // the same name as a trusted one: no matter
    HttpResponse<String> r = call(client(stranger), "GET", "/v1/agents", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("Content-Type")).hasValue(Problem.MEDIA_TYPE);
    assertThat(r.body())
        .contains("is not trusted by this node")
        .contains(ClientCertificate.fingerprintOf(stranger.certificate()))
        .contains("fix:");
    assertThat(node.audit.of(AuditEvent.Kind.AUTHENTICATION_FAILURE))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.actor()).startsWith("certificate ");
              assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.DENIED);
            });
  }

  @Test
  void aCertificateFromAnotherCaIsRefused() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(256);
    KeyPair ca = gen.generateKeyPair();
    KeyPair leaf = gen.generateKeyPair();
    Instant now = Instant.now();
    X500Name caName = new X500Name("CN=Some Corporate CA");
    JcaX509v3CertificateBuilder caBuilder =
        new JcaX509v3CertificateBuilder(
            caName,
            BigInteger.ONE,
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(30))),
            caName,
            ca.getPublic());
    caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    X509Certificate caCert =
        new JcaX509CertificateConverter()
            .getCertificate(
                caBuilder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
    JcaX509v3CertificateBuilder leafBuilder =
        new JcaX509v3CertificateBuilder(
            caName,
            BigInteger.TWO,
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(30))),
            new X500Name("CN=admin"),
            leaf.getPublic());
    leafBuilder.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
    X509Certificate leafCert =
        new JcaX509CertificateConverter()
            .getCertificate(
                leafBuilder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "client", leaf.getPrivate(), "pw".toCharArray(), new X509Certificate[] {leafCert, caCert});
    HttpResponse<String> r = call(client(keys), "GET", "/v1/agents", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("is not trusted by this node");
  }

  @Test
  void anExpiredCertificateIsRefused() throws Exception {
    Instant now = Instant.now();
    ClientIdentity old =
        ClientIdentity.generate(
            "old", now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)));
    Clock then = Clock.fixed(now.minus(Duration.ofDays(2)), ZoneOffset.UTC);
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE), then)) {
      store.trustCertificate(
          old.certificate(),
          Role.ADMIN,
          List.of(Scope.ALL),
          Duration.ofDays(30),
          "",
          TestNode.ACTOR,
          "cert.trust");
    }
    node.audit.clear();
    HttpResponse<String> r = call(client(old), "GET", "/v1/agents", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("has expired");
    assertThat(node.audit.of(AuditEvent.Kind.AUTHENTICATION_FAILURE))
        .singleElement()
        .satisfies(e -> assertThat(e.actor()).startsWith("crt_"));
  }

  @Test
  void aRevokedCertificateIsRefusedOnTheNextRequestOfAnOpenConnection() throws Exception {
    ClientIdentity id = fresh("soon-gone");
    ClientCertificate trusted = trust(id, Role.VIEWER);
    HttpClient c = client(id);
    assertThat(call(c, "GET", "/v1/agents", null).statusCode()).isEqualTo(200);
    assertThat(node.server.tokens().revoke(trusted.principal().id(), TestNode.ACTOR)).isTrue();
    HttpResponse<String> r = call(c, "GET", "/v1/agents", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("was revoked");
  }

  @Test
  void aTrustedCertificateWithTooLowARoleOrNoScopeIsForbidden() throws Exception {
    ClientIdentity viewer = fresh("viewer");
    ClientCertificate v = trust(viewer, Role.VIEWER);
    node.audit.clear();
    HttpResponse<String> r =
        call(client(viewer), "POST", "/v1/agents", "{\"type\":\"echo\",\"key\":\"no\"}");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body())
        .contains("client certificate " + v.principal().id())
        .contains("a certificate issued with --role operator");
    assertThat(node.audit.of(AuditEvent.Kind.AUTHORIZATION_DENIAL))
        .singleElement()
        .satisfies(e -> assertThat(e.actor()).isEqualTo(v.principal().id()));

    ClientIdentity scoped = fresh("planner-only");
    trust(scoped, Role.OPERATOR, "agent:planner");
    HttpResponse<String> s =
        call(client(scoped), "POST", "/v1/agents", "{\"type\":\"echo\",\"key\":\"no\"}");
    assertThat(s.statusCode()).isEqualTo(403);
    assertThat(s.body()).contains("no scope for agent 'echo'");
  }

  @Test
  void aCertificateThatMayNotAuthenticateAClientFailsTheHandshake() throws Exception {
    // the server's own certificate is for serverAuth only
    KeyStore serverKeys = node.server.certificate().orElseThrow().keyStore("pw".toCharArray());
    assertThatThrownBy(() -> call(client(serverKeys), "GET", "/v1/agents", null))
        .isInstanceOf(IOException.class);
  }

  @Test
  void bearerTokensStillWorkAndNoCredentialIsRefused() throws Exception {
    HttpClient plain = client((KeyStore) null);
    String token = node.token(Role.VIEWER);
    HttpResponse<String> ok =
        plain.send(
            HttpRequest.newBuilder(URI.create(node.server.url() + "/v1/agents"))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).isEqualTo(200);
    HttpResponse<String> none = call(plain, "GET", "/v1/agents", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body()).contains("no Authorization header and no client certificate");
    // a wrong token is refused even from a client with a trusted certificate: the header wins
    ClientIdentity id = fresh("both");
    trust(id, Role.ADMIN);
    HttpResponse<String> wrong =
        client(id)
            .send(
                HttpRequest.newBuilder(URI.create(node.server.url() + "/v1/agents"))
                    .header("Authorization", "Bearer cfn_" + "A".repeat(43))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(wrong.statusCode()).isEqualTo(401);
  }

  @Test
  void clientCertificatesNeedTls() {
    assertThatThrownBy(
            () ->
                TestNode.start(
                    home.resolve("x"), b -> b.insecureHttp(true).clientCertificates(true)))
        .hasMessageContaining("client certificates need TLS");
  }

  @Test
  void aCertificateIsTrustedOnceAndNotWhenItIsNotValidNow() {
    ClientIdentity id = fresh("twice");
    trust(id, Role.VIEWER);
    assertThatThrownBy(() -> trust(id, Role.ADMIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("trusted already");
    Instant now = Instant.now();
    ClientIdentity expired =
        ClientIdentity.generate(
            "gone", now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)));
    assertThatThrownBy(() -> trust(expired, Role.VIEWER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not valid now");
  }
}
