package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.RetryPolicy;
import io.nats.client.Connection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The reliable transport against one JetStream server of the test's own. */
class ReliableTransportTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static NatsCluster server;
  private static Connection connection;
  private static final AtomicInteger NAMESPACES = new AtomicInteger();
  private final List<PartitionConsumer> consumers = new ArrayList<>();

  @BeforeAll
  static void startServer() throws Exception {
    server = NatsCluster.startSingle();
    connection = server.connect();
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (connection != null) {
      connection.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @AfterEach
  void stopConsumers() throws InterruptedException {
    for (PartitionConsumer c : consumers) {
      c.close();
    }
  }

  private static ReliableStream freshStream() throws Exception {
    Subjects subjects = Subjects.of("t" + NAMESPACES.incrementAndGet());
    return ReliableStream.ensure(connection, subjects, 1, Duration.ofMinutes(2), -1);
  }

  private PartitionConsumer consume(
      ReliableStream stream,
      int partition,
      long epoch,
      RetryPolicy retry,
      ReliableHandler handler,
      DeadLetterSink sink)
      throws Exception {
    PartitionConsumer c =
        PartitionConsumer.start(
            connection,
            stream,
            partition,
            epoch,
            retry,
            handler,
            sink,
            new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256));
    consumers.add(c);
    return c;
  }

  private static long storedMessages(ReliableStream stream) {
    try {
      return connection
          .jetStreamManagement()
          .getStreamInfo(stream.name())
          .getStreamState()
          .getMsgCount();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final DeadLetterSink NO_DEAD_LETTERS =
      (m, cause) -> {
        throw new AssertionError("unexpected dead letter " + m.messageId(), cause);
      };

  @Test
  void publishedMessagesAreHandledInOrderPerAgentAndAckedAway() throws Exception {
    ReliableStream stream = freshStream();
    Partitioner partitioner = new Partitioner(4);
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, partitioner);
    Map<AgentId, List<Integer>> seen = new ConcurrentHashMap<>();
    for (int p = 0; p < 4; p++) {
      int partition = p;
      consume(
          stream,
          p,
          1,
          RetryPolicy.DEFAULT,
          m -> {
            assertThat(m.partition()).isEqualTo(partition);
            assertThat(partitioner.partition(m.target())).isEqualTo(partition);
            seen.computeIfAbsent(m.target(), k -> new CopyOnWriteArrayList<>())
                .add(Integer.parseInt(new String(m.body(), StandardCharsets.UTF_8)));
          },
          NO_DEAD_LETTERS);
    }
    List<AgentId> agents =
        List.of(
            AgentId.of("coder", "1"),
            AgentId.of("coder", "a.b*>"),
            AgentId.of("swarm.x", "_"),
            AgentId.of("reviewer", "~"),
            AgentId.of("r", "z".repeat(255)));
    for (int i = 0; i < 200; i++) {
      AgentId to = agents.get(i % agents.size());
      ReliablePublisher.Sent sent =
          publisher.publish(to, "m-" + i, Integer.toString(i).getBytes(StandardCharsets.UTF_8));
      assertThat(sent.duplicate()).isFalse();
    }
    Await.until(
        WAIT, "200 handled", () -> seen.values().stream().mapToInt(List::size).sum() == 200);
    for (int a = 0; a < agents.size(); a++) {
      List<Integer> expected = new ArrayList<>();
      for (int i = a; i < 200; i += agents.size()) {
        expected.add(i);
      }
      assertThat(seen.get(agents.get(a))).as("per-agent FIFO").isEqualTo(expected);
    }
    Await.until(WAIT, "stream emptied by the acks", () -> storedMessages(stream) == 0);
  }

  @Test
  void failedAttemptsFollowTheRetryPolicyThenDeadLetterAndTerm() throws Exception {
    ReliableStream stream = freshStream();
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, new Partitioner(1));
    RetryPolicy retry = new RetryPolicy(Duration.ofMillis(200), 2.0, Duration.ofSeconds(1), 4);
    List<Long> attemptsAt = new CopyOnWriteArrayList<>();
    List<Integer> attemptNumbers = new CopyOnWriteArrayList<>();
    List<ReliableMessage> dead = new CopyOnWriteArrayList<>();
    consume(
        stream,
        0,
        1,
        retry,
        m -> {
          attemptsAt.add(System.nanoTime());
          attemptNumbers.add(m.attempt());
          throw new IllegalStateException("handler fails, attempt " + m.attempt());
        },
        (m, cause) -> {
          assertThat(cause).hasMessageContaining("attempt 4");
          dead.add(m);
        });
    publisher.publish(AgentId.of("coder", "poison"), "poison-1", new byte[] {1});
    Await.until(WAIT, "dead-lettered", () -> dead.size() == 1);
    assertThat(attemptNumbers).containsExactly(1, 2, 3, 4);
    assertThat(dead.getFirst().messageId()).isEqualTo("poison-1");
    assertThat(dead.getFirst().attempt()).isEqualTo(4);
    // nakWithDelay(delay(n)): the gap after attempt n is at least half its base delay (full jitter)
    for (int n = 1; n < 4; n++) {
      long gap = attemptsAt.get(n) - attemptsAt.get(n - 1);
      assertThat(gap)
          .as("gap after attempt %d", n)
          .isGreaterThanOrEqualTo(
              retry.baseDelay(n).toNanos() / 2 - TimeUnit.MILLISECONDS.toNanos(5));
    }
    Await.until(WAIT, "term removed the message", () -> storedMessages(stream) == 0);
    assertThat(attemptNumbers).as("no delivery after term").hasSize(4);
  }

  @Test
  void aRetriedMessageSucceedsWithoutADeadLetter() throws Exception {
    ReliableStream stream = freshStream();
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, new Partitioner(1));
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    RetryPolicy retry = new RetryPolicy(Duration.ofMillis(50), 2.0, Duration.ofMillis(200), 5);
    consume(
        stream,
        0,
        1,
        retry,
        m -> {
          attempts.add(m.attempt());
          if (m.attempt() < 3) {
            throw new IllegalStateException("transient");
          }
        },
        NO_DEAD_LETTERS);
    publisher.publish(AgentId.of("coder", "flaky"), "flaky-1", new byte[0]);
    Await.until(WAIT, "stream emptied", () -> attempts.size() == 3 && storedMessages(stream) == 0);
    assertThat(attempts).containsExactly(1, 2, 3);
  }

  @Test
  void aRepublishedMessageIdIsStoredOnceInsideTheWindow() throws Exception {
    ReliableStream stream = freshStream();
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, new Partitioner(2));
    AgentId to = AgentId.of("coder", "1");
    ReliablePublisher.Sent first = publisher.publish(to, "same-id", new byte[] {1});
    ReliablePublisher.Sent again = publisher.publish(to, "same-id", new byte[] {1});
    ReliablePublisher.Sent other = publisher.publish(to, "other-id", new byte[] {2});
    assertThat(first.duplicate()).isFalse();
    assertThat(again.duplicate()).isTrue();
    assertThat(again.streamSequence()).isEqualTo(first.streamSequence());
    assertThat(other.duplicate()).isFalse();
    assertThat(storedMessages(stream)).isEqualTo(2);
    List<String> handled = new CopyOnWriteArrayList<>();
    int partition = new Partitioner(2).partition(to);
    consume(
        stream,
        partition,
        1,
        RetryPolicy.DEFAULT,
        m -> handled.add(m.messageId()),
        NO_DEAD_LETTERS);
    Await.until(WAIT, "both handled", () -> storedMessages(stream) == 0);
    assertThat(handled).containsExactly("same-id", "other-id");
  }

  @Test
  void aNewEpochTakesOverAndTheZombiesAckIsDropped() throws Exception {
    ReliableStream stream = freshStream();
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, new Partitioner(1));
    CountDownLatch zombieHolds = new CountDownLatch(1);
    CountDownLatch releaseZombie = new CountDownLatch(1);
    CountDownLatch zombieAcked = new CountDownLatch(1);
    PartitionConsumer zombie =
        consume(
            stream,
            0,
            1,
            RetryPolicy.DEFAULT,
            m -> {
              zombieHolds.countDown();
              releaseZombie.await(30, TimeUnit.SECONDS);
              zombieAcked.countDown(); // returning normally makes the consumer ack
            },
            NO_DEAD_LETTERS);
    publisher.publish(AgentId.of("coder", "1"), "held-1", new byte[0]);
    assertThat(zombieHolds.await(30, TimeUnit.SECONDS)).isTrue();

    // the successor takes the partition at epoch 2 while the zombie still holds the message
    CountDownLatch successorHolds = new CountDownLatch(1);
    CountDownLatch releaseSuccessor = new CountDownLatch(1);
    List<ReliableMessage> successorSaw = new CopyOnWriteArrayList<>();
    consume(
        stream,
        0,
        2,
        RetryPolicy.DEFAULT,
        m -> {
          successorSaw.add(m);
          successorHolds.countDown();
          releaseSuccessor.await(30, TimeUnit.SECONDS);
        },
        NO_DEAD_LETTERS);
    assertThat(successorHolds.await(30, TimeUnit.SECONDS)).as("redelivered to epoch 2").isTrue();
    assertThat(successorSaw.getFirst().epoch()).isEqualTo(2);
    assertThat(connection.jetStreamManagement().getConsumerNames(stream.name()))
        .containsExactly("p0-e2");

    releaseZombie.countDown();
    assertThat(zombieAcked.await(30, TimeUnit.SECONDS)).isTrue();
    zombie.close();
    consumers.remove(zombie);
    // the zombie's ack named the deleted consumer p0-e1: the message is still in the stream
    connection.flush(Duration.ofSeconds(5));
    assertThat(storedMessages(stream)).isEqualTo(1);

    // and the zombie cannot come back at its old epoch
    assertThatThrownBy(
            () ->
                PartitionConsumer.start(
                    connection,
                    stream,
                    0,
                    1,
                    RetryPolicy.DEFAULT,
                    m -> {},
                    NO_DEAD_LETTERS,
                    PartitionConsumer.Settings.DEFAULT))
        .isInstanceOf(PartitionConsumer.SupersededException.class)
        .hasMessageContaining("epoch 2");

    releaseSuccessor.countDown();
    Await.until(WAIT, "successor's ack removed it", () -> storedMessages(stream) == 0);
    assertThat(successorSaw).hasSize(1);
  }

  @Test
  void priorAttemptsContinueTheCountAndUsedUpOnesDeadLetterWithoutRunningTheHandler()
      throws Exception {
    ReliableStream stream = freshStream();
    Partitioner partitioner = new Partitioner(1);
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, partitioner);
    RetryPolicy retry = new RetryPolicy(Duration.ofMillis(10), 1.0, Duration.ofMillis(10), 3);
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    Map<String, Integer> deadAt = new ConcurrentHashMap<>();
    CountDownLatch dead = new CountDownLatch(2);
    PartitionConsumer c =
        PartitionConsumer.start(
            connection,
            stream,
            0,
            1,
            retry,
            m -> {
              attempts.add(m.attempt());
              throw new IllegalStateException("fails");
            },
            (m, cause) -> {
              deadAt.put(m.messageId(), m.attempt());
              dead.countDown();
            },
            // as a store would say after an earlier owner's failures: "one" failed once before,
            // "used" used up its attempts (that owner died before dead-lettering it)
            m -> m.messageId().equals("one") ? 1 : 5,
            new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256));
    consumers.add(c);
    publisher.publish(AgentId.of("a", "1"), "one", "x".getBytes(StandardCharsets.UTF_8));
    publisher.publish(AgentId.of("a", "1"), "used", "y".getBytes(StandardCharsets.UTF_8));
    assertThat(dead.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(attempts)
        .as("'one' ran attempts 2 and 3 only; 'used' never ran")
        .containsExactly(2, 3);
    assertThat(deadAt).containsEntry("one", 3).containsEntry("used", 6);
  }

  /**
   * Under continuous load (a consumer never idle) the skipped-message check still runs, every
   * skippedCheckEvery, and leaves a healthy consumer alone: no recreation, so no message is
   * delivered twice. (The skipped state itself, stored messages a consumer counts as delivered,
   * cannot be made on demand: nats-server 2.9 left it after stream-leader kills, and a work-queue
   * consumer must deliver all, so it cannot be created past stored messages.)
   */
  @Test
  void theSkippedCheckRunsUnderContinuousLoadAndLeavesAHealthyConsumerAlone() throws Exception {
    ReliableStream stream = freshStream();
    ReliablePublisher publisher = new ReliablePublisher(connection, stream, new Partitioner(1));
    AgentId to = AgentId.of("coder", "1");
    Map<String, Integer> handled = new ConcurrentHashMap<>();
    PartitionConsumer c =
        PartitionConsumer.start(
            connection,
            stream,
            0,
            1,
            RetryPolicy.DEFAULT,
            m -> handled.merge(m.messageId(), 1, Integer::sum),
            NO_DEAD_LETTERS,
            new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256)
                .withSkippedCheckEvery(Duration.ofSeconds(1)));
    consumers.add(c);
    // a message every 20 ms: a fetch (up to 500 ms) never comes back empty, so the consumer is
    // never idle and the idle check never runs while the load lasts
    AtomicBoolean loading = new AtomicBoolean(true);
    AtomicInteger sent = new AtomicInteger();
    Thread load =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (loading.get()) {
                    try {
                      publisher.publish(to, "load-" + sent.get(), new byte[] {1});
                      sent.incrementAndGet();
                      Thread.sleep(20);
                    } catch (Exception e) {
                      return;
                    }
                  }
                });
    try {
      Await.until(WAIT, "three checks under load", () -> c.loadChecks() >= 3 || !load.isAlive());
      assertThat(load.isAlive()).as("the load still runs").isTrue();
    } finally {
      loading.set(false);
      load.join();
    }
    int total = sent.get();
    Await.until(WAIT, "every message handled", () -> handled.size() == total);
    assertThat(handled.values()).as("each handled once: nothing recreated").containsOnly(1);
    assertThat(c.idleChecks()).as("never idle while the load ran").isZero();
    Await.until(WAIT, "acked away", () -> storedMessages(stream) == 0);
  }
}
