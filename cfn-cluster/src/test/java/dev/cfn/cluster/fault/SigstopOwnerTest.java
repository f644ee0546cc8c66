package dev.cfn.cluster.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.nats.NatsServers;
import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.PgServers;
import io.nats.client.Connection;
import io.nats.client.api.ConsumerInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * SIGSTOP of a partition's owner past its lease TTL, then SIGCONT. A child JVM (node A) takes the
 * lease of the partition of agent {@code counter/1}, consumes its JetStream consumer of that epoch
 * and commits each message through {@code journal.under(lease)}; it stops before committing message
 * 50 (a known point) and the test SIGSTOPs it there. Once its lease has lapsed, node B (this JVM)
 * takes the partition at epoch + 1, which deletes A's consumer, and handles every message. Then A
 * is resumed (SIGCONT) and let go: its commit of message 50 is refused by the epoch check, the
 * consumer it would ack to is gone, and B's consumer saw no redelivery. Every message's effect
 * exists exactly once.
 */
class SigstopOwnerTest {
  private static final int MESSAGES = 200;
  private static final long HOLD_AT = 50;
  private static final Duration TTL = Duration.ofSeconds(5);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void aPausedOwnersCommitsAreRefusedAndItsAcksGoNowhere() throws Exception {
    String url = PgServers.newSchema("sigstop");
    String ns = "stop" + ProcessHandle.current().pid();
    Subjects subjects = Subjects.of(ns);
    Partitioner partitioner = new Partitioner(8);
    int partition = partitioner.partition(OwnerNode.COUNTER);
    String counter = OwnerNode.COUNTER.toString();
    try (NatsServers nats = NatsServers.startSingle();
        Connection connection = nats.connect();
        PgJournal journal = PgJournal.builder(url).open()) {
      ReliableStream stream =
          ReliableStream.ensure(connection, subjects, 1, Duration.ofMinutes(2), -1);
      ReliablePublisher publisher = new ReliablePublisher(connection, stream, partitioner);
      for (int i = 1; i <= MESSAGES; i++) {
        publisher.publish(
            OwnerNode.COUNTER, Integer.toString(i), ("m" + i).getBytes(StandardCharsets.UTF_8));
      }
      try (Child a =
          Child.start(
              List.of(),
              url,
              "nats://127.0.0.1:" + nats.clientPort(0),
              ns,
              Integer.toString(partition),
              "node-a",
              Long.toString(TTL.toMillis()),
              Long.toString(HOLD_AT),
              "5")) {
        long epochA =
            Long.parseLong(
                a.await(l -> l.startsWith("ACQUIRED "), WAIT, "its lease").split(" ")[2]);
        a.await(l -> l.equals("HOLDING " + HOLD_AT), WAIT, "holding message " + HOLD_AT);
        a.signal("STOP");

        // A is paused: no renewal; its lease lapses by the database's clock
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (journal.leases().holder(partition).isPresent()) {
          assertThat(System.nanoTime()).as("A's lease lapsed").isLessThan(deadline);
          Thread.sleep(50);
        }
        List<String> bLines = new CopyOnWriteArrayList<>();
        try (OwnerNode b =
            OwnerNode.inThisJvm(
                journal, connection, stream, partition, "node-b", TTL, bLines::add)) {
          assertThat(b.start(WAIT).epoch()).as("B takes over at epoch + 1").isEqualTo(epochA + 1);
          awaitCount(journal, counter, MESSAGES);

          a.signal("CONT");
          a.send("go");
          a.await(
              l -> l.equals("REJECTED " + HOLD_AT + " " + epochA),
              WAIT,
              "its commit of " + HOLD_AT + " refused");
          a.await(
              l -> l.equals("CONSUMER_GONE " + PartitionConsumer.consumerName(partition, epochA)),
              WAIT,
              "its consumer gone");
          a.await(l -> l.equals("LEASE_LOST " + epochA), WAIT, "its renewal refused");
          assertThat(a.awaitExit(WAIT)).isZero();

          List<String> aLines = a.lines();
          List<Long> committedByA =
              aLines.stream()
                  .filter(l -> l.startsWith("COMMITTED "))
                  .map(l -> Long.parseLong(l.split(" ")[1]))
                  .toList();
          assertThat(committedByA)
              .as("A committed what came before the pause, nothing after")
              .allMatch(id -> id < HOLD_AT)
              .hasSize((int) HOLD_AT - 1);
          assertThat(aLines)
              .as("every commit A attempted after the pause was refused")
              .filteredOn(l -> l.startsWith("REJECTED "))
              .allMatch(l -> l.endsWith(" " + epochA))
              .isNotEmpty();

          // exactly once: the counter, and one mark per message naming who committed it
          assertThat(journal.state(counter, "n")).contains(Integer.toString(MESSAGES));
          SortedMap<String, String> marks = journal.stateByPrefix(counter, "seen-", 10_000);
          assertThat(marks).hasSize(MESSAGES);
          for (Map.Entry<String, String> mark : marks.entrySet()) {
            long id = Long.parseLong(mark.getKey().substring("seen-".length()));
            assertThat(mark.getValue())
                .as("mark of " + id)
                .isEqualTo(id < HOLD_AT ? "node-a@" + epochA : "node-b@" + (epochA + 1));
          }
          assertThat(bLines).filteredOn(l -> l.startsWith("REJECTED ")).isEmpty();
          assertThat(bLines).filteredOn(l -> l.startsWith("COMMITTED ")).hasSize(MESSAGES - 49);

          // JetStream: only B's consumer exists, it saw every message once and acked it away
          var jsm = connection.jetStreamManagement();
          assertThat(jsm.getConsumerNames(stream.name()))
              .containsExactly(PartitionConsumer.consumerName(partition, epochA + 1));
          ConsumerInfo info =
              jsm.getConsumerInfo(
                  stream.name(), PartitionConsumer.consumerName(partition, epochA + 1));
          assertThat(info.getRedelivered()).as("A's naks redelivered nothing").isZero();
          assertThat(info.getNumAckPending()).isZero();
          assertThat(jsm.getStreamInfo(stream.name()).getStreamState().getMsgCount())
              .as("every message acked away")
              .isZero();
        }
      }
    }
  }

  static void awaitCount(PgJournal journal, String counter, int expected) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!journal.state(counter, "n").equals(java.util.Optional.of(Integer.toString(expected)))) {
      assertThat(System.nanoTime())
          .as("counter reaches " + expected + ", is " + journal.state(counter, "n"))
          .isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
