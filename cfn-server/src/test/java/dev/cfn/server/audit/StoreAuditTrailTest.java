package dev.cfn.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.CfnServer;
import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.audit.AuditReport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server started without an audit trail of its own writes every refusal to the hash-chained audit
 * log under {@code .cfn/audit}, and that log verifies afterwards; hostile text in an event is
 * clipped and cleaned rather than refused.
 */
class StoreAuditTrailTest {
  @TempDir Path home;

  @Test
  void refusedCallsLandInTheVerifiableAuditLog() throws Exception {
    try (CfnServer server = CfnServer.builder(home).port(0).insecureHttp(true).start()) {
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> anonymous =
          client.send(
              HttpRequest.newBuilder(URI.create(server.url() + "/v1/agents"))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> wrong =
          client.send(
              HttpRequest.newBuilder(URI.create(server.url() + "/v1/agents"))
                  .header("Authorization", "Bearer cfn_not-a-real-token")
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(wrong.statusCode()).isEqualTo(401);
    }
    Path cfn = home.resolve(".cfn");
    List<AuditEntry> entries = AuditLog.tail(cfn, 100);
    assertThat(entries)
        .filteredOn(e -> e.event().outcome() == dev.cfn.store.audit.AuditEvent.Outcome.DENIED)
        .hasSizeGreaterThanOrEqualTo(2)
        .allSatisfy(
            e -> {
              assertThat(e.event().action()).contains("/v1/agents");
              assertThat(e.event().detail()).containsEntry("kind", "authentication_failure");
            });
    assertThat(entries.toString()).doesNotContain("not-a-real-token");
    AuditReport report = AuditLog.verify(cfn, null);
    assertThat(report.ok()).as(report.problem()).isTrue();
  }

  @Test
  void hostileTextIsClippedAndCleanedNotRefused() {
    String longTarget = "x".repeat(5_000) + "\u0000\n";
    AuditEvent event =
        new AuditEvent(
            Instant.now(),
            AuditEvent.Kind.AUTHORIZATION_DENIAL,
            "tok_1\r\nforged",
            "GET /v1/x",
            longTarget,
            AuditEvent.Outcome.DENIED,
            "d".repeat(10_000));
    dev.cfn.store.audit.AuditEvent stored = StoreAuditTrail.toStore(event);
    assertThat(stored.principal()).doesNotContain("\r").doesNotContain("\n");
    assertThat(stored.target().length()).isLessThanOrEqualTo(201);
    assertThat(stored.detail().get("detail").length()).isLessThanOrEqualTo(1001);
  }
}
