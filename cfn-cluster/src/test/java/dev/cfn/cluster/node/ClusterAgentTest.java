package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.cluster.nats.BestEffortTransport;
import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import dev.cfn.core.RetryPolicy;
import dev.cfn.core.TopicId;
import io.nats.client.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a {@link ClusterAgent} can do across nodes, on the tests' own PostgreSQL and JetStream
 * server, each node with a NATS connection of its own: RELIABLE request-reply, RELIABLE topic
 * publications fanned out to subscribed types (each subscriber once), best-effort request-reply
 * through {@link ClusterResponder}s, and attempts counted across owners of a partition.
 */
class ClusterAgentTest {
  static final int PARTITIONS = 8;
  @RegisterExtension final SharedNats shared = new SharedNats("ag");

  private ClusterNode node(
      String url, String ns, String id, UnaryOperator<ClusterNode.Builder> more) throws Exception {
    PgJournal journal = shared.closeLater(PgJournal.builder(url).open());
    Connection connection = shared.connect();
    return shared.closeLater(
        more.apply(
                ClusterNode.builder(journal, connection, id)
                    .namespace(ns)
                    .partitions(PARTITIONS)
                    .ttl(Duration.ofSeconds(2))
                    .replicas(1)
                    .relayInterval(Duration.ofMillis(50))
                    .consumerSettings(
                        new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256)))
            .start());
  }

  private static void split(ClusterNode a, ClusterNode b) throws InterruptedException {
    PlacementTest.eventually(
        "both nodes hold partitions, all of them",
        () ->
            !a.placement().held().isEmpty()
                && !b.placement().held().isEmpty()
                && a.placement().held().size() + b.placement().held().size() == PARTITIONS);
  }

  static long count(PgJournal journal, AgentId agent) {
    return journal.state(agent, "n").map(Long::parseLong).orElse(0L);
  }

  /** The agents of the RELIABLE test, the same on both nodes. */
  static ClusterNode.Builder reliableAgents(ClusterNode.Builder b) {
    return b.agent(
            "asker",
            (m, fx) -> {
              if (m.isReply()) {
                fx.put("answer", m.payload().toString());
                fx.increment("n", 1);
              } else {
                fx.request(AgentId.of("answerer", m.payload().toString()), "q-" + m.payload());
              }
            })
        .agent(
            "answerer",
            (m, fx) -> {
              fx.reply(m, "re:" + m.payload());
              fx.increment("n", 1);
            })
        .agent(
            "announcer",
            (m, fx) -> fx.publish(TopicId.of("news.sports", m.payload().toString()), "pub"))
        .agent(
            "fan",
            (m, fx) -> {
              fx.increment("n", 1);
              fx.put("topic", m.headers().get(ClusterNode.TOPIC_HEADER));
            })
        .agent("audit", (m, fx) -> fx.increment("n", 1))
        .subscribe("news.#", "fan")
        .subscribe("news.*", "audit")
        .subscribe("#", "audit"); // two patterns of one type: still one copy each
  }

  @Test
  void requestsRepliesAndTopicPublicationsAcrossNodesTakeEffectOnceEach() throws Exception {
    String url = TestDatabase.newSchema("agents");
    String ns = shared.namespace();
    ClusterNode a = node(url, ns, "a", ClusterAgentTest::reliableAgents);
    ClusterNode b = node(url, ns, "b", ClusterAgentTest::reliableAgents);
    split(a, b);
    PgJournal db = shared.closeLater(PgJournal.builder(url).stateCacheKeys(0).open());

    int n = 10;
    for (int i = 0; i < n; i++) {
      a.send(AgentId.of("asker", "a" + i), "k" + i); // a RELIABLE request to answerer/k<i>
      b.send(AgentId.of("announcer", "x" + i), "s" + i); // publishes on news.sports@s<i>
    }
    a.publish(TopicId.of("news.weather.today", "w"), "from outside"); // fan and audit ("#")
    b.publish(TopicId.of("misc", "z"), "from outside"); // audit only ("#")

    PlacementTest.eventually(
        "every reply and every copy handled",
        () -> {
          long total = 0;
          for (int i = 0; i < n; i++) {
            total += count(db, AgentId.of("asker", "a" + i));
            total += count(db, AgentId.of("fan", "s" + i));
            total += count(db, AgentId.of("audit", "s" + i));
          }
          total += count(db, AgentId.of("fan", "w")) + count(db, AgentId.of("audit", "w"));
          return total + count(db, AgentId.of("audit", "z")) == 3L * n + 3;
        });
    for (int i = 0; i < n; i++) {
      assertThat(db.state(AgentId.of("asker", "a" + i), "answer")).contains("re:q-k" + i);
      assertThat(count(db, AgentId.of("answerer", "k" + i))).isEqualTo(1);
      assertThat(count(db, AgentId.of("fan", "s" + i))).isEqualTo(1);
      assertThat(count(db, AgentId.of("audit", "s" + i))).isEqualTo(1);
      assertThat(db.state(AgentId.of("fan", "s" + i), "topic")).contains("news.sports@s" + i);
    }
    assertThat(count(db, AgentId.of("fan", "w"))).isEqualTo(1);
    assertThat(count(db, AgentId.of("audit", "w"))).isEqualTo(1);
    assertThat(count(db, AgentId.of("audit", "z"))).isEqualTo(1);
    assertThat(count(db, AgentId.of("fan", "z"))).as("misc matches no fan pattern").isZero();
    // asker x2 (request, reply), answerer, announcer, fan and audit copies, the 3 outside copies
    long expected = 2L * n + n + n + 2L * n + 3;
    PlacementTest.eventually("all handled", () -> a.handledCount() + b.handledCount() >= expected);
    assertThat(a.handledCount() + b.handledCount()).as("each message once").isEqualTo(expected);
    assertThat(a.handledCount()).as("a handled its share").isPositive();
    assertThat(b.handledCount()).as("b handled its share").isPositive();
    List<Integer> all = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      all.add(p);
    }
    PlacementTest.eventually(
        "no publication or copy left unpublished",
        () -> db.outbox().unpublished(all, true, 100).isEmpty());
  }

  @Test
  void bestEffortRequestsReachTheResponderOfTheAgentsNode() throws Exception {
    String url = TestDatabase.newSchema("be");
    String ns = shared.namespace();
    Map<String, String> answeredBy = new ConcurrentHashMap<>();
    UnaryOperator<ClusterNode.Builder> agents =
        b ->
            b.responder(
                    "echo",
                    (agent, body) -> {
                      answeredBy.put(agent.key(), "answered");
                      return agent.key() + ":" + body;
                    })
                .agent(
                    "asker",
                    (m, fx) ->
                        fx.put(
                            "answer",
                            fx.requestBestEffort(
                                    AgentId.of("echo", m.payload().toString()),
                                    "from " + fx.node(),
                                    Duration.ofSeconds(20))
                                .get(20, TimeUnit.SECONDS)));
    ClusterNode a = node(url, ns, "a", agents);
    ClusterNode b = node(url, ns, "b", agents);
    split(a, b);

    int n = 16; // over 8 partitions: some on each node
    for (int i = 0; i < n; i++) {
      ClusterNode via = i % 2 == 0 ? a : b;
      String key = "e" + i;
      AtomicInteger tries = new AtomicInteger();
      // the partition's subscription may still be on its way to the server just after the split
      PlacementTest.eventually(
          "echo/" + key + " answers",
          () -> {
            tries.incrementAndGet();
            try {
              return via.request(AgentId.of("echo", key), "hi", Duration.ofSeconds(10))
                  .get(20, TimeUnit.SECONDS)
                  .equals(key + ":hi");
            } catch (ExecutionException e) {
              if (e.getCause() instanceof BestEffortTransport.NoResponderException) {
                return false;
              }
              throw new IllegalStateException(e);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
    }
    assertThat(answeredBy).hasSize(n);

    // from inside a RELIABLE handler on either node
    PgJournal db = shared.closeLater(PgJournal.builder(url).stateCacheKeys(0).open());
    for (int i = 0; i < 4; i++) {
      a.send(AgentId.of("asker", "q" + i), "e" + i);
    }
    PlacementTest.eventually(
        "every asker has its answer",
        () -> {
          for (int i = 0; i < 4; i++) {
            if (db.state(AgentId.of("asker", "q" + i), "answer").isEmpty()) {
              return false;
            }
          }
          return true;
        });
    for (int i = 0; i < 4; i++) {
      assertThat(db.state(AgentId.of("asker", "q" + i), "answer").orElseThrow())
          .startsWith("e" + i + ":from ");
    }

    // a type without a responder: its partition is served, nobody answers
    assertThatThrownBy(
            () ->
                a.request(AgentId.of("mute", "m"), "hi", Duration.ofMillis(500))
                    .get(30, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
    assertThatThrownBy(() -> a.request(AgentId.of("echo", "e0"), "hi", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout must be positive");
  }

  @Test
  void attemptsKeepCountingAcrossOwnersAndTheLastOneDeadLetters() throws Exception {
    String url = TestDatabase.newSchema("attempts");
    String ns = shared.namespace();
    // 4 attempts in all; 2.5 to 5 s between them, so the test can hand over between two
    RetryPolicy retry = new RetryPolicy(Duration.ofSeconds(5), 1.0, Duration.ofSeconds(5), 4);
    Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
    PgJournal journalA = PgJournal.builder(url).open();
    Connection connectionA = shared.nats().connect();
    ClusterNode a =
        ClusterNode.builder(journalA, connectionA, "a")
            .namespace(ns)
            .partitions(PARTITIONS)
            .ttl(Duration.ofSeconds(2))
            .replicas(1)
            .relayInterval(Duration.ofMillis(50))
            .retryPolicy(retry)
            .agent(
                "poison",
                (m, fx) -> {
                  tries.computeIfAbsent("a", k -> new AtomicInteger()).incrementAndGet();
                  throw new IllegalStateException("poison on a");
                })
            .start();
    long id;
    try {
      PlacementTest.eventually(
          "a holds every partition", () -> a.placement().held().size() == PARTITIONS);
      id = a.send(AgentId.of("poison", "p"), "x");
      PlacementTest.eventually(
          "a failed twice, both recorded", () -> journalA.failedAttempts(id) == 2);
    } finally {
      a.close(); // a clean leave: b takes the partitions at once
      connectionA.close();
      journalA.close();
    }
    assertThat(tries.get("a").get()).isEqualTo(2);

    ClusterNode b =
        node(
            url,
            ns,
            "b",
            x ->
                x.retryPolicy(retry)
                    .agent(
                        "poison",
                        (m, fx) -> {
                          tries.computeIfAbsent("b", k -> new AtomicInteger()).incrementAndGet();
                          throw new IllegalStateException("poison on b");
                        }));
    PgJournal db = b.journal();
    PlacementTest.eventually(
        "dead-lettered: neither pending nor acknowledged", () -> db.outbox().pending(id).isEmpty());
    assertThat(db.isAcknowledged(id)).isFalse();
    assertThat(tries.get("b").get())
        .as("b made attempts 3 and 4 only: the count went on from a's two")
        .isEqualTo(2);
    b.close();
    assertThat(db.replayDeadLetter(id)).as("it is in the dead letters").isPresent();
  }
}
