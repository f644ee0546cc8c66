package dev.cfn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code cfn bench server} with windows of a second (its figures mean nothing here): every row is
 * there, the RELIABLE sends run on a node with records plain and one with them sealed at rest (the
 * cost of encryption at rest beside the plain figure, in the same run), and every call was answered
 * as it should be.
 */
class ServerBenchTest {
  @Test
  @SuppressWarnings("unchecked")
  void theRunHasTheTlsPlainAndAtRestRowsWithoutErrors() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    Map<String, Object> json =
        new ServerBench(
                new ServerBench.Settings(
                    Duration.ofMillis(200), Duration.ofMillis(500), 200, Duration.ofSeconds(1)),
                new PrintStream(printed, true, StandardCharsets.UTF_8))
            .run();
    List<Map<String, Object>> rows = (List<Map<String, Object>>) json.get("saturation");
    assertThat(rows).hasSize(2 * 3 * 2 + 3 * 2);
    assertThat(rows)
        .filteredOn(r -> r.get("op").equals(ServerBench.RELIABLE_SEND))
        .extracting(
            r -> r.get("transport") + " " + r.get("encryptionAtRest") + " " + r.get("clients"))
        .containsExactly(
            "tls off 1", "tls on 1", "tls off 16", "tls on 16", "tls off 256", "tls on 256");
    assertThat(rows) // a request may time out (504) on a machine this busy; a send may not fail
        .filteredOn(r -> !r.get("op").equals("request"))
        .allSatisfy(r -> assertThat(r.get("errors")).as(r.toString()).isEqualTo(0L));
    Map<String, Object> targets = (Map<String, Object>) json.get("targets");
    assertThat((Map<String, Object>) targets.get("reliableSendsSealedOverPlainByClients"))
        .containsOnlyKeys("1", "16", "256");
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("encryption at rest, RELIABLE sends over TLS with 256 clients");
  }
}
