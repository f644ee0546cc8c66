package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link Effects#whenDiscarded}: the action runs once when a handler's effects are not committed (a
 * failed commit of its acknowledgement, a handler that throws), never when they commit; the message
 * handled again commits its own effects.
 */
class EffectsWhenDiscardedTest {
  static final AgentId WORKER = AgentId.of("worker", "1");

  /** An in-memory journal whose next {@link #failAcks} acknowledgements fail, as on a full disk. */
  static final class FailingJournal extends ForwardingJournal {
    final AtomicInteger failAcks = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();

    @Override
    public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
      if (message.recipient().equals(WORKER)
          && failAcks.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        failed.incrementAndGet();
        return CompletableFuture.failedFuture(new JournalException("the disk is full (test)"));
      }
      return inner.acknowledge(message, effects);
    }
  }

  /**
   * The worker: counts its handlings, registers an action that counts discards, counts itself in
   * its state ("n") and, at handling number {@code throwAt}, throws after registering.
   */
  private static AgentType worker(AtomicInteger handled, AtomicInteger discarded, int throwAt) {
    return AgentType.builder(
            "worker",
            id ->
                (m, ctx) -> {
                  int n = handled.incrementAndGet();
                  assertThat(ctx.effects().whenDiscarded(discarded::incrementAndGet)).isTrue();
                  ctx.effects().increment("n", 1);
                  if (n == throwAt) {
                    throw new IllegalStateException("failing once (test)");
                  }
                })
        .build();
  }

  private static void run(FailingJournal journal, AgentType worker) throws Exception {
    try (AgentRuntime rt = TestSupport.builder().journal(journal).register(worker).build()) {
      rt.send(Envelope.to(WORKER).delivery(DeliveryMode.RELIABLE).payload("task"));
      assertThat(rt.awaitDrained(TestSupport.WAIT)).as("the message acknowledged").isTrue();
    }
  }

  @Test
  void aFailedCommitRunsTheActionOnceAndTheMessageHandledAgainCommits() throws Exception {
    FailingJournal journal = new FailingJournal();
    journal.failAcks.set(1);
    AtomicInteger handled = new AtomicInteger();
    AtomicInteger discarded = new AtomicInteger();
    run(journal, worker(handled, discarded, 0));
    assertThat(journal.failed.get()).isEqualTo(1);
    assertThat(handled.get()).as("handled again after the failed commit").isEqualTo(2);
    assertThat(discarded.get()).as("the failed commit's action, not the committed one's").isOne();
    assertThat(journal.state("worker/1", "n")).as("the effects applied once").contains("1");
  }

  @Test
  void aHandlerThatThrowsRunsTheActionOnce() throws Exception {
    FailingJournal journal = new FailingJournal();
    AtomicInteger handled = new AtomicInteger();
    AtomicInteger discarded = new AtomicInteger();
    run(journal, worker(handled, discarded, 1));
    assertThat(handled.get()).isEqualTo(2);
    assertThat(discarded.get()).isOne();
    assertThat(journal.state("worker/1", "n")).contains("1");
  }

  @Test
  void aCommittedHandlingNeverRunsTheAction() throws Exception {
    FailingJournal journal = new FailingJournal();
    AtomicInteger handled = new AtomicInteger();
    AtomicInteger discarded = new AtomicInteger();
    run(journal, worker(handled, discarded, 0));
    assertThat(handled.get()).isOne();
    assertThat(discarded.get()).isZero();
  }
}
