package dev.cfn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cfn.cluster.bench.ClusterBench;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn bench cluster}: three cfn nodes (child JVMs) on a JetStream cluster and a PostgreSQL
 * of the bench's own, started on free loopback ports and stopped by PID ({@link ClusterBench}).
 * Unlike the other benches it runs in this JVM, not the benchmark jar: the nodes are JVMs of their
 * own anyway, started from this JVM's class path.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = {
      "Distributed mode: three cfn nodes (JVMs of their own) on a 3-server NATS JetStream cluster"
          + " (R3) and PostgreSQL (fsync on), all started by the bench on free loopback ports from"
          + " Debian's packages and stopped by PID. Reliable end-to-end messages/s and latency"
          + " (every message committed in PostgreSQL), best-effort cross-node request-reply"
          + " latency (coordinated-omission corrected, HdrHistogram), and failover time after a"
          + " node's SIGKILL; every message counted on arrival and checked in PostgreSQL.",
      "The full run takes about 6 minutes on a quiet machine; --quick about 2. Exits 1 if a"
          + " message was lost or took effect twice."
    })
final class BenchClusterCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--quick", description = "Fewer messages, one kill.")
  boolean quick;

  @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
  Path json;

  @Option(
      names = "--kills",
      paramLabel = "N",
      description = "Node SIGKILLs for the failover time (default 5, --quick 1; 0 for none).")
  Integer kills;

  @Option(
      names = "--messages",
      paramLabel = "N",
      description =
          "RELIABLE messages each node sends in the throughput run (default 20000, --quick 2000).")
  Integer messages;

  @Override
  public Integer call() throws Exception {
    if (json != null) {
      PathChecks.outputFile("--json", json);
    }
    ClusterBench.Settings settings =
        quick ? ClusterBench.Settings.quick() : ClusterBench.Settings.full();
    if (kills != null) {
      ValueConverters.atLeast("--kills", kills, 0);
      settings = settings.withKills(kills);
    }
    if (messages != null) {
      ValueConverters.atLeast("--messages", messages, 1);
      settings = settings.withMessages(messages);
    }
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> result = ClusterBench.run(settings, out);
    if (json != null) {
      Path parent = json.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(json.toFile(), result);
      out.println("wrote " + json.toAbsolutePath());
    }
    boolean ok = ClusterBench.accountingHolds(result);
    out.println(
        ok ? "PASS: nothing lost, nothing duplicated" : "FAIL: messages lost or duplicated");
    out.flush();
    return ok ? ExitCode.OK : ExitCode.FAILED;
  }
}
