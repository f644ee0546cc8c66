package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.audit.AuditReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check 7 against a real node: every probe but encryption at rest passes on the node as {@code cfn
 * serve} runs it, and the canary probe says honestly whether the stores encrypt; a node served over
 * plain HTTP, one that takes bodies of any size and an audit verifier that misses damage each fail
 * the check.
 */
@Timeout(300)
class SecurityCheckTest {
  @TempDir Path work;

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
    assertThat(routes).contains("GET /health/ready", "PUT /v1/memory/{namespace}/{key}");
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
                b -> b.insecureHttp(true), n -> n.client, SecurityCheck.REAL.auditVerifier()));
    assertThat(r.passed()).isFalse();
    assertThat(failed(r))
        .contains(
            "TLS 1.3 with the node's certificate is served",
            "a TLS 1.2 client is refused",
            "a plain-HTTP request gets no HTTP answer");
  }

  @Test
  void failsWhenTheNodeTakesBodiesOfAnySize() throws Exception {
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                b -> b.maxBodyBytes(64 << 20), n -> n.client, SecurityCheck.REAL.auditVerifier()));
    assertThat(r.passed()).isFalse();
    assertThat(failed(r)).anyMatch(p -> p.contains("a body over twice the size limit"));
  }

  @Test
  void failsWhenTheAuditVerifierMissesDamage() throws Exception {
    CheckResult r =
        run(
            new SecurityCheck.Subject(
                b -> {},
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
