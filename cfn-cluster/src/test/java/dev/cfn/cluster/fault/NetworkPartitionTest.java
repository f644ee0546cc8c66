package dev.cfn.cluster.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.cluster.harness.Netns;
import dev.cfn.cluster.harness.TcpProxy;
import dev.cfn.cluster.nats.NatsServers;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.PgServers;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A 15 s network partition of a partition's owner, made with {@code ip netns} and a veth pair. Node
 * A (a child JVM inside a namespace of the test's own, reaching PostgreSQL and NATS through the
 * veth link) owns the partition of {@code counter/1} with a 5 s lease and commits messages
 * published without pause. The test sets the link down: A can neither renew nor commit; its lease
 * lapses and node B (this JVM) takes the partition at epoch + 1 while A is still cut off (if A was
 * cut off inside a transaction, which holds its lease row, once the server ended that idle
 * transaction). After 15 s the link comes back: A's renewal is refused, its delayed writes meet the
 * epoch check, and the count of A's commits is the same as when B took over. Every published
 * message took effect exactly once.
 *
 * <p>Needs network namespaces (root, or {@code sudo -n}); where the kernel or the privileges do not
 * allow them the test is skipped and says why.
 */
class NetworkPartitionTest {
  private static final Duration TTL = Duration.ofSeconds(5);
  private static final Duration PARTITION = Duration.ofSeconds(15);
  private static final Duration WAIT = Duration.ofSeconds(90);

  @Test
  void anIsolatedOwnerCommitsNothingOnceItsLeaseIsGone() throws Exception {
    Optional<String> why = Netns.unavailable();
    assumeTrue(why.isEmpty(), () -> "network namespaces unavailable here: " + why.orElse(""));
    String url = PgServers.newSchema("netsplit");
    int pgPort = PgServers.port();
    String ns = "split" + ProcessHandle.current().pid();
    Partitioner partitioner = new Partitioner(8);
    int partition = partitioner.partition(OwnerNode.COUNTER);
    String counter = OwnerNode.COUNTER.toString();
    AtomicBoolean publishing = new AtomicBoolean(true);
    AtomicInteger published = new AtomicInteger();
    try (Netns net = Netns.create(0);
        NatsServers nats = NatsServers.startSingle();
        TcpProxy pgProxy = new TcpProxy(net.hostAddress(), pgPort);
        TcpProxy natsProxy = new TcpProxy(net.hostAddress(), nats.clientPort(0));
        io.nats.client.Connection connection = nats.connect();
        PgJournal journal = PgJournal.builder(url).stateCacheKeys(0).open()) {
      ReliableStream stream =
          ReliableStream.ensure(connection, Subjects.of(ns), 1, Duration.ofMinutes(2), -1);
      ReliablePublisher publisher = new ReliablePublisher(connection, stream, partitioner);
      Thread producer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      while (publishing.get()) {
                        int id = published.get() + 1;
                        publisher.publish(
                            OwnerNode.COUNTER,
                            Integer.toString(id),
                            ("m" + id).getBytes(StandardCharsets.UTF_8));
                        published.set(id);
                        Thread.sleep(5);
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
      String innerPgUrl =
          url.replace("127.0.0.1:" + pgPort + "/", net.hostAddress() + ":" + pgProxy.port() + "/");
      try (Child a =
          Child.start(
              net.exec(),
              innerPgUrl,
              "nats://" + net.hostAddress() + ":" + natsProxy.port(),
              ns,
              Integer.toString(partition),
              "node-a",
              Long.toString(TTL.toMillis()),
              "-1",
              "10")) {
        long epochA =
            Long.parseLong(
                a.await(l -> l.startsWith("ACQUIRED "), WAIT, "its lease").split(" ")[2]);
        awaitAtLeast(journal, counter, 50, a, () -> "");

        net.cut();
        long cutAt = System.nanoTime();
        List<String> bLines = new CopyOnWriteArrayList<>();
        try (OwnerNode b =
            OwnerNode.inThisJvm(
                journal, connection, stream, partition, "node-b", TTL, bLines::add)) {
          assertThat(b.start(WAIT).epoch()).as("B takes over at epoch + 1").isEqualTo(epochA + 1);
          long aAtTakeover = marksOf(url, counter, "node-a@" + epochA);
          // the cut lasts 15 s, and at least until B took over
          Thread.sleep(Math.max(0, PARTITION.toMillis() - (System.nanoTime() - cutAt) / 1_000_000));
          net.heal();

          a.await(l -> l.equals("LEASE_LOST " + epochA), WAIT, "its renewal refused");
          assertThat(a.awaitExit(WAIT)).isZero();
          publishing.set(false);
          producer.join(WAIT);
          int total = published.get();
          awaitAtLeast(journal, counter, total, a, () -> "B's last lines " + last(bLines));

          assertThat(marksOf(url, counter, "node-a@" + epochA))
              .as("A committed nothing after B took over")
              .isEqualTo(aAtTakeover);
          List<String> aLines = a.lines();
          long reportedByA = aLines.stream().filter(l -> l.startsWith("COMMITTED ")).count();
          assertThat(reportedByA)
              .as("every commit A saw succeed is stored")
              .isLessThanOrEqualTo(aAtTakeover);
          assertThat(aLines)
              .filteredOn(l -> l.startsWith("REJECTED "))
              .allMatch(l -> l.endsWith(" " + epochA));

          // exactly once
          assertThat(journal.state(counter, "n")).contains(Integer.toString(total));
          assertThat(
                  count(
                      url,
                      "SELECT count(*) FROM cfn_state WHERE namespace = ? AND key LIKE 'seen-%'",
                      counter))
              .as("one mark per message")
              .isEqualTo(total);
          assertThat(bLines).filteredOn(l -> l.startsWith("REJECTED ")).isEmpty();
        }
      } finally {
        publishing.set(false);
      }
    }
  }

  private static List<String> last(List<String> lines) {
    List<String> copy = List.copyOf(lines);
    return copy.subList(Math.max(0, copy.size() - 10), copy.size());
  }

  /** Marks per owner ("node@epoch"), read straight from cfn_state. */
  private static long marksOf(String url, String counter, String owner) throws Exception {
    return count(
        url,
        "SELECT count(*) FROM cfn_state WHERE namespace = ? AND key LIKE 'seen-%' AND value = ?",
        counter,
        owner);
  }

  private static long count(String url, String sql, String... args) throws Exception {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        s.setString(i + 1, args[i]);
      }
      try (ResultSet rows = s.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private static void awaitAtLeast(
      PgJournal journal,
      String counter,
      int expected,
      Child a,
      java.util.function.Supplier<String> more)
      throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (journal.state(counter, "n").map(Long::parseLong).orElse(0L) < expected) {
      assertThat(System.nanoTime())
          .as(
              () ->
                  "counter reaches "
                      + expected
                      + ", is "
                      + journal.state(counter, "n")
                      + "; A's last lines "
                      + a.lastLines()
                      + "; "
                      + more.get()
                      + "; A's log: "
                      + a.tail())
          .isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
