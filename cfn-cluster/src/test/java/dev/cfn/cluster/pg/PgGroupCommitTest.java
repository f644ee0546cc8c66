package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.spi.Effect;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Concurrent writers share the writer's transactions and its pipelined statements: every
 * acknowledgement still applies once (a duplicate acknowledgement racing the first yields false),
 * every put, outgoing message and call record lands, and a bad write in a batch fails alone.
 */
class PgGroupCommitTest {
  static final String NS = JournalContractTest.NS;

  @Test
  void concurrentAcknowledgementsApplyOnceEachAndABadWriteFailsAlone() throws Exception {
    String url = PgServer.shared().newSchema("group");
    int threads = 32;
    int each = 40;
    AtomicInteger applied = new AtomicInteger();
    AtomicInteger duplicateAppendsRefused = new AtomicInteger();
    try (PgJournal journal = PgJournal.builder(url).open()) {
      try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          done.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < each; i++) {
                      long id = 1 + thread * each + i;
                      var m = JournalContractTest.message(id, "m" + id);
                      journal.append(m);
                      try {
                        journal.append(m); // the same id again: refused, nothing stored
                      } catch (dev.cfn.core.spi.JournalException e) {
                        duplicateAppendsRefused.incrementAndGet();
                      }
                      List<Effect> effects =
                          List.of(
                              new Effect.Put(NS, "k" + id, "v" + id),
                              new Effect.Put(NS, "last-" + thread, Long.toString(id)),
                              new Effect.Send(JournalContractTest.message(100_000 + id, "out")),
                              new Effect.RecordCall("call-" + id, "r" + id));
                      var first = journal.acknowledge(m, effects);
                      var second = journal.acknowledge(m, effects);
                      if (first.join()) {
                        applied.incrementAndGet();
                      }
                      if (second.join()) {
                        applied.incrementAndGet();
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      }
      int total = threads * each;
      assertThat(applied.get()).as("one of each pair of acknowledgements").isEqualTo(total);
      assertThat(duplicateAppendsRefused.get()).isEqualTo(total);
      for (int t = 0; t < threads; t++) {
        assertThat(journal.state(NS, "last-" + t)).contains(Long.toString((long) (t + 1) * each));
      }
      for (long id = 1; id <= total; id++) {
        assertThat(journal.state(NS, "k" + id)).contains("v" + id);
        assertThat(journal.findCall("call-" + id)).contains("r" + id);
        assertThat(journal.isAcknowledged(id)).isTrue();
      }
      assertThat(JournalContractTest.ids(journal.recover()))
          .as("only the outgoing messages are pending")
          .hasSize(total)
          .allMatch(id -> id > 100_000);
      assertThat(journal.commitCount())
          .as("concurrent writes shared transactions")
          .isLessThan(journal.committedWrites());
    }
    try (PgJournal again = PgJournal.builder(url).open()) {
      assertThat(again.state(NS, "k1")).contains("v1");
    }
  }
}
