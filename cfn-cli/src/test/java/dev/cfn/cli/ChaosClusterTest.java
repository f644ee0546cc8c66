package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code cfn chaos cluster} end to end with small counts: its own PostgreSQL and 3 NATS servers,
 * three node JVMs, nodes and a stream leader SIGKILLed under load; the JSON's accounting must show
 * every acknowledged send delivered exactly once and nothing left pending.
 */
class ChaosClusterTest {

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void twoNodeKillsLoseAndDuplicateNothing(@TempDir Path dir) throws Exception {
    JsonNode r = run(dir, "node", 2, 7);
    assertThat(r.at("/faultCounts/node").asInt()).isEqualTo(2);
    assertThat(r.at("/faultCounts/leader").asInt()).isZero();
    assertThat(r.at("/faultCounts/partition").asInt()).isZero();
    assertThat(r.at("/takeoverMs/node/count").asInt()).isEqualTo(2);
    assertThat(r.get("nodeRestarts").asInt()).as("one restart per node kill").isEqualTo(2);
  }

  /**
   * A node kill, then a SIGKILL of the NATS server leading the stream (issue 15: after a leader
   * kill, nats-server 2.9 could leave a partition's consumer counting stored messages as delivered,
   * and acknowledged sends stayed pending for good).
   */
  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void aNodeKillAndAStreamLeaderKillLoseAndDuplicateNothing(@TempDir Path dir) throws Exception {
    JsonNode r = run(dir, "node,leader", 2, 7);
    assertThat(r.at("/faultCounts/node").asInt()).isEqualTo(1);
    assertThat(r.at("/faultCounts/leader").asInt()).isEqualTo(1);
    assertThat(r.at("/faultCounts/partition").asInt()).isZero();
    assertThat(r.at("/takeoverMs/node/count").asInt()).isEqualTo(1);
    assertThat(r.at("/takeoverMs/leader/count").asInt()).isEqualTo(1);
    assertThat(r.get("nodeRestarts").asInt()).as("one restart per node kill").isEqualTo(1);
  }

  /** Runs {@code cfn chaos cluster} and checks the accounting every run must show. */
  private static JsonNode run(Path dir, String faults, int kills, long seed) throws Exception {
    Path json = dir.resolve("cluster.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code =
        cl.execute(
            "chaos",
            "cluster",
            "--kills",
            Integer.toString(kills),
            "--faults",
            faults,
            "--rate",
            "50",
            "--partitions",
            "6",
            "--ttl-ms",
            "5000",
            "--min-ms",
            "1000",
            "--max-ms",
            "1500",
            "--seed",
            Long.toString(seed),
            "--dir",
            dir.resolve("work").toString(),
            "--json",
            json.toString());
    Path pending = dir.resolve("work").resolve("pending.txt");
    assertThat(code)
        .as(
            "exit code; out %s; err %s; pending.txt %s",
            out,
            err,
            java.nio.file.Files.exists(pending)
                ? java.nio.file.Files.readString(pending)
                : "(none)")
        .isZero();
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    assertThat(r.get("kills").asInt()).isEqualTo(kills);
    long acknowledged = r.get("acknowledged").asLong();
    assertThat(acknowledged).isPositive();
    assertThat(r.get("sent").asLong()).isGreaterThanOrEqualTo(acknowledged);
    assertThat(r.get("deliveredOnce").asLong()).isEqualTo(acknowledged);
    assertThat(r.get("lost").asLong()).isZero();
    assertThat(r.get("duplicated").asLong()).isZero();
    assertThat(r.get("deadLettered").asLong()).isZero();
    assertThat(r.get("pendingAtEnd").asLong()).isZero();
    assertThat(r.get("faults")).hasSize(kills);
    assertThat(out.toString()).contains("PASS: nothing lost, nothing duplicated");
    return r;
  }
}
