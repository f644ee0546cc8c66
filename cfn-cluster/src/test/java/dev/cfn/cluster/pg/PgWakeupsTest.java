package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * LISTEN/NOTIFY wake-ups: a listener on a connection outside the pool wakes when a journal opened
 * with {@code notifyPending()} stores a pending message, and not for another schema's.
 */
class PgWakeupsTest {
  private static Envelope message(long id) {
    return new Envelope(
        id,
        "count",
        AgentId.of("client", "1"),
        AgentId.of("counter", "1"),
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        "m" + id,
        System.nanoTime());
  }

  private static void await(LongSupplier value, long atLeast, String what) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (value.getAsLong() < atLeast) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void anAppendWakesTheListenersOfItsSchemaOnly() throws Exception {
    String url = PgServer.shared().newSchema("wake");
    String other = PgServer.shared().newSchema("wakeother");
    AtomicLong woken = new AtomicLong();
    try (PgJournal journal = PgJournal.builder(url).notifyPending().open();
        PgJournal elsewhere = PgJournal.builder(other).notifyPending().open();
        PgWakeups listener = journal.listen(woken::incrementAndGet)) {
      await(woken::get, 1, "the wake-up after connecting");
      long before = woken.get();
      elsewhere.append(message(1)); // another schema: not for this listener
      journal.append(message(2));
      await(woken::get, before + 1, "a wake-up for the append");
      assertThat(listener.wakeups()).isEqualTo(woken.get());
      // what the hint points at is in the table
      assertThat(JournalContractTest.ids(journal.recover())).containsExactly(2L);
      assertThat(woken.get())
          .as("one wake-up, not two: the other schema's was filtered")
          .isEqualTo(before + 1);
      assertThat(List.of(journal.acknowledge(message(2), List.of()).get())).containsExactly(true);
    }
  }
}
