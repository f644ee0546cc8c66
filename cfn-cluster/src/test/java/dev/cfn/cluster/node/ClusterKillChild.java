package dev.cfn.cluster.node;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.pg.PgJournal;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link ClusterKillTest}: a cluster node {@code child} whose counter agent sends
 * its own JVM SIGKILL inside the handler of its {@code killAt}-th message, after the handler ran
 * and before that message's acknowledgement commits: a known point, mid-batch, with other messages
 * fetched and unacked.
 *
 * <p>Arguments: JDBC URL, NATS URL, namespace, partitions, TTL in ms, killAt.
 */
public final class ClusterKillChild {
  private ClusterKillChild() {}

  public static void main(String[] args) throws Exception {
    int killAt = Integer.parseInt(args[5]);
    AtomicInteger calls = new AtomicInteger();
    try (PgJournal journal = PgJournal.builder(args[0]).open();
        Connection nats = Nats.connect(args[1])) {
      ClusterAgent counter = ClusterNodeTest.counter();
      ClusterNode node =
          ClusterNode.builder(journal, nats, "child")
              .namespace(args[2])
              .partitions(Integer.parseInt(args[3]))
              .ttl(Duration.ofMillis(Long.parseLong(args[4])))
              .replicas(1)
              .relayInterval(Duration.ofMillis(50))
              .consumerSettings(new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256))
              .agent(
                  "counter",
                  (m, fx) -> {
                    counter.handle(m, fx);
                    if (calls.incrementAndGet() == killAt) {
                      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
                          .start()
                          .waitFor();
                      Thread.sleep(10_000); // the signal arrives meanwhile
                      Runtime.getRuntime().halt(5);
                    }
                  })
              .start();
      Thread.sleep(120_000);
      node.close();
    }
    System.exit(2); // the kill point was never reached
  }
}
