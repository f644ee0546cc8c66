package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.RetryPolicy;
import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The RELIABLE path end to end on {@link PgJournal}: the same agents as on SQLite, unchanged. */
class PgReliableRuntimeTest {
  static final AgentId COUNTER = AgentId.of("counter", "1");

  static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(5);
    }
  }

  static Envelope.Builder reliable(AgentId to, Object payload) {
    return Envelope.to(to).delivery(DeliveryMode.RELIABLE).payload(payload);
  }

  /** Counts in its state and marks each message seen: once per message, whatever happens. */
  static AgentType counter(AtomicInteger calls) {
    return AgentType.of(
        "counter",
        id ->
            (m, ctx) -> {
              calls.incrementAndGet();
              long n = ctx.effects().get("n").map(Long::parseLong).orElse(0L);
              ctx.effects().put("n", Long.toString(n + 1));
              ctx.effects().put("seen-" + m.payload(), Long.toString(m.id()));
            });
  }

  @Test
  void handledMessagesCommitTheirEffectsOnceAndAreNotRedelivered() throws Exception {
    String url = PgServer.shared().newSchema("runtime");
    AtomicInteger calls = new AtomicInteger();
    try (PgJournal journal = PgJournal.builder(url).open();
        AgentRuntime rt =
            AgentRuntime.builder().journal(journal).register(counter(calls)).build()) {
      for (int i = 0; i < 200; i++) {
        rt.send(reliable(COUNTER, "n" + i));
      }
      eventually(
          () -> journal.state(COUNTER, "n").equals(java.util.Optional.of("200")), "200 counted");
    }
    AtomicInteger again = new AtomicInteger();
    try (PgJournal journal = PgJournal.builder(url).open()) {
      assertThat(journal.recover()).isEmpty();
      for (int i = 0; i < 200; i++) {
        assertThat(journal.state(COUNTER, "seen-n" + i)).isPresent();
      }
      try (AgentRuntime rt =
          AgentRuntime.builder().journal(journal).register(counter(again)).build()) {
        assertThat(again.get()).as("nothing acknowledged is redelivered").isZero();
      }
    }
    assertThat(calls.get()).isEqualTo(200);
  }

  @Test
  void aRuntimeRunsUnderAPartitionLeaseAndAFailingHandlerEndsInTheDeadLetters() throws Exception {
    String url = PgServer.shared().newSchema("runtime");
    AgentId poison = AgentId.of("poison", "1");
    AtomicInteger calls = new AtomicInteger();
    try (PgJournal journal = PgJournal.builder(url).open()) {
      Lease lease = journal.leases().acquire(0, "node-a", Duration.ofSeconds(60)).orElseThrow();
      Journal partition = journal.under(lease);
      AtomicInteger failures = new AtomicInteger();
      try (AgentRuntime rt =
          AgentRuntime.builder()
              .journal(partition)
              .retryPolicy(new RetryPolicy(Duration.ofMillis(5), 2.0, Duration.ofMillis(20), 3))
              .register(counter(calls))
              .register(
                  AgentType.of(
                      "poison",
                      id ->
                          (m, ctx) -> {
                            failures.incrementAndGet();
                            throw new IllegalStateException("cannot handle " + m.payload());
                          }))
              .build()) {
        for (int i = 0; i < 20; i++) {
          rt.send(reliable(COUNTER, "n" + i));
        }
        long bad = rt.send(reliable(poison, "bad"));
        eventually(
            () -> journal.state(COUNTER, "n").equals(java.util.Optional.of("20")), "20 counted");
        eventually(() -> failures.get() >= 3, "3 attempts of the poison message");
        eventually(() -> partition.recover().isEmpty(), "the poison message dead-lettered");
        assertThat(journal.isAcknowledged(bad)).isFalse();
        assertThat(partition.replayDeadLetter(bad)).isPresent();
      }
      assertThat(JournalContractTest.ids(partition.recover())).hasSize(1);
    }
  }
}
