package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Batched turns ({@link AgentType.Builder#reliableBatch}): RELIABLE messages handled together and
 * acknowledged in one transaction keep exactly-once: every message's effects apply once, each
 * handler sees the writes of the ones before it in the batch, and a failure (a handler that throws,
 * a transaction that fails) commits nothing of the batch and hands it back one message per turn.
 */
class ReliableBatchTest {
  static final AgentId BATCHER = AgentId.of("batcher", "1");
  static final AgentId SINK = AgentId.of("sink", "1");
  static final int MESSAGES = 200;

  /**
   * An in-memory journal that records the size of every acknowledgement of the batcher's messages
   * and can fail some.
   */
  static class CountingJournal extends ForwardingJournal {
    final List<Integer> together = new CopyOnWriteArrayList<>();
    final AtomicInteger failTogether = new AtomicInteger(); // batches of 2+ still to fail

    @Override
    public boolean acknowledgesTogether() {
      return true;
    }

    @Override
    public CompletableFuture<Boolean> acknowledgeTogether(
        List<Envelope> messages, List<Effect> effects) {
      if (messages.getFirst().recipient().equals(BATCHER)) {
        together.add(messages.size());
      }
      if (messages.size() > 1 && failTogether.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return CompletableFuture.failedFuture(new JournalException("the disk is full (test)"));
      }
      return inner.acknowledgeTogether(messages, effects);
    }

    @Override
    public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
      if (message.recipient().equals(BATCHER)) {
        together.add(1);
      }
      return inner.acknowledge(message, effects);
    }

    @Override
    public void close() {
      inner.close();
    }

    int largest() {
      return together.stream().mapToInt(Integer::intValue).max().orElse(0);
    }
  }

  /**
   * The batching agent: message "gate" waits until the test has queued everything, so that the rest
   * is queued behind it; every message counts itself in "n" (read, then written: it must see the
   * count of the messages before it in its batch), marks itself and sends itself to the sink.
   */
  static AgentType batcher(
      CountDownLatch queued,
      AtomicInteger instances,
      AtomicBoolean throwOnce,
      SupervisionStrategy s) {
    return AgentType.builder(
            "batcher",
            id -> {
              instances.incrementAndGet();
              return (m, ctx) -> {
                String p = (String) m.payload();
                if (p.equals("gate")) {
                  TestSupport.awaitUninterruptibly(queued);
                }
                if (p.equals("m100") && throwOnce.compareAndSet(true, false)) {
                  throw new IllegalStateException("failing once (test)");
                }
                long n = ctx.effects().getLong("n").orElse(0);
                ctx.effects().put("n", Long.toString(n + 1)).put("seen." + p, "1");
                ctx.effects().send(SINK, p);
              };
            })
        .reliableBatch(64)
        .supervision(s)
        .build();
  }

  private record Outcome(CountingJournal journal, Map<String, Integer> sunk, int instances) {}

  private Outcome run(CountingJournal journal, boolean throwOnce, SupervisionStrategy s)
      throws Exception {
    Map<String, Integer> sunk = new ConcurrentHashMap<>();
    CountDownLatch queued = new CountDownLatch(1);
    AtomicInteger instances = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(batcher(queued, instances, new AtomicBoolean(throwOnce), s))
            .register(
                AgentType.builder(
                        "sink", id -> (m, ctx) -> sunk.merge((String) m.payload(), 1, Integer::sum))
                    .mailboxCapacity(1024)
                    .build())
            .build()) {
      rt.send(Envelope.to(BATCHER).delivery(DeliveryMode.RELIABLE).payload("gate"));
      for (int i = 0; i < MESSAGES; i++) {
        rt.send(Envelope.to(BATCHER).delivery(DeliveryMode.RELIABLE).payload("m" + i));
      }
      queued.countDown();
      assertThat(rt.awaitDrained(TestSupport.WAIT)).as("every message acknowledged").isTrue();
      TestSupport.eventually(() -> sunk.size() == MESSAGES + 1, "every message at the sink");
    }
    return new Outcome(journal, sunk, instances.get());
  }

  private static void everyMessageTookEffectOnce(Outcome o) {
    assertThat(o.journal.state("batcher/1", "n")).contains(Integer.toString(MESSAGES + 1));
    assertThat(o.sunk).hasSize(MESSAGES + 1);
    assertThat(o.sunk.values()).as("each message sent on exactly once").containsOnly(1);
    for (int i = 0; i < MESSAGES; i++) {
      assertThat(o.journal.state("batcher/1", "seen.m" + i)).as("m" + i).contains("1");
    }
    assertThat(o.journal.inner.recover()).as("nothing left pending").isEmpty();
  }

  @Test
  void queuedMessagesAreHandledInOneTurnAndAcknowledgedInOneTransaction() throws Exception {
    Outcome o = run(new CountingJournal(), false, AgentType.DEFAULT_SUPERVISION);
    everyMessageTookEffectOnce(o);
    assertThat(o.journal.largest()).as("the most messages acknowledged together").isEqualTo(64);
    assertThat(o.journal.together.size())
        .as("transactions: far fewer than messages")
        .isLessThan(MESSAGES / 8);
    assertThat(o.instances).isEqualTo(1);
  }

  @Test
  void aHandlerThatThrowsCommitsNothingOfItsBatchAndEveryMessageStillTakesEffectOnce()
      throws Exception {
    Outcome o = run(new CountingJournal(), true, AgentType.DEFAULT_SUPERVISION);
    everyMessageTookEffectOnce(o);
    assertThat(o.instances).as("restarted once by its supervision").isEqualTo(2);
  }

  @Test
  void underResumeSupervisionAFailedBatchStillGetsAFreshInstance() throws Exception {
    Outcome o = run(new CountingJournal(), true, SupervisionStrategy.resume());
    everyMessageTookEffectOnce(o);
    assertThat(o.instances).isEqualTo(2);
  }

  @Test
  void aFailedTransactionHandsTheBatchBackOneByOneToAFreshInstance() throws Exception {
    CountingJournal journal = new CountingJournal();
    journal.failTogether.set(1);
    Outcome o = run(journal, false, AgentType.DEFAULT_SUPERVISION);
    everyMessageTookEffectOnce(o);
    assertThat(o.instances).as("a fresh instance after the failed transaction").isEqualTo(2);
    int failedSize = journal.together.stream().filter(n -> n > 1).findFirst().orElseThrow();
    int after = journal.together.indexOf(failedSize) + 1;
    assertThat(journal.together.subList(after, after + failedSize - 1))
        .as("the batch's messages acknowledged again one at a time")
        .containsOnly(1);
  }

  @Test
  void batchSizesOutsideOneTo4096AreRefused() {
    AgentType.Builder b = AgentType.builder("x", id -> (m, ctx) -> {});
    assertThatThrownBy(() -> b.reliableBatch(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use 1 (no batching) to 4096");
    assertThatThrownBy(() -> b.reliableBatch(4097)).isInstanceOf(IllegalArgumentException.class);
    assertThat(b.reliableBatch(4096).build().reliableBatch()).isEqualTo(4096);
    assertThat(AgentType.of("y", id -> (m, ctx) -> {}).reliableBatch()).isEqualTo(1);
  }

  @Test
  void withAJournalThatCannotAcknowledgeTogetherMessagesGoOneByOne() throws Exception {
    CountingJournal journal =
        new CountingJournal() {
          @Override
          public boolean acknowledgesTogether() {
            return false;
          }
        };
    Outcome o = run(journal, false, AgentType.DEFAULT_SUPERVISION);
    everyMessageTookEffectOnce(o);
    assertThat(journal.largest()).isEqualTo(1);
  }
}
