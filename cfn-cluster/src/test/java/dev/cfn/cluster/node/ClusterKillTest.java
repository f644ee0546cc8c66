package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.TestNats;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import io.nats.client.Connection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGKILL of a cluster node mid-batch: a child JVM ({@link ClusterKillChild}) holding about half
 * the partitions kills itself inside the handler of its 40th message. The surviving node takes its
 * partitions over within TTL + 5 s of the death, with the next epochs, and every message takes
 * effect exactly once: the counters sum to the messages sent and each message has its mark.
 */
class ClusterKillTest {
  static final int PARTITIONS = 8;
  static final Duration TTL = Duration.ofSeconds(3);
  static final int MESSAGES = 300;
  static final int KILL_AT = 40;

  @Test
  void aKilledNodesPartitionsAreTakenOverWithinTheTtlAndEveryEffectHappensOnce() throws Exception {
    String url = TestDatabase.newSchema("kill");
    try (TestNats nats = TestNats.single();
        Connection connection = nats.connect();
        PgJournal db = PgJournal.builder(url).stateCacheKeys(0).open()) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process child =
          new ProcessBuilder(
                  java,
                  "-cp",
                  System.getProperty("java.class.path"),
                  ClusterKillChild.class.getName(),
                  url,
                  nats.urls().getFirst(),
                  "kill",
                  Integer.toString(PARTITIONS),
                  Long.toString(TTL.toMillis()),
                  Integer.toString(KILL_AT))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      try {
        PlacementTest.eventually(
            "the child holds every partition",
            () -> {
              for (int p = 0; p < PARTITIONS; p++) {
                if (db.leases().holder(p).map(l -> !l.owner().equals("child")).orElse(true)) {
                  return false;
                }
              }
              return true;
            });
        try (PgJournal journal = PgJournal.builder(url).open();
            ClusterNode survivor =
                ClusterNode.builder(journal, connection, "survivor")
                    .namespace("kill")
                    .partitions(PARTITIONS)
                    .ttl(TTL)
                    .replicas(1)
                    .relayInterval(Duration.ofMillis(50))
                    .consumerSettings(
                        new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256))
                    .agent("counter", ClusterNodeTest.counter())
                    .start()) {
          PlacementTest.eventually(
              "the partitions split between child and survivor",
              () -> {
                int mine = survivor.placement().held().size();
                if (mine == 0 || mine == PARTITIONS) {
                  return false;
                }
                for (int p = 0; p < PARTITIONS; p++) {
                  if (db.leases().holder(p).isEmpty()) {
                    return false;
                  }
                }
                return true;
              });
          List<AgentId> counters = new ArrayList<>();
          for (int k = 0; k < 20; k++) {
            counters.add(AgentId.of("counter", "k" + k));
          }
          List<Long> ids = new ArrayList<>();
          for (int i = 0; i < MESSAGES; i++) {
            ids.add(survivor.send(counters.get(i % counters.size()), "m" + i));
          }

          assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("the child died").isTrue();
          long died = System.nanoTime();
          assertThat(child.exitValue()).as("killed by SIGKILL (128 + 9)").isEqualTo(137);
          PlacementTest.eventually(
              "the survivor holds every partition",
              () -> survivor.placement().held().size() == PARTITIONS);
          Duration takeover = Duration.ofNanos(System.nanoTime() - died);
          System.out.println("takeover after SIGKILL: " + takeover.toMillis() + " ms");
          assertThat(takeover)
              .as("takeover within TTL + 5 s")
              .isLessThanOrEqualTo(TTL.plusSeconds(5));

          PlacementTest.eventually(
              "every message counted",
              () ->
                  counters.stream().mapToLong(c -> ClusterNodeTest.count(db, c)).sum() == MESSAGES);
          for (int i = 0; i < MESSAGES; i++) {
            long id = ids.get(i);
            assertThat(db.isAcknowledged(id)).as("message %d acknowledged", id).isTrue();
            assertThat(db.state(counters.get(i % counters.size()), "seen-" + id)).contains("m" + i);
          }
          assertThat(counters.stream().mapToLong(c -> ClusterNodeTest.count(db, c)).sum())
              .as("each effect once")
              .isEqualTo(MESSAGES);
          assertThat(survivor.placement().takeovers())
              .as("the survivor took the child's partitions")
              .isGreaterThan(survivor.placement().held().size() / 2);
        }
      } finally {
        child.destroyForcibly();
      }
    }
  }
}
