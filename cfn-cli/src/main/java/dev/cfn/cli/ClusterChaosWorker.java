package dev.cfn.cli;

import dev.cfn.cluster.node.ClusterAgent;
import dev.cfn.cluster.node.ClusterNode;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.core.AgentId;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The cfn node that {@code cfn chaos cluster} starts (and SIGKILLs, or cuts off) in a child JVM: a
 * {@link ClusterNode} on the run's PostgreSQL and NATS servers with two agent types.
 *
 * <ul>
 *   <li>{@code counter/K} handles a message whose payload is the send number {@code i} by
 *       incrementing its state key {@code c-i}, committed with the acknowledgement: a count of 1 is
 *       an effect delivered once, above 1 a duplicate, a missing key a loss.
 *   <li>{@code forwarder/K} forwards the payload to {@code counter/(i mod KEYS)} through its
 *       outbox, committed with its acknowledgement: the handler-outbox path across nodes.
 * </ul>
 *
 * <p>Arguments: JDBC URL, NATS URLs (comma-separated), namespace, node name, partitions, TTL in ms,
 * the stream's replicas. Prints {@code ready NODE-ID} once it has joined; exits 0 when its standard
 * input says {@code stop} (leaving the cluster) or closes. Fails as the command would: one line
 * {@code cfn chaos worker: ...} on standard error, exit 1.
 */
final class ClusterChaosWorker {
  /** The agent type that counts effects. */
  static final String COUNTER = "counter";

  /** The agent type that forwards through its outbox. */
  static final String FORWARDER = "forwarder";

  /** Agents of each type. */
  static final int KEYS = 16;

  private ClusterChaosWorker() {}

  /** The counter a send numbered {@code n} ends at. */
  static AgentId counterOf(long n) {
    return AgentId.of(COUNTER, Long.toString(n % KEYS));
  }

  /** Where send {@code n} goes first: even numbers to their counter, odd ones via a forwarder. */
  static AgentId recipientOf(long n) {
    return n % 2 == 0 ? counterOf(n) : AgentId.of(FORWARDER, Long.toString(n % KEYS));
  }

  static ClusterAgent counter() {
    return (m, fx) -> fx.increment("c-" + m.payload(), 1);
  }

  static ClusterAgent forwarder() {
    return (m, fx) -> {
      String payload = m.payload().toString();
      fx.send(counterOf(Long.parseLong(payload)), payload);
    };
  }

  public static void main(String[] args) {
    PrintStream out = System.out;
    try {
      if (args.length != 7) {
        throw new IllegalArgumentException(
            "expected 7 arguments (JDBC URL, NATS URLs, namespace, node, partitions, TTL ms,"
                + " replicas), got "
                + args.length);
      }
      String id = args[3] + "-" + System.currentTimeMillis();
      Options options =
          new Options.Builder()
              .servers(args[1].split(","))
              .ignoreDiscoveredServers() // inside a namespace only the given URLs lead out
              .maxReconnects(-1)
              .reconnectWait(Duration.ofMillis(100))
              .connectionTimeout(Duration.ofSeconds(5))
              .build();
      try (PgJournal journal = PgJournal.builder(args[0]).open();
          Connection nats = Nats.connect(options);
          ClusterNode node =
              ClusterNode.builder(journal, nats, id)
                  .namespace(args[2])
                  .partitions(Integer.parseInt(args[4]))
                  .ttl(Duration.ofMillis(Long.parseLong(args[5])))
                  .replicas(Integer.parseInt(args[6]))
                  .relayInterval(Duration.ofMillis(100))
                  // the reconciler at 10 s / 5 s (defaults 60 s / 30 s), so that a send a fault
                  // made the stream lose is republished well within the command's 120 s drain
                  .reconcileAfter(Duration.ofSeconds(10))
                  .reconcileEvery(Duration.ofSeconds(5))
                  .agent(COUNTER, counter())
                  .agent(FORWARDER, forwarder())
                  .start()) {
        out.println("ready " + id);
        out.flush();
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          if (line.strip().equals("stop")) {
            break;
          }
        }
        out.println("handled " + node.handledCount() + " skipped " + node.skippedCount());
        out.flush();
      }
      System.exit(0);
    } catch (Exception | Error e) {
      System.err.println(ChaosCommand.WORKER_ERROR + e);
      e.printStackTrace(System.err);
      System.exit(1);
    }
  }
}
