package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.server.auth.Role;
import dev.cfn.server.tls.ServerCertificate;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS 1.3 only, with real clients: a TLS 1.3 client that pins the generated certificate is
 * answered; a TLS 1.2 client fails its handshake; a plain-HTTP request gets no HTTP answer. The
 * certificate is generated once (key file 0600) and reused; {@code --insecure-http} serves HTTP and
 * logs a warning at every start.
 */
class TransportSecurityTest {
  @TempDir Path home;

  @Test
  void tls13IsServedAndTls12AndPlainHttpAreRefused() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      assertThat(node.server.url()).startsWith("https://127.0.0.1:");
      String token = node.token(Role.VIEWER);
      assertThat(node.get("/v1/agents", token).statusCode()).isEqualTo(200);

      ServerCertificate cert = node.server.certificate().orElseThrow();
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(cert.trustStore());
      SSLContext tls12 = SSLContext.getInstance("TLSv1.2");
      tls12.init(null, tmf.getTrustManagers(), null);
      try (SSLSocket s =
          (SSLSocket) tls12.getSocketFactory().createSocket("127.0.0.1", node.server.port())) {
        s.setEnabledProtocols(new String[] {"TLSv1.2"});
        s.setSoTimeout(10_000);
        assertThatThrownBy(s::startHandshake).isInstanceOf(SSLException.class);
      }

      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress("127.0.0.1", node.server.port()), 10_000);
        plain.setSoTimeout(10_000);
        OutputStream out = plain.getOutputStream();
        out.write(
            ("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = plain.getInputStream();
        byte[] answer;
        try {
          answer = in.readNBytes(4096);
        } catch (java.net.SocketException reset) {
          answer = new byte[0]; // the server reset the connection: also no answer
        }
        assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1 200");
      }
    }
  }

  @Test
  void theCertificateIsGeneratedOnceWithAPrivateKeyAndReused() throws Exception {
    String first;
    try (TestNode node = TestNode.start(home)) {
      first = node.server.fingerprint().orElseThrow();
      ServerCertificate cert = node.server.certificate().orElseThrow();
      byte[] der = cert.certificate().getEncoded();
      String expected =
          HexFormat.ofDelimiter(":")
              .withUpperCase()
              .formatHex(MessageDigest.getInstance("SHA-256").digest(der));
      assertThat(first).isEqualTo(expected);
      assertThat(cert.generated()).isTrue();
    }
    Path key = home.resolve(".cfn/tls/server.key");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(key)).contains("PRIVATE KEY");
    try (TestNode again = TestNode.start(home)) {
      assertThat(again.server.fingerprint()).hasValue(first);
      assertThat(again.server.certificate().orElseThrow().generated()).isFalse();
    }
  }

  @Test
  void aKeyWithoutItsCertificateIsRefusedAndNothingIsOverwritten() throws Exception {
    Path tls = Files.createDirectories(home.resolve(".cfn/tls"));
    Files.writeString(tls.resolve("server.key"), "mine");
    assertThatThrownBy(() -> TestNode.start(home))
        .hasMessageContaining("server.crt is missing")
        .hasMessageContaining("fix:");
    assertThat(Files.readString(tls.resolve("server.key"))).isEqualTo("mine");
  }

  @Test
  void insecureHttpServesPlainHttpAndWarnsAtEveryStart() throws Exception {
    for (int start = 1; start <= 2; start++) {
      java.io.PrintStream terminal = System.err;
      java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
      System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
      TestNode node;
      try {
        node = TestNode.start(home, b -> b.insecureHttp(true));
      } finally {
        System.setErr(terminal);
      }
      try (node) {
        assertThat(captured.toString(StandardCharsets.UTF_8).lines())
            .as("start " + start)
            .anySatisfy(
                l ->
                    assertThat(l)
                        .contains("WARN")
                        .contains("--insecure-http: serving plain HTTP without TLS"));
        assertThat(node.server.url()).startsWith("http://");
        assertThat(node.server.fingerprint()).isEmpty();
        assertThat(node.get("/health/live", null).statusCode()).isEqualTo(200);
        assertThat(node.get("/v1/agents", null).statusCode()).isEqualTo(401);
      }
    }
  }
}
