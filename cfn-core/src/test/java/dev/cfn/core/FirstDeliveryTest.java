package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link Effects#firstDelivery()}: true only the first time a handler receives a RELIABLE message
 * sent in this runtime; false for a retry after a failed attempt, a replayed dead letter and a
 * message recovered from the journal by a second runtime.
 */
class FirstDeliveryTest {
  static final AgentId WORKER = AgentId.of("worker", "1");
  static final Duration LONG = Duration.ofSeconds(30);

  static Envelope.Builder reliable(Object payload) {
    return Envelope.to(WORKER).delivery(DeliveryMode.RELIABLE).payload(payload);
  }

  /** Records firstDelivery() for every handling; fails the first {@code failures} handlings. */
  static AgentType worker(List<String> seen, AtomicInteger failures) {
    return AgentType.of(
        "worker",
        id ->
            (m, ctx) -> {
              seen.add(m.payload() + ":" + ctx.effects().firstDelivery());
              if (failures.getAndDecrement() > 0) {
                throw new IllegalStateException("failing on purpose");
              }
            });
  }

  @Test
  void aMessageSentHereIsAFirstDeliveryOnceAndItsRetriesAreNot() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    List<String> seen = new CopyOnWriteArrayList<>();
    AtomicInteger failures = new AtomicInteger(0);
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .retryPolicy(new RetryPolicy(Duration.ofMillis(1), 1.0, Duration.ofMillis(1), 5))
            .register(worker(seen, failures))
            .build()) {
      rt.send(reliable("a"));
      assertThat(rt.awaitDrained(LONG)).isTrue();
      failures.set(2);
      rt.send(reliable("b"));
      assertThat(rt.awaitDrained(LONG)).isTrue();
    }
    assertThat(seen).containsExactly("a:true", "b:true", "b:false", "b:false");
  }

  @Test
  void aReplayedDeadLetterIsNotAFirstDelivery() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    List<String> seen = new CopyOnWriteArrayList<>();
    AtomicInteger failures = new AtomicInteger(1);
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .retryPolicy(new RetryPolicy(Duration.ofMillis(1), 1.0, Duration.ofMillis(1), 1))
            .register(worker(seen, failures))
            .build()) {
      long id = rt.send(reliable("c"));
      assertThat(rt.awaitDrained(LONG)).isTrue(); // dead-lettered after its one attempt
      assertThat(journal.isAcknowledged(id)).isFalse();
      assertThat(rt.replayDeadLetter(id)).isTrue();
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(journal.isAcknowledged(id)).isTrue();
    }
    assertThat(seen).containsExactly("c:true", "c:false");
  }

  @Test
  void aMessageRecoveredFromTheJournalIsNotAFirstDelivery() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    long id;
    try (AgentRuntime first = TestSupport.builder().journal(journal).build()) {
      id = first.send(reliable("d")); // no worker type here: it stays pending in the journal
    }
    assertThat(journal.pendingCount()).isEqualTo(1);
    List<String> seen = new CopyOnWriteArrayList<>();
    try (AgentRuntime second =
        TestSupport.builder()
            .journal(journal)
            .register(worker(seen, new AtomicInteger()))
            .build()) {
      assertThat(second.awaitDrained(LONG)).isTrue();
      assertThat(journal.isAcknowledged(id)).isTrue();
    }
    assertThat(seen).containsExactly("d:false");
  }
}
