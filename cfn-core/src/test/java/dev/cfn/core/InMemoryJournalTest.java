package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The reliable stages inside cfn-core, on the in-memory journal: effects, retries, recovery. */
class InMemoryJournalTest {

  @Test
  void effectsCommitWithTheAcknowledgementAndAFailedMessageIsRetried() {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicInteger calls = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .retryPolicy(
                new RetryPolicy(
                    java.time.Duration.ofMillis(1), 2.0, java.time.Duration.ofMillis(5), 5))
            .build()) {
      rt.register(
          AgentType.of(
              "counter",
              id ->
                  (m, ctx) -> {
                    if (calls.incrementAndGet() == 1) {
                      throw new IllegalStateException("first attempt fails");
                    }
                    int n = Integer.parseInt(ctx.effects().get("n").orElse("0"));
                    ctx.effects().put("n", Integer.toString(n + 1));
                  }));
      rt.send(Envelope.to(AgentId.of("counter", "1")).delivery(DeliveryMode.RELIABLE).payload("x"));
      TestSupport.eventually(() -> journal.pendingCount() == 0, "acknowledged after a retry");
      assertThat(calls.get()).isEqualTo(2);
      assertThat(journal.state(AgentId.of("counter", "1").toString(), "n")).contains("1");
    }
  }

  @Test
  void aNewRuntimeOnTheSameJournalRedeliversWhatWasLeftPending() {
    InMemoryJournal journal = new InMemoryJournal();
    journal.append(
        new Envelope(
            41,
            "t",
            AgentRuntime.EXTERNAL,
            AgentId.of("late", "1"),
            null,
            0,
            Priority.NORMAL,
            DeliveryMode.RELIABLE,
            java.util.Map.of(),
            "left over",
            System.nanoTime()));
    AtomicInteger handled = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(AgentType.of("late", id -> (m, ctx) -> handled.incrementAndGet()))
            .build()) {
      assertThat(rt.recoveredMessages()).isEqualTo(1);
      TestSupport.eventually(() -> journal.pendingCount() == 0, "recovered and acknowledged");
      assertThat(handled.get()).isEqualTo(1);
      assertThat(journal.isAcknowledged(41)).isTrue();
    }
  }
}
