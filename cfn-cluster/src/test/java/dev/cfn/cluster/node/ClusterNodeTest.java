package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cluster nodes on the tests' own PostgreSQL and one JetStream server: every message handled once
 * across nodes, handlers' sends through the outbox, and the reconciler putting back a message the
 * stream lost.
 */
class ClusterNodeTest {
  static final int PARTITIONS = 8;
  @RegisterExtension final SharedNats shared = new SharedNats("n");

  /** Counts its messages and marks each: "n" once per message, "seen-ID" its mark. */
  static ClusterAgent counter() {
    return (m, fx) -> {
      fx.increment("n", 1);
      fx.put("seen-" + m.id(), m.payload().toString());
    };
  }

  /** Forwards each message to counter/KEY, KEY its payload: through the outbox. */
  static ClusterAgent forwarder() {
    return (m, fx) -> fx.send(AgentId.of("counter", m.payload().toString()), "via-" + m.id());
  }

  private PgJournal journal(String url) {
    PgJournal j = PgJournal.builder(url).open();
    shared.closeLater(j);
    return j;
  }

  private PgJournal reader(String url) {
    PgJournal j = PgJournal.builder(url).stateCacheKeys(0).open();
    shared.closeLater(j);
    return j;
  }

  private ClusterNode node(PgJournal journal, String ns, String id) throws Exception {
    ClusterNode n =
        ClusterNode.builder(journal, shared.connection(), id)
            .namespace(ns)
            .partitions(PARTITIONS)
            .ttl(Duration.ofSeconds(2))
            .replicas(1)
            .relayInterval(Duration.ofMillis(50))
            .consumerSettings(new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256))
            .agent("counter", counter())
            .agent("forwarder", forwarder())
            .start();
    shared.closeLater(n);
    return n;
  }

  static long count(PgJournal journal, AgentId agent) {
    return journal.state(agent, "n").map(Long::parseLong).orElse(0L);
  }

  @Test
  void twoNodesHandleEveryMessageOnceAndHandlersSendThroughTheOutbox() throws Exception {
    String url = TestDatabase.newSchema("node");
    String ns = shared.namespace();
    PgJournal ja = journal(url);
    PgJournal jb = journal(url);
    ClusterNode a = node(ja, ns, "a");
    ClusterNode b = node(jb, ns, "b");
    // a node's state cache follows its own partitions' commits: read the others' in the database
    PgJournal db = reader(url);
    PlacementTest.eventually(
        "both nodes hold partitions",
        () ->
            !a.placement().held().isEmpty()
                && !b.placement().held().isEmpty()
                && a.placement().held().size() + b.placement().held().size() == PARTITIONS);

    List<AgentId> counters = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      counters.add(AgentId.of("counter", "c" + k));
    }
    List<Long> direct = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ClusterNode via = i % 2 == 0 ? a : b;
      direct.add(via.send(counters.get(i % counters.size()), "m" + i));
    }
    for (int i = 0; i < 20; i++) {
      a.send(AgentId.of("forwarder", "f" + i), "c" + (i % counters.size()));
    }
    PlacementTest.eventually(
        "120 counted", () -> counters.stream().mapToLong(c -> count(db, c)).sum() == 120);
    for (int i = 0; i < direct.size(); i++) {
      assertThat(db.isAcknowledged(direct.get(i))).isTrue();
      assertThat(db.state(counters.get(i % counters.size()), "seen-" + direct.get(i)))
          .contains("m" + i);
    }
    assertThat(a.handledCount() + b.handledCount())
        .as("120 counted, 20 forwarded, each handled once")
        .isEqualTo(140);
    assertThat(a.handledCount()).as("a handled its share").isPositive();
    assertThat(b.handledCount()).as("b handled its share").isPositive();
    PlacementTest.eventually(
        "nothing pending", () -> ja.outbox().unpublished(List.of(), true, 10).isEmpty());
  }

  @Test
  void aMessageDeletedFromTheStreamAfterItsOutboxRowTakesEffectOnceThroughTheReconciler()
      throws Exception {
    String url = TestDatabase.newSchema("reconcile");
    String ns = shared.namespace();
    PgJournal journal = journal(url);
    ReliableStream stream =
        ReliableStream.ensure(
            shared.connection(), Subjects.of(ns), 1, ReliableStream.DEFAULT_DUPLICATE_WINDOW, -1);
    ReliablePublisher publisher =
        new ReliablePublisher(shared.connection(), stream, new Partitioner(PARTITIONS));
    OutboxRelay relay = new OutboxRelay(journal.outbox(), publisher, shared.connection(), stream);
    long first = journal.nextIdBlock();
    AgentId target = AgentId.of("counter", "lost");
    Envelope lost = envelope(first, target, "lost");
    Envelope kept = envelope(first + 1, target, "kept");
    journal.append(lost);
    journal.append(kept);
    assertThat(relay.publishNow(List.of(lost, kept))).isEqualTo(2);

    var jsm = shared.connection().jetStreamManagement();
    long lostSeq =
        journal.outbox().publishedOlderThan(Duration.ZERO, 10).stream()
            .filter(m -> m.envelope().id() == lost.id())
            .findFirst()
            .orElseThrow()
            .streamSequence();
    assertThat(jsm.deleteMessage(stream.name(), lostSeq)).isTrue(); // JetStream "lost" it
    assertThat(jsm.getStreamInfo(stream.name()).getStreamState().getMsgCount()).isEqualTo(1);

    // the reconciler republishes the lost one only (inside the duplicate window: a new msg id)
    AtomicInteger republished = new AtomicInteger();
    PlacementTest.eventually(
        "the reconciler found the loss",
        () -> {
          try {
            republished.addAndGet(relay.reconcile(Duration.ofMillis(1)));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return republished.get() > 0;
        });
    assertThat(republished.get()).isEqualTo(1);
    assertThat(jsm.getStreamInfo(stream.name()).getStreamState().getMsgCount()).isEqualTo(2);
    assertThat(relay.reconcile(Duration.ofMillis(1))).as("nothing more is lost").isZero();

    ClusterNode node = node(journal, ns, "solo");
    PlacementTest.eventually("both counted", () -> count(journal, target) == 2);
    assertThat(journal.state(target, "seen-" + lost.id())).contains("lost");

    // a copy beyond the duplicate window (a new msg id, as after 2 minutes): skipped, not applied
    publisher.publish(
        target, "late-copy", Long.toString(lost.id()).getBytes(StandardCharsets.US_ASCII));
    PlacementTest.eventually("the copy was skipped", () -> node.skippedCount() >= 1);
    assertThat(count(journal, target)).as("each effect once").isEqualTo(2);
    assertThat(node.handledCount()).isEqualTo(2);
    assertThat(journal.isAcknowledged(lost.id())).isTrue();
    assertThat(journal.outbox().pending(lost.id())).isEqualTo(Optional.empty());
  }

  /**
   * Issue 15's stuck sends: the stream loses messages whose outbox rows are marked published, then
   * gives their sequences to later messages (what a replica that lost its tail does when it leads;
   * made here by recreating the stream). The reconciler must not take "something is stored at that
   * sequence" for "this message is waiting": it compares the stored message's id, republishes the
   * lost ones, and each takes effect once.
   */
  @Test
  void aMessageWhoseStreamSequenceWasReusedByAnotherIsRepublishedByTheReconciler()
      throws Exception {
    String url = TestDatabase.newSchema("reused");
    String ns = shared.namespace();
    PgJournal journal = journal(url);
    Subjects subjects = Subjects.of(ns);
    ReliableStream stream =
        ReliableStream.ensure(
            shared.connection(), subjects, 1, ReliableStream.DEFAULT_DUPLICATE_WINDOW, -1);
    ReliablePublisher publisher =
        new ReliablePublisher(shared.connection(), stream, new Partitioner(PARTITIONS));
    OutboxRelay relay = new OutboxRelay(journal.outbox(), publisher, shared.connection(), stream);
    long first = journal.nextIdBlock();
    AgentId target = AgentId.of("counter", "reused");
    List<Envelope> lost = List.of(envelope(first, target, "a"), envelope(first + 1, target, "b"));
    List<Envelope> later =
        List.of(envelope(first + 2, target, "c"), envelope(first + 3, target, "d"));
    for (Envelope e : lost) {
      journal.append(e);
    }
    assertThat(relay.publishNow(lost)).isEqualTo(2);
    Map<Long, Long> lostAt = sequences(journal);

    var jsm = shared.connection().jetStreamManagement();
    assertThat(jsm.deleteStream(stream.name())).isTrue(); // JetStream lost everything it held
    ReliableStream.ensure(
        shared.connection(), subjects, 1, ReliableStream.DEFAULT_DUPLICATE_WINDOW, -1);
    for (Envelope e : later) {
      journal.append(e);
    }
    assertThat(relay.publishNow(later)).isEqualTo(2);
    Map<Long, Long> at = sequences(journal);
    assertThat(List.of(at.get(later.get(0).id()), at.get(later.get(1).id())))
        .as("the later messages were given the lost ones' sequences")
        .containsExactly(lostAt.get(lost.get(0).id()), lostAt.get(lost.get(1).id()));

    AtomicInteger republished = new AtomicInteger();
    PlacementTest.eventually(
        "the reconciler found the two lost messages",
        () -> {
          try {
            republished.addAndGet(relay.reconcile(Duration.ofMillis(1)));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return republished.get() >= 2;
        });
    assertThat(republished.get()).as("the two lost ones only").isEqualTo(2);
    assertThat(jsm.getStreamInfo(stream.name()).getStreamState().getMsgCount()).isEqualTo(4);

    ClusterNode node = node(journal, ns, "solo");
    PlacementTest.eventually("all four counted", () -> count(journal, target) == 4);
    for (Envelope e : lost) {
      assertThat(journal.state(target, "seen-" + e.id())).contains(e.payload().toString());
      assertThat(journal.isAcknowledged(e.id())).isTrue();
    }
    PlacementTest.eventually(
        "nothing pending", () -> journal.outbox().publishedOlderThan(Duration.ZERO, 10).isEmpty());
    assertThat(count(journal, target)).as("each effect once").isEqualTo(4);
    assertThat(node.handledCount()).isEqualTo(4);
  }

  /** Pending message id to the stream sequence its outbox row is marked with. */
  private static Map<Long, Long> sequences(PgJournal journal) {
    Map<Long, Long> out = new java.util.HashMap<>();
    for (var m : journal.outbox().publishedOlderThan(Duration.ofMillis(-60_000), 100)) {
      out.put(m.envelope().id(), m.streamSequence());
    }
    return out;
  }

  static Envelope envelope(long id, AgentId to, String payload) {
    return new Envelope(
        id,
        "text",
        AgentRuntime.EXTERNAL,
        to,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        payload,
        System.nanoTime());
  }
}
