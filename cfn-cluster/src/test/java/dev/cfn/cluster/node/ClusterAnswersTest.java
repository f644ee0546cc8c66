package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.pg.PgAnswers;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABLE requests from outside the cluster ({@link ClusterNode#ask}): the reply of the handler,
 * on whichever node holds the agent, is stored in PostgreSQL with its acknowledgement and reaches
 * the asking node ({@link ClusterNode#answer}); any node reads it afterwards ({@link
 * ClusterNode#answerOf}); a request left unanswered times out; the first reply to a request is
 * kept; an idempotency key makes a repeated ask or send the first one.
 */
class ClusterAnswersTest {
  static final int PARTITIONS = 8;
  static final Duration WAIT = Duration.ofSeconds(120);
  @RegisterExtension final SharedNats shared = new SharedNats("answers");

  /** Replies "re:PAYLOAD@NODE", twice to "twice", never to "silent"; counts its messages. */
  static void answer(Envelope m, ClusterEffects effects) {
    effects.increment("n", 1);
    String body = String.valueOf(m.payload());
    if (body.equals("silent") || !m.isRequest()) {
      return;
    }
    effects.reply(m, "re:" + body + "@" + effects.node());
    if (body.equals("twice")) {
      effects.reply(m, "second");
    }
  }

  private ClusterNode node(String url, String ns, String id) throws Exception {
    PgJournal journal = shared.closeLater(PgJournal.builder(url).open());
    return shared.closeLater(
        ClusterNode.builder(journal, shared.connect(), id)
            .namespace(ns)
            .partitions(PARTITIONS)
            .ttl(Duration.ofSeconds(2))
            .replicas(1)
            .relayInterval(Duration.ofMillis(50))
            .consumerSettings(new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256))
            .agent("answerer", ClusterAnswersTest::answer)
            .start());
  }

  /**
   * Waits until both nodes are live and each partition is held by its rendezvous owner among them,
   * some by each: the placement then stays as it is while both live.
   */
  static void settled(PgJournal db, ClusterNode a, ClusterNode b) throws Exception {
    PlacementTest.eventually(
        "both nodes live, each partition held by its owner among them, some by each",
        () -> {
          List<String> live = a.placement().liveNodes();
          if (live.size() != 2 || b.placement().liveNodes().size() != 2) {
            return false;
          }
          for (int p = 0; p < PARTITIONS; p++) {
            String owner = Rendezvous.owner(p, live);
            ClusterNode holder = owner.equals(a.placement().node()) ? a : b;
            if (!db.leases().holder(p).map(l -> l.owner().equals(owner)).orElse(false)
                || !holder.placement().held().containsKey(p)) {
              return false;
            }
          }
          return !a.placement().held().isEmpty() && !b.placement().held().isEmpty();
        });
  }

  /** Keys of answerer agents whose partitions {@code node} holds, {@code n} of them. */
  private static List<String> keysHeldBy(ClusterNode node, int n) {
    Partitioner partitioner = new Partitioner(PARTITIONS);
    List<String> keys = new ArrayList<>();
    for (int i = 0; keys.size() < n; i++) {
      if (node.placement()
          .held()
          .containsKey(partitioner.partition(AgentId.of("answerer", node.node() + i)))) {
        keys.add(node.node() + i);
      }
    }
    return keys;
  }

  @Test
  void answersReachTheAskingNodeWhicheverNodeHandledTheRequest() throws Exception {
    String url = TestDatabase.newSchema("answers");
    String ns = shared.namespace();
    ClusterNode a = node(url, ns, "a");
    ClusterNode b = node(url, ns, "b");
    PgJournal db = shared.closeLater(PgJournal.builder(url).stateCacheKeys(0).open());
    settled(db, a, b);
    Map<String, String> expected = new LinkedHashMap<>();
    for (String key : keysHeldBy(a, 3)) {
      expected.put(key, "a");
    }
    for (String key : keysHeldBy(b, 3)) {
      expected.put(key, "b");
    }
    Map<Long, String> asked = new LinkedHashMap<>();
    for (String key : expected.keySet()) {
      long id = a.ask(AgentId.of("answerer", key), "q-" + key, null);
      assertThat(db.outbox().pending(id).isPresent() || db.isAcknowledged(id))
          .as("request %s stored when ask returns", id)
          .isTrue();
      asked.put(id, key);
    }
    for (Map.Entry<Long, String> e : asked.entrySet()) {
      String key = e.getValue();
      Envelope answer = a.answer(e.getKey(), WAIT).get(WAIT.toSeconds() + 10, TimeUnit.SECONDS);
      // the partitions do not move while both nodes live, so the holder is the one found above
      assertThat(answer.payload()).isEqualTo("re:q-" + key + "@" + expected.get(key));
      assertThat(answer.sender()).isEqualTo(AgentId.of("answerer", key));
      assertThat(answer.correlationId()).isEqualTo(e.getKey());
      assertThat(db.outbox().pending(answer.id())).as("an answer is not sent").isEmpty();
      assertThat(b.answerOf(e.getKey())).as("read on another node").contains(answer);
      assertThat(b.answer(e.getKey(), Duration.ZERO).get(60, TimeUnit.SECONDS)).isEqualTo(answer);
      assertThat(a.pendingRequest(e.getKey())).isEmpty();
    }
    PlacementTest.eventually(
        "each request handled once", () -> a.handledCount() + b.handledCount() == asked.size());

    String twiceKey = keysHeldBy(b, 1).getFirst();
    long twice = a.ask(AgentId.of("answerer", twiceKey), "twice", null);
    assertThat(a.answer(twice, WAIT).get(WAIT.toSeconds() + 10, TimeUnit.SECONDS).payload())
        .as("the first reply is kept")
        .isEqualTo("re:twice@b");

    long silent = a.ask(AgentId.of("answerer", twiceKey), "silent", null);
    assertThatThrownBy(() -> a.answer(silent, Duration.ofMillis(300)).get(60, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
    PlacementTest.eventually("the silent request handled", () -> db.isAcknowledged(silent));
    assertThat(a.answerOf(silent)).isEmpty();
    assertThat(a.pendingRequest(silent)).isEmpty();
    long sent = a.send(AgentId.of("answerer", twiceKey), "not a request");
    assertThat(a.pendingRequest(sent)).as("only requests from outside").isEmpty();
  }

  @Test
  void anIdempotencyKeyMakesARepeatedAskOrSendTheFirstOne() throws Exception {
    String url = TestDatabase.newSchema("answerskeys");
    String ns = shared.namespace();
    ClusterNode a = node(url, ns, "a");
    ClusterNode b = node(url, ns, "b");
    PlacementTest.eventually(
        "every partition held",
        () -> a.placement().held().size() + b.placement().held().size() == PARTITIONS);
    PgJournal db = shared.closeLater(PgJournal.builder(url).stateCacheKeys(0).open());
    AgentId to = AgentId.of("answerer", "keyed");
    long first = a.ask(to, "once", "request-1");
    long again = b.ask(to, "once", "request-1");
    assertThat(again).as("the same request, asked on another node").isEqualTo(first);
    assertThat(b.answer(again, WAIT).get(WAIT.toSeconds() + 10, TimeUnit.SECONDS).payload())
        .asString()
        .startsWith("re:once@");
    long sentFirst = b.send(to, "counted", "send-1");
    assertThat(a.send(to, "counted", "send-1")).isEqualTo(sentFirst);
    PlacementTest.eventually("the send handled", () -> db.isAcknowledged(sentFirst));
    PlacementTest.eventually(
        "two messages handled, one of each", () -> a.handledCount() + b.handledCount() == 2);
    assertThat(db.state(to, "n")).contains("2");
    assertThatThrownBy(() -> a.send(to, "x", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idempotency key");
    assertThatThrownBy(
            () ->
                ClusterNode.builder(db, shared.connect(), "c")
                    .agent(PgAnswers.CALLER_TYPE, ClusterAnswersTest::answer))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reserved");
  }
}
