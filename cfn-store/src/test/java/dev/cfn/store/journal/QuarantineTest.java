package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.CfnMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One damaged pending record does not keep a node down: recovery moves it to the quarantine
 * (counted in {@code cfn.reliable.quarantined}), the runtime starts and delivers the others, and
 * the damaged one can be listed, inspected and purged.
 */
class QuarantineTest {
  private static final String MARKER = "DAMAGE-ME-0123456789";

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("cfn.db");
  }

  /** Three pending messages; the second has a byte flipped on disk. */
  private void journalWithADamagedRecord() throws Exception {
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      journal.append(message(1, "one"));
      journal.append(message(2, MARKER));
      journal.append(message(3, "three"));
    }
    byte[] bytes = Files.readAllBytes(file());
    byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
    int at = Fixtures.indexOf(bytes, marker);
    assertThat(at).as("the payload is in the file").isNotNegative();
    bytes[at + 3] ^=
        0x01; // "DAMAGE" becomes "DAM@GE", still valid JSON: only the checksum can tell
    Files.write(file(), bytes);
  }

  @Test
  void theNodeStartsDeliversTheOthersAndListsTheDamagedOne() throws Exception {
    journalWithADamagedRecord();
    Set<Object> handled = ConcurrentHashMap.newKeySet();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SqliteJournal journal = SqliteJournal.builder(file()).open();
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .journal(journal)
            .meterRegistry(registry)
            .register(AgentType.of("worker", id -> (m, ctx) -> handled.add(m.payload())))
            .build()) {
      eventually(() -> handled.size() == 2, "the two sound messages delivered");
      assertThat(handled).containsExactlyInAnyOrder("one", "three");
      assertThat(registry.get(CfnMetrics.RELIABLE_QUARANTINED).functionCounter().count())
          .isEqualTo(1.0);
      assertThat(rt.recoveredMessages()).isEqualTo(2);
      List<QuarantinedRecord> listed = journal.quarantine().list();
      assertThat(listed).singleElement().extracting(QuarantinedRecord::id).isEqualTo(2L);
      QuarantinedRecord q = listed.getFirst();
      assertThat(q.source()).isEqualTo("messages");
      assertThat(q.problem()).startsWith("messages id 2: checksum mismatch");
      assertThat(q.columns()).containsEntry("recipient", "worker/7");
      assertThat(q.columns().get("payload")).contains("DAM@GE-ME");
    }

    // the next start neither delivers it nor quarantines it again
    try (SqliteJournal again = SqliteJournal.builder(file()).open()) {
      assertThat(again.recover()).isEmpty();
      assertThat(again.quarantinedCount()).isZero();
      assertThat(again.check().ok()).isTrue();
      assertThat(again.quarantine().find(2)).isPresent();
      assertThat(again.quarantine().purge(2)).isTrue();
      assertThat(again.quarantine().purge(2)).isFalse();
      assertThat(again.quarantine().list()).isEmpty();
      assertThat(again.highestId()).isEqualTo(3);
    }
  }

  @Test
  void aRecordWithNoDamageIsNeverQuarantined() {
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      journal.append(message(1, "fine"));
      assertThat(journal.submit(new Writes.Quarantine(1)).join()).isFalse();
      assertThat(journal.submit(new Writes.Quarantine(99)).join()).isFalse();
      assertThat(journal.recover()).hasSize(1);
      assertThat(journal.quarantine().list()).isEmpty();
    }
  }

  static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(5);
    }
  }
}
