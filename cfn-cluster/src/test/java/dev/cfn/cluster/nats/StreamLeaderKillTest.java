package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.RetryPolicy;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * SIGKILL of the reliable stream's leader in a 3-node JetStream cluster while messages flow: every
 * message whose publish was acknowledged is handled, the stream stores no message twice (a publish
 * retried after the failover carries the same {@code Nats-Msg-Id}), and the only repeated
 * deliveries are redeliveries of the same stored message, which the store's dedup on the message id
 * absorbs. The counts are printed for the report.
 */
class StreamLeaderKillTest {

  private static final int MESSAGES = 3000;
  private static final int KILL_AFTER = 1000;
  private static final int PARTITIONS = 4;

  @Test
  void killingTheStreamLeaderLosesNothingAcknowledged() throws Exception {
    try (NatsCluster cluster = NatsCluster.startThree();
        Connection publishing = cluster.connect();
        Connection consuming = cluster.connect()) {
      Subjects subjects = Subjects.of("failover");
      ReliableStream stream =
          ReliableStream.ensure(publishing, subjects, 3, Duration.ofMinutes(2), -1);
      Partitioner partitioner = new Partitioner(PARTITIONS);
      ReliablePublisher publisher = new ReliablePublisher(publishing, stream, partitioner);

      Map<String, Set<Long>> sequencesById = new ConcurrentHashMap<>();
      Map<String, Integer> deliveriesById = new ConcurrentHashMap<>();
      Set<String> committed = ConcurrentHashMap.newKeySet();
      AtomicLong lastCommit = new AtomicLong(System.nanoTime());
      AtomicLong longestGap = new AtomicLong();
      ReliableHandler handler =
          m -> {
            deliveriesById.merge(m.messageId(), 1, Integer::sum);
            sequencesById
                .computeIfAbsent(m.messageId(), k -> ConcurrentHashMap.newKeySet())
                .add(m.streamSequence());
            if (committed.add(m.messageId())) { // the store's insert-on-conflict-do-nothing
              long now = System.nanoTime();
              long gap = now - lastCommit.getAndSet(now);
              longestGap.accumulateAndGet(gap, Math::max);
            }
          };
      List<PartitionConsumer> consumers = new ArrayList<>();
      PartitionConsumer.Settings settings =
          new PartitionConsumer.Settings(Duration.ofSeconds(5), 32, 512);
      for (int p = 0; p < PARTITIONS; p++) {
        consumers.add(
            PartitionConsumer.start(
                consuming,
                stream,
                p,
                1,
                RetryPolicy.DEFAULT,
                handler,
                (m, cause) -> {
                  throw new AssertionError("dead letter " + m.messageId(), cause);
                },
                settings));
      }

      Set<String> acked = ConcurrentHashMap.newKeySet();
      int retriedPublishes = 0;
      int duplicatePubAcks = 0;
      String killed = null;
      for (int i = 0; i < MESSAGES; i++) {
        if (i == KILL_AFTER) {
          killed = cluster.streamLeader(publishing, stream.name());
          cluster.kill(cluster.node(killed));
          lastCommit.set(System.nanoTime());
          longestGap.set(0); // measure the stall caused by the kill only
        }
        AgentId to = AgentId.of("worker", Integer.toString(i % 50));
        String id = "m-" + i;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
          try {
            ReliablePublisher.Sent sent = publisher.publish(to, id, new byte[64]);
            if (sent.duplicate()) {
              duplicatePubAcks++;
            }
            acked.add(id);
            break;
          } catch (IOException | JetStreamApiException | IllegalStateException e) {
            // no PubAck: the message may or may not be stored; publish it again, same id
            retriedPublishes++;
            assertThat(System.nanoTime())
                .as("publish of %s retried for 60 s: %s", id, e)
                .isLessThan(deadline);
            Thread.sleep(50);
          }
        }
      }
      String newLeader = cluster.streamLeader(publishing, stream.name());
      cluster.restart(cluster.node(killed));

      Await.until(
          Duration.ofSeconds(90),
          "every acknowledged message committed",
          () -> committed.containsAll(acked));
      Await.until(
          Duration.ofSeconds(90),
          "stream emptied by the acks",
          () -> {
            try {
              return publishing
                      .jetStreamManagement()
                      .getStreamInfo(stream.name())
                      .getStreamState()
                      .getMsgCount()
                  == 0;
            } catch (Exception e) {
              return false;
            }
          });
      for (PartitionConsumer c : consumers) {
        c.close();
      }

      Set<String> lost = new java.util.HashSet<>(acked);
      lost.removeAll(committed);
      long storedTwice = sequencesById.values().stream().filter(s -> s.size() > 1).count();
      long redeliveries = deliveriesById.values().stream().mapToLong(n -> n - 1).sum();
      System.out.printf(
          "stream leader kill: killed %s, new leader %s; %d acknowledged, %d lost, %d stored twice,"
              + " %d redeliveries (absorbed by dedup), %d publishes retried, %d duplicate PubAcks,"
              + " longest gap between commits after the kill %d ms%n",
          killed,
          newLeader,
          acked.size(),
          lost.size(),
          storedTwice,
          redeliveries,
          retriedPublishes,
          duplicatePubAcks,
          longestGap.get() / 1_000_000);
      assertThat(acked).hasSize(MESSAGES);
      assertThat(lost).as("acknowledged but never handled").isEmpty();
      assertThat(storedTwice).as("messages the stream stored twice").isZero();
      assertThat(deliveriesById.keySet())
          .as("nothing delivered that was not published")
          .allMatch(id -> id.startsWith("m-"));
      assertThat(newLeader).isNotEqualTo(killed);
    }
  }
}
