package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import dev.cfn.core.Effects;
import dev.cfn.core.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Effects#whenDiscarded} on a cluster node, as in the embedded runtime (cfn-core's {@code
 * EffectsWhenDiscardedTest}): the action runs once when a handling's effects are not committed (the
 * handler threw; the acknowledging transaction failed, here because PostgreSQL refuses a text value
 * holding a NUL character), never when they commit; the message handled again commits its own
 * effects, once.
 */
class ClusterEffectsWhenDiscardedTest {
  @RegisterExtension final SharedNats shared = new SharedNats("wd");

  @Test
  void theActionRunsOnceForEachDiscardedHandlingAndNeverForACommittedOne() throws Exception {
    String url = TestDatabase.newSchema("discard");
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> discarded = new ConcurrentHashMap<>();
    Map<String, Boolean> registered = new ConcurrentHashMap<>();
    // payload "throw": the first handling throws after registering; "nul": the first handling
    // writes a value PostgreSQL refuses, so its acknowledgement fails; "ok": commits at once
    ClusterAgent worker =
        (m, fx) -> {
          String kind = m.payload().toString();
          int n = handled.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
          registered.put(
              kind,
              fx.whenDiscarded(
                  discarded.computeIfAbsent(kind, k -> new AtomicInteger())::incrementAndGet));
          fx.increment("n", 1);
          if (n == 1 && kind.equals("throw")) {
            throw new IllegalStateException("failing once (test)");
          }
          if (n == 1 && kind.equals("nul")) {
            fx.put("bad", "a\u0000b"); // text with NUL: refused by PostgreSQL at the commit
          }
        };
    PgJournal journal = shared.closeLater(PgJournal.builder(url).open());
    ClusterNode node =
        shared.closeLater(
            ClusterNode.builder(journal, shared.connect(), "a")
                .namespace(shared.namespace())
                .partitions(4)
                .ttl(Duration.ofSeconds(2))
                .replicas(1)
                .relayInterval(Duration.ofMillis(50))
                .retryPolicy(
                    new RetryPolicy(Duration.ofMillis(100), 1.0, Duration.ofMillis(100), 5))
                .consumerSettings(new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256))
                .agent("worker", worker)
                .start());
    PlacementTest.eventually(
        "the node holds every partition", () -> node.placement().held().size() == 4);
    PgJournal db = shared.closeLater(PgJournal.builder(url).stateCacheKeys(0).open());

    for (String kind : List.of("ok", "throw", "nul")) {
      node.send(AgentId.of("worker", kind), kind);
    }
    PlacementTest.eventually(
        "each message committed once",
        () ->
            ClusterAgentTest.count(db, AgentId.of("worker", "ok")) == 1
                && ClusterAgentTest.count(db, AgentId.of("worker", "throw")) == 1
                && ClusterAgentTest.count(db, AgentId.of("worker", "nul")) == 1);
    PlacementTest.eventually("all three handled", () -> node.handledCount() == 3);

    assertThat(registered)
        .as("the node supports whenDiscarded")
        .containsOnlyKeys("ok", "throw", "nul");
    assertThat(registered.values()).containsOnly(true);
    assertThat(handled.get("ok").get()).isOne();
    assertThat(discarded.get("ok").get()).as("a committed handling never runs it").isZero();
    assertThat(handled.get("throw").get()).as("handled again after it threw").isEqualTo(2);
    assertThat(discarded.get("throw").get()).as("the handler that threw").isOne();
    assertThat(handled.get("nul").get()).as("handled again after the failed commit").isEqualTo(2);
    assertThat(discarded.get("nul").get())
        .as("the failed commit's action, not the committed one's")
        .isOne();
    assertThat(db.state(AgentId.of("worker", "nul"), "bad"))
        .as("nothing of the failed commit")
        .isEmpty();
  }
}
