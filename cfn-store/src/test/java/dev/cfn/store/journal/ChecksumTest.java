package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChecksumTest {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("journal.db");
  }

  @Test
  void aFlippedByteInThePayloadOnDiskIsReportedByTableAndId() throws Exception {
    String marker = "CORRUPT-ME-abcdefghij";
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      journal.append(message(7, "fine"));
      journal.append(message(8, marker));
    }
    assertThat(file().resolveSibling("journal.db-wal")).doesNotExist(); // checkpointed on close
    byte[] bytes = Files.readAllBytes(file());
    int at = Fixtures.indexOf(bytes, marker.getBytes(StandardCharsets.US_ASCII));
    assertThat(at).as("payload found in the file").isNotNegative();
    assertThat(Fixtures.indexOf(bytes, marker.getBytes(StandardCharsets.US_ASCII), at + 1))
        .isNegative();
    bytes[at + marker.length() - 1] = 'X'; // still valid JSON, different content
    Files.write(file(), bytes);

    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      StoreCheck check = journal.check();
      assertThat(check.ok()).isFalse();
      assertThat(check.problems())
          .singleElement()
          .asString()
          .startsWith("messages id 8: checksum mismatch");
      // recovery sets the damaged record aside and delivers the others
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(7L);
      assertThat(journal.quarantinedCount()).isEqualTo(1);
      assertThat(journal.quarantine().list())
          .singleElement()
          .satisfies(
              q -> {
                assertThat(q.id()).isEqualTo(8);
                assertThat(q.problem()).startsWith("messages id 8: checksum mismatch");
                assertThat(q.columns().get("payload")).contains("CORRUPT-ME-abcdefghiX");
              });
      assertThat(journal.check().ok()).isTrue();
    }
  }

  @Test
  void rowsChangedBehindTheJournalsBackAreRefusedOnEveryRead() throws Exception {
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      Envelope handled = message(1, "handled");
      journal.append(handled);
      journal.acknowledge(handled, List.of(new Effect.Put("ns", "k", "v"))).join();
      journal.append(message(2, "pending"));
      Envelope dead = message(3, "dead");
      journal.append(dead);
      journal.recordFailure(dead, 1, "boom").join();
      journal.deadLetter(dead, 1, "boom").join();
      assertThat(journal.check()).isEqualTo(new StoreCheck(true, List.of()));
    }
    try (Connection raw = Fixtures.raw(file());
        Statement sql = raw.createStatement()) {
      try (PreparedStatement update =
          raw.prepareStatement("UPDATE messages SET payload = ? WHERE id = 2")) {
        update.setBytes(1, "\"tampered\"".getBytes(StandardCharsets.UTF_8));
        update.executeUpdate();
      }
      sql.executeUpdate("UPDATE state SET value = 'evil' WHERE key = 'k'");
      sql.executeUpdate("UPDATE dead_letters SET cause = 'other' WHERE id = 3");
      sql.executeUpdate("UPDATE attempts SET error = 'other' WHERE message_id = 3");
      sql.executeUpdate("UPDATE acked SET acked_at = acked_at + 1 WHERE id = 1");
    }
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      assertThat(journal.check().problems())
          .anySatisfy(p -> assertThat(p).startsWith("messages id 2: checksum mismatch"));
      assertThat(journal.recover()).isEmpty();
      assertThat(journal.quarantine().find(2)).isPresent();
      assertThatThrownBy(() -> journal.state("ns", "k"))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("state namespace 'ns', key 'k'");
      assertThatThrownBy(journal.deadLetterQueue()::list)
          .hasMessageContaining("attempts message_id 3");
      assertThatThrownBy(() -> journal.isAcknowledged(1)).hasMessageContaining("acked id 1");
      assertThatThrownBy(() -> journal.replayDeadLetter(3))
          .hasMessageContaining("dead_letters id 3");
      assertThat(journal.check().problems())
          .hasSize(4)
          .anySatisfy(p -> assertThat(p).startsWith("acked id 1: checksum mismatch"))
          .anySatisfy(p -> assertThat(p).startsWith("dead_letters id 3: checksum mismatch"))
          .anySatisfy(p -> assertThat(p).startsWith("attempts message_id 3, attempt 1:"))
          .anySatisfy(p -> assertThat(p).startsWith("state namespace 'ns', key 'k':"));
    }
  }

  @Test
  void aDamagedPendingRowIsNotLaunderedByAnUpdate() throws Exception {
    Envelope m = message(1, "x");
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      journal.append(m);
    }
    try (Connection raw = Fixtures.raw(file());
        Statement sql = raw.createStatement()) {
      sql.executeUpdate("UPDATE messages SET type = 'forged' WHERE id = 1");
    }
    try (SqliteJournal journal = SqliteJournal.builder(file()).open()) {
      assertThatThrownBy(() -> journal.recordFailure(m, 1, "boom").join())
          .hasMessageContaining("messages id 1: checksum mismatch");
      assertThat(journal.check().ok()).isFalse();
    }
  }
}
