package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * cfn-core {@link Agent}s run on cluster nodes through {@link ClusterAgent#running}: a RELIABLE
 * request made through the context's effects is answered with {@code ctx.reply} on whichever node
 * holds the answerer, each message handled once by an instance of its own; what a node cannot do
 * (spawning) is refused with a message that says what to use instead, and {@code stopSelf} is
 * harmless.
 */
class CoreAgentOnClusterTest {
  static final int PARTITIONS = 8;
  @RegisterExtension final SharedNats shared = new SharedNats("core");

  static final AtomicInteger INSTANCES = new AtomicInteger();

  /** Asks answerer/KEY on its first message, keeps the reply; probes what a node refuses. */
  static Agent asker() {
    INSTANCES.incrementAndGet();
    return (m, ctx) -> {
      if (m.isReply()) {
        ctx.effects().put("answer", m.payload().toString());
        ctx.effects().increment("n", 1);
        try {
          ctx.spawn(AgentId.of("x", "y"));
        } catch (UnsupportedOperationException e) {
          ctx.effects().put("refused", e.getMessage());
        }
        ctx.stopSelf();
      } else {
        ctx.effects().request(AgentId.of("answerer", m.payload().toString()), "q-" + ctx.self());
      }
    };
  }

  static Agent answerer() {
    INSTANCES.incrementAndGet();
    return (m, ctx) -> {
      ctx.effects().increment("n", 1);
      ctx.reply("re:" + m.payload() + "@" + ctx.self());
    };
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
            .agent("asker", ClusterAgent.running(agentId -> asker()))
            .agent("answerer", ClusterAgent.running(agentId -> answerer()))
            .start());
  }

  @Test
  void coreAgentsAnswerEachOtherAcrossNodesOnceEach() throws Exception {
    String url = TestDatabase.newSchema("core");
    String ns = shared.namespace();
    ClusterNode a = node(url, ns, "a");
    ClusterNode b = node(url, ns, "b");
    PlacementTest.eventually(
        "both nodes hold partitions, all of them",
        () ->
            !a.placement().held().isEmpty()
                && !b.placement().held().isEmpty()
                && a.placement().held().size() + b.placement().held().size() == PARTITIONS);
    PgJournal db = shared.closeLater(PgJournal.builder(url).stateCacheKeys(0).open());
    int n = 8;
    int before = INSTANCES.get();
    for (int i = 0; i < n; i++) {
      a.send(AgentId.of("asker", "a" + i), "k" + i);
    }
    PlacementTest.eventually(
        "every asker has its answer",
        () -> {
          for (int i = 0; i < n; i++) {
            if (ClusterAgentTest.count(db, AgentId.of("asker", "a" + i)) != 1) {
              return false;
            }
          }
          return true;
        });
    PlacementTest.eventually("all handled", () -> a.handledCount() + b.handledCount() == 3L * n);
    for (int i = 0; i < n; i++) {
      assertThat(db.state(AgentId.of("asker", "a" + i), "answer"))
          .contains("re:q-asker/a" + i + "@answerer/k" + i);
      assertThat(ClusterAgentTest.count(db, AgentId.of("answerer", "k" + i))).isEqualTo(1);
      assertThat(db.state(AgentId.of("asker", "a" + i), "refused"))
          .hasValueSatisfying(
              text -> assertThat(text).contains("runs on a cluster node").contains("send to it"));
    }
    assertThat(INSTANCES.get() - before).as("an instance per message").isEqualTo(3 * n);
  }
}
