package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.cfn.server.auth.Role;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.audit.AuditReport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check 7 against a real node: every probe but encryption at rest passes on the node as {@code cfn
 * serve} runs it, and the canary probe says honestly whether the stores encrypt; a node served over
 * plain HTTP, one that takes bodies of any size and an audit verifier that misses damage each fail
 * the check, and so does a node whose routes do not authenticate (a front that adds an admin token
 * to every call), and one that does not admit trusted client certificates (mutual TLS).
 */
@Timeout(300)
class SecurityCheckTest {
  @TempDir Path work;

  @Test
  void theCanaryIsSearchedOutsideDotCfnAndAnUnreadableFileFailsTheProbe() throws Exception {
    String canary = "cfn-canary-0123456789abcdef";
    Path home = work.resolve("node");
    Files.createDirectories(home.resolve(".cfn"));
    Files.writeString(home.resolve(".cfn").resolve("clean.db"), "nothing here");
    // a plaintext copy beside .cfn, in the node's home: not in .cfn, still written by the node
    Files.writeString(home.resolve("spill.log"), "payload " + canary + " end");
    SecurityCheck.Probe leaked =
        SecurityCheck.canaryProbe(work, canary, "now", Files::readAllBytes);
    assertThat(leaked.passed()).isFalse();
    assertThat(leaked.detail()).contains("node/spill.log").contains("2 files searched");

    Files.delete(home.resolve("spill.log"));
    Files.writeString(home.resolve(".cfn").resolve("locked.db"), "cannot be read");
    SecurityCheck.FileBytes locked =
        f -> {
          if (f.getFileName().toString().equals("locked.db")) {
            throw new AccessDeniedException(f.toString());
          }
          return Files.readAllBytes(f);
        };
    SecurityCheck.Probe unread = SecurityCheck.canaryProbe(work, canary, "now", locked);
    assertThat(unread.passed()).isFalse();
    assertThat(unread.detail())
        .contains("could not read [node/.cfn/locked.db (AccessDeniedException)]")
        .contains("1 files searched");
    assertThat(SecurityCheck.canaryProbe(work, canary, "now", Files::readAllBytes).passed())
        .isTrue();

    // a temporary file of the node's, in the temporary folder the check gives its JVM
    Path temp = Files.createDirectories(work.resolve(SecurityCheck.TEMP));
    Files.writeString(temp.resolve("upload-123.tmp"), "{\"secret\":\"" + canary + "\"}");
    SecurityCheck.Probe inTemp =
        SecurityCheck.canaryProbe(work, canary, "now", Files::readAllBytes);
    assertThat(inTemp.passed()).isFalse();
    assertThat(inTemp.detail()).contains("found in [node-tmp/upload-123.tmp]");
  }

  @Test
  void failsWhenTheNodeSpillsTheCanaryToItsTemporaryFolder() throws Exception {
    // a node whose sink agents write each payload to a temporary file: the check gives the
    // node's JVM a temporary folder of its own, so the file is found and named
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                List.of("--spill-to-temp"), n -> n.client, SecurityCheck.REAL.auditVerifier()));
    assertThat(r.passed()).isFalse();
    List<Map<String, Object>> canary =
        probes(r).stream()
            .filter(p -> String.valueOf(p.get("probe")).startsWith("the plaintext canary"))
            .toList();
    assertThat(canary).hasSize(2);
    assertThat(canary)
        .allSatisfy(
            p -> {
              assertThat(p.get("passed")).isEqualTo(false);
              assertThat(String.valueOf(p.get("detail")))
                  .containsPattern("found in \\[node-tmp/certify-spill-[0-9]+\\.txt\\]");
            });
    // the node's home and its log were searched too: only the spilled file holds the canary
    assertThat(failed(r))
        .allMatch(p -> p.startsWith("the plaintext canary"), "only the canary probes fail");
  }

  @Test
  void theRealNodePassesEveryProbeButThoseItCannotMeetYet() throws Exception {
    CheckResult r = run(SecurityCheck.REAL);
    List<Map<String, Object>> probes = probes(r);
    assertThat(probes).hasSizeGreaterThan(150);
    assertThat(probes)
        .filteredOn(p -> !"encryption at rest".equals(p.get("group")))
        .allSatisfy(p -> assertThat(p.get("passed")).as(p.toString()).isEqualTo(true));
    // every route the server has is probed, from its own document
    @SuppressWarnings("unchecked")
    List<String> routes = (List<String>) r.figures().get("routes");
    assertThat(routes)
        .contains("GET /health/ready", "PUT /v1/memory/{namespace}/{key}", "POST /v1/loops");
    assertThat(probes) // the CFN Loop submission is probed like every route
        .extracting(p -> String.valueOf(p.get("probe")))
        .contains(
            "POST /v1/loops with no token is refused (401)",
            "POST /v1/loops as viewer is forbidden (403) (least role operator)",
            "POST /v1/loops as operator is admitted (least role operator)",
            "POST /v1/loops with malformed JSON is refused with a 4xx");
    // the canary is searched in the node's temporary folder too, listed in the report
    assertThat(r.figures().get("canarySearched"))
        .asString()
        .contains("node/", "node-tmp/", "served-node.log");
    assertThat(probes)
        .filteredOn(p -> String.valueOf(p.get("probe")).startsWith("the plaintext canary"))
        .hasSize(2)
        .allSatisfy(
            p ->
                assertThat(String.valueOf(p.get("probe")))
                    .contains("the node's home, temporary folder and log"));
    boolean allPassed = probes.stream().allMatch(p -> p.get("passed").equals(true));
    assertThat(r.passed()).as(r.verdict()).isEqualTo(allPassed);
    assertThat(r.measured())
        .isEqualTo(
            100.0
                * probes.stream().filter(p -> p.get("passed").equals(true)).count()
                / probes.size());
  }

  @Test
  void failsWhenTheNodeServesPlainHttp() throws Exception {
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                List.of("--insecure-http"), n -> n.client, SecurityCheck.REAL.auditVerifier()));
    assertThat(r.passed()).isFalse();
    assertThat(failed(r))
        .contains(
            "TLS 1.3 with the node's certificate is served",
            "a TLS 1.2 client is refused",
            "a plain-HTTP request gets no HTTP answer");
  }

  @Test
  void failsWhenTheNodeDoesNotAdmitTrustedClientCertificates() throws Exception {
    // a node that never asks for client certificates: a trusted one cannot authenticate
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                List.of("--no-client-certs"), n -> n.client, SecurityCheck.REAL.auditVerifier()));
    assertThat(r.passed()).isFalse();
    assertThat(failed(r))
        .contains(
            "a trusted client certificate is admitted without a token",
            "a trusted client certificate is refused a route above its role")
        .doesNotContain(
            "an untrusted (self-signed) client certificate is refused",
            "a revoked client certificate is refused");
  }

  @Test
  void failsWhenTheNodeTakesBodiesOfAnySize() throws Exception {
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                List.of("--max-body-bytes", Integer.toString(64 << 20)),
                n -> n.client,
                SecurityCheck.REAL.auditVerifier()));
    assertThat(r.passed()).isFalse();
    assertThat(failed(r)).anyMatch(p -> p.contains("a body over twice the size limit"));
  }

  @Test
  void failsWhenTheAuditVerifierMissesDamage() throws Exception {
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                List.of(),
                n -> n.client,
                dir -> {
                  AuditReport real = AuditLog.verify(dir, null);
                  return new AuditReport(
                      true,
                      real.entries(),
                      real.events(),
                      real.checkpoints(),
                      real.signedThrough(),
                      real.unsigned(),
                      real.headHash(),
                      real.keyFingerprint(),
                      -1,
                      -1,
                      null);
                }));
    assertThat(r.passed()).isFalse();
    assertThat(failed(r))
        .anyMatch(p -> p.startsWith("a copy of the audit log with one byte flipped"));
  }

  @Test
  void failsWhenARouteDoesNotAuthenticate() throws Exception {
    // a front that serves the node's API with the node's certificate, but adds an admin token to
    // every call: from the outside, a node whose routes need no authentication
    HttpsServer[] front = new HttpsServer[1];
    try {
      CheckResult r =
          run(
              new SecurityCheck.Subject(
                  List.of(), n -> front(n, front), SecurityCheck.REAL.auditVerifier()));
      assertThat(r.passed()).isFalse();
      assertThat(failed(r))
          .contains("GET /v1/agents with no token is refused (401)")
          .contains("DELETE /v1/dead-letters as viewer is forbidden (403) (least role admin)");
    } finally {
      if (front[0] != null) {
        front[0].stop(0);
      }
    }
  }

  private static ApiClient front(ServeNode.Served node, HttpsServer[] holder) {
    try {
      char[] password = "front".toCharArray();
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(node.certificate().keyStore(password), password);
      SSLContext tls = SSLContext.getInstance("TLSv1.3");
      tls.init(kmf.getKeyManagers(), null, null);
      HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setHttpsConfigurator(
          new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
              SSLParameters p = tls.getDefaultSSLParameters();
              p.setProtocols(new String[] {"TLSv1.3"});
              params.setSSLParameters(p);
            }
          });
      String admin = node.token(Role.ADMIN);
      server.createContext(
          "/",
          exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            ApiClient.Answer a =
                node.client.call(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath()
                        + (exchange.getRequestURI().getRawQuery() == null
                            ? ""
                            : "?" + exchange.getRequestURI().getRawQuery()),
                    admin,
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    body.length == 0 ? null : body,
                    Duration.ofSeconds(30));
            byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(
                a.status() == 0 ? 502 : a.status(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
              exchange.getResponseBody().write(out);
            }
            exchange.close();
          });
      server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      server.start();
      holder[0] = server;
      return new ApiClient(
          "https://127.0.0.1:" + server.getAddress().getPort(),
          node.client.trust(),
          Duration.ofSeconds(10));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private CheckResult run(SecurityCheck.Subject subject) throws Exception {
    return new SecurityCheck(subject).run(TestProfiles.context(TestProfiles.tiny(), work));
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> probes(CheckResult r) {
    return (List<Map<String, Object>>) r.figures().get("probes");
  }

  static List<String> failed(CheckResult r) {
    return probes(r).stream()
        .filter(p -> !p.get("passed").equals(true))
        .map(p -> (String) p.get("probe"))
        .toList();
  }
}
