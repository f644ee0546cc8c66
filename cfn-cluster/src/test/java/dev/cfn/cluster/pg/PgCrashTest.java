package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGKILL of a node on {@link PgJournal}: a child JVM handles recovered messages and kills itself
 * with {@code kill -9} on its own pid right after its 60th acknowledgement committed. Then every
 * acknowledged message's effects exist exactly once (the counter equals the acknowledged count,
 * each has its mark), every unacknowledged one is recovered, and a second run finishes the rest
 * with each effect still applied once.
 */
class PgCrashTest {
  static final int MESSAGES = 300;
  static final int KILL_AFTER = 60;
  static final AgentId COUNTER = PgReliableRuntimeTest.COUNTER;

  static Process child(String url, int killAfter) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            PgCrashChild.class.getName(),
            url,
            Integer.toString(killAfter))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  static int await(Process p) throws InterruptedException {
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the child JVM did not end within 120 s");
    }
    return p.exitValue();
  }

  @Test
  void everyAcknowledgedEffectExistsOnceAndEveryOtherMessageIsRecovered() throws Exception {
    String url = PgServer.shared().newSchema("crash");
    List<Long> ids = new ArrayList<>();
    try (PgJournal journal = PgJournal.builder(url).open()) {
      for (int i = 1; i <= MESSAGES; i++) {
        journal.append(
            new Envelope(
                i,
                "count",
                AgentId.of("client", "1"),
                COUNTER,
                null,
                0,
                Priority.NORMAL,
                DeliveryMode.RELIABLE,
                Map.of(),
                "m" + i,
                System.nanoTime()));
        ids.add((long) i);
      }
    }

    assertThat(await(child(url, KILL_AFTER))).as("killed by SIGKILL (128 + 9)").isEqualTo(137);

    try (PgJournal journal = PgJournal.builder(url).open()) {
      Set<Long> acked = new HashSet<>();
      for (long id : ids) {
        if (journal.isAcknowledged(id)) {
          acked.add(id);
          assertThat(journal.state(COUNTER, "seen-m" + id))
              .as("mark of " + id)
              .contains(Long.toString(id));
        } else {
          assertThat(journal.state(COUNTER, "seen-m" + id))
              .as("no mark of unacknowledged " + id)
              .isEmpty();
        }
      }
      assertThat(acked.size())
          .as("at least the acknowledgements before the kill")
          .isGreaterThanOrEqualTo(KILL_AFTER);
      assertThat(acked.size()).as("not all: the kill landed mid-run").isLessThan(MESSAGES);
      assertThat(journal.state(COUNTER, "n"))
          .as("each acknowledged effect once")
          .contains(Integer.toString(acked.size()));
      List<Long> recovered = JournalContractTest.ids(journal.recover());
      List<Long> expected = ids.stream().filter(id -> !acked.contains(id)).toList();
      assertThat(recovered).as("every unacknowledged message").containsExactlyElementsOf(expected);
    }

    assertThat(await(child(url, 0))).as("the restart finishes the rest").isZero();

    try (PgJournal journal = PgJournal.builder(url).open()) {
      assertThat(journal.recover()).isEmpty();
      assertThat(journal.state(COUNTER, "n")).contains(Integer.toString(MESSAGES));
      for (long id : ids) {
        assertThat(journal.isAcknowledged(id)).isTrue();
        assertThat(journal.state(COUNTER, "seen-m" + id)).contains(Long.toString(id));
      }
    }
  }
}
