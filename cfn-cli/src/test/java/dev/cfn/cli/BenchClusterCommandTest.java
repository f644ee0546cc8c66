package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn bench cluster --quick} end to end with small counts: its own PostgreSQL and 3-server
 * JetStream cluster, three node JVMs, one SIGKILL. Checks behaviour (every figure present, nothing
 * lost or duplicated, the kill taken over, the servers gone afterwards), never speed.
 */
class BenchClusterCommandTest {

  @Test
  void quickRunReportsEveryFigureAndLosesNothing(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("out/cluster.json");
    CliRun run =
        CliRun.run(
            "bench",
            "cluster",
            "--quick",
            "--messages",
            "200",
            "--kills",
            "1",
            "--json",
            json.toString());

    assertThat(run.code()).as("exit code; out: %s; err: %s", run.out(), run.err()).isZero();
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    assertThat(r.get("command").asText()).isEqualTo("cfn bench cluster");
    assertThat(r.at("/machine/cores").asInt()).isPositive();
    assertThat(r.at("/machine/jdk").asText()).isNotEmpty();
    assertThat(r.at("/machine/loadAverageBefore").asText()).isNotEmpty();
    assertThat(r.at("/machine/loadAverageAfter").asText()).isNotEmpty();
    assertThat(r.at("/settings/nodes").asInt()).isEqualTo(3);

    JsonNode reliable = r.get("reliable");
    assertThat(reliable.get("sent").asLong()).isEqualTo(600);
    assertThat(reliable.get("messages").asLong()).isEqualTo(600);
    assertThat(reliable.get("lost").asLong()).isZero();
    assertThat(reliable.get("duplicated").asLong()).isZero();
    assertThat(reliable.get("messagesPerSecond").asDouble()).isPositive();
    assertThat(reliable.get("count").asLong()).isEqualTo(600);
    assertThat(reliable.get("p99Us").asDouble())
        .isGreaterThanOrEqualTo(reliable.get("p50Us").asDouble());
    assertThat(reliable.get("postgresCommitsPerMessage").asDouble())
        .as("each message is committed in PostgreSQL (append and acknowledgement, grouped)")
        .isPositive();
    assertThat(reliable.get("walFsyncsPerMessage").asDouble()).isPositive();

    JsonNode paced = r.get("reliablePaced");
    assertThat(paced.get("lost").asLong()).isZero();
    assertThat(paced.get("duplicated").asLong()).isZero();
    assertThat(paced.get("messages").asLong()).isEqualTo(paced.get("sent").asLong()).isPositive();
    assertThat(paced.get("p99Us").asDouble()).isPositive();

    JsonNode rr = r.get("requestReply");
    assertThat(rr.get("replies").asLong() + rr.get("errors").asLong())
        .isEqualTo(rr.get("requests").asLong());
    assertThat(rr.get("replies").asLong()).isPositive();
    assertThat(rr.get("p50Us").asDouble()).isPositive();

    JsonNode failover = r.get("failover");
    assertThat(failover.get("kills").asInt()).isEqualTo(1);
    assertThat(failover.get("samplesMs")).hasSize(1);
    assertThat(failover.get("p99Ms").asLong()).isPositive();

    JsonNode accounting = r.get("accounting");
    assertThat(accounting.get("unacknowledged").asLong()).isZero();
    assertThat(accounting.get("effectsApplied").asLong())
        .isEqualTo(accounting.get("sent").asLong());
    assertThat(accounting.get("checked").asLong()).isEqualTo(accounting.get("sent").asLong());

    List<String> targets = new ArrayList<>();
    r.get("targets").forEach(t -> targets.add(t.get("name").asText()));
    assertThat(targets).hasSize(3);
    r.get("targets")
        .forEach(
            t -> {
              assertThat(t.get("measured").isNumber()).isTrue();
              assertThat(t.get("met").isBoolean()).isTrue();
            });
    assertThat(run.out()).contains("PASS").contains("load average");
    List<Long> alive = new ArrayList<>();
    r.get("processes")
        .forEach(
            pid ->
                ProcessHandle.of(pid.asLong())
                    .filter(ProcessHandle::isAlive)
                    .ifPresent(p -> alive.add(p.pid())));
    assertThat(r.get("processes").size())
        .as("PostgreSQL, 3 NATS servers, 4 node JVMs")
        .isEqualTo(8);
    assertThat(alive).as("servers and nodes stopped by their PIDs").isEmpty();
  }
}
