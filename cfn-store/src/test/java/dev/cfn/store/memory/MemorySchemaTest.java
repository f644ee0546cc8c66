package dev.cfn.store.memory;

import static dev.cfn.store.memory.MemoryFixtures.ALICE;
import static dev.cfn.store.memory.MemoryFixtures.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryException;
import dev.cfn.core.spi.MemoryWrite;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.journal.Fixtures;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memory file's schema, its migrations, its settings and its own identity. */
class MemorySchemaTest {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("memory.db");
  }

  @Test
  void aNewFileIsAtTheLatestVersionWithItsApplicationIdInWalMode() throws Exception {
    Path nested = dir.resolve("a/b/memory.db");
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(nested)) {
      assertThat(memory.file()).isEqualTo(nested.toAbsolutePath());
      try (Connection c = Fixtures.raw(nested);
          Statement sql = c.createStatement()) {
        assertThat(query(sql, "PRAGMA application_id")).isEqualTo(MemorySchema.APPLICATION_ID);
        assertThat(query(sql, "SELECT max(version) FROM schema_version"))
            .isEqualTo(MemorySchema.latestVersion());
        try (ResultSet rows = sql.executeQuery("PRAGMA journal_mode")) {
          rows.next();
          assertThat(rows.getString(1)).isEqualTo("wal");
        }
      }
    }
  }

  @Test
  void reopeningKeepsTheDataAndAppliesNoMigrationTwice() throws Exception {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      memory.put(
          ALICE,
          "n",
          "k",
          "kept",
          MemoryWrite.defaults()
              .level(MemoryAccessLevel.SWARM)
              .ttl(Duration.ofDays(1))
              .metadata(Map.of("m", "1"))
              .tags("t"));
    }
    MemoryEntry before;
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      before = memory.get(ALICE, "n", "k").orElseThrow();
      assertThat(before.value()).isEqualTo("kept");
      assertThat(memory.search(ALICE, "kept", null, 10)).hasSize(1);
    }
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      assertThat(memory.get(ALICE, "n", "k")).contains(before);
    }
    try (Connection c = Fixtures.raw(file());
        Statement sql = c.createStatement()) {
      assertThat(query(sql, "SELECT count(*) FROM schema_version"))
          .isEqualTo(MemorySchema.MIGRATIONS.list().size());
    }
  }

  @Test
  void aFileFromANewerCfnIsRefusedAndLeftUnchanged() throws Exception {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      memory.put(ALICE, "n", "k", "v");
    }
    int newer = Fixtures.stampNewerVersion(file(), MemorySchema.latestVersion());
    byte[] bytes = Files.readAllBytes(file());
    assertThatThrownBy(() -> SqliteMemoryStore.open(file()))
        .isInstanceOf(MemoryException.class)
        .hasMessageContaining("memory schema version " + newer)
        .hasMessageContaining("newer cfn")
        .hasMessageContaining("nothing was changed");
    assertThat(Files.readAllBytes(file())).isEqualTo(bytes);
  }

  @Test
  void aJournalFileIsNotAMemoryFileAndTheOtherWayRound() {
    Path journalFile = dir.resolve("cfn.db");
    try (SqliteJournal journal = SqliteJournal.builder(journalFile).open()) {
      assertThat(journal.file()).isNotNull();
    }
    assertThatThrownBy(() -> SqliteMemoryStore.open(journalFile))
        .isInstanceOf(MemoryException.class)
        .hasMessageContaining("not a cfn memory file")
        .hasMessageContaining("it is a cfn journal");

    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      memory.put(ALICE, "n", "k", "v");
    }
    assertThatThrownBy(() -> SqliteJournal.builder(file()).open())
        .hasMessageContaining("not a cfn journal");
  }

  @Test
  void anUnrelatedDatabaseIsRefused() throws Exception {
    try (Connection c = Fixtures.raw(file());
        Statement sql = c.createStatement()) {
      sql.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    }
    assertThatThrownBy(() -> SqliteMemoryStore.open(file()))
        .isInstanceOf(MemoryException.class)
        .hasMessageContaining("not a cfn memory file")
        .hasMessageContaining("file of its own");
  }

  @Test
  void aFlippedValueIsDetectedOnReadNamingTheRecord() throws Exception {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      memory.put(
          ALICE, "n", "good", "untouched", MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC));
      memory.put(
          ALICE,
          "n",
          "bad",
          "the original value",
          MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC));
    }
    try (Connection c = Fixtures.raw(file());
        PreparedStatement update =
            c.prepareStatement("UPDATE memory_entries SET value = ? WHERE key = 'bad'")) {
      update.setString(1, "the original valuf"); // one byte differs, the checksum is left alone
      assertThat(update.executeUpdate()).isEqualTo(1);
    }
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      assertThatThrownBy(() -> memory.get(ALICE, "n", "bad"))
          .isInstanceOf(MemoryException.class)
          .hasMessageContaining("memory_entries n/bad: checksum mismatch")
          .hasMessageContaining("changed outside cfn")
          .hasMessageContaining("cfn memory delete bad -n n");
      assertThatThrownBy(() -> memory.list(ALICE, "n", null, 10))
          .hasMessageContaining("n/bad: checksum mismatch");
      assertThatThrownBy(() -> memory.search(ALICE, "valuf", null, 10))
          .hasMessageContaining("n/bad: checksum mismatch");
      assertThatThrownBy(() -> memory.put(ALICE, "n", "bad", "overwrite"))
          .hasMessageContaining("n/bad: checksum mismatch");
      assertThat(memory.get(ALICE, "n", "good")).isPresent();

      StoreCheck check = memory.check();
      assertThat(check.ok()).isFalse();
      assertThat(check.problems())
          .singleElement()
          .asString()
          .startsWith("memory_entries n/bad: checksum mismatch");

      // the operator removes the damaged record without reading it
      assertThatThrownBy(() -> memory.delete(ALICE, "n", "bad")).hasMessageContaining("checksum");
      assertThat(memory.delete(OPERATOR, "n", "bad")).isTrue();
      assertThat(memory.check().ok()).isTrue();
      assertThat(memory.list(ALICE, "n", null, 10))
          .extracting(MemoryEntry::key)
          .containsExactly("good");
    }
  }

  @Test
  void everyCheckedColumnIsCovered() throws Exception {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      memory.put(ALICE, "n", "k", "v", MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC));
    }
    for (String change :
        new String[] {
          "level = 'PRIVATE'",
          "owner = 'mallory'",
          "swarm = 'other'",
          "expires_at = 1",
          "metadata = '{\"x\":\"y\"}'",
          "tags = '[\"t\"]'",
          "updated_at = updated_at + 1"
        }) {
      Path copy = dir.resolve("copy-" + Math.abs(change.hashCode()) + ".db");
      try (Connection c = Fixtures.raw(file());
          Statement sql = c.createStatement()) {
        sql.execute("VACUUM INTO '" + copy + "'");
      }
      try (Connection c = Fixtures.raw(copy);
          Statement sql = c.createStatement()) {
        sql.executeUpdate("UPDATE memory_entries SET " + change);
      }
      try (SqliteMemoryStore memory = SqliteMemoryStore.open(copy)) {
        assertThat(memory.check().problems())
            .as(change)
            .singleElement()
            .asString()
            .contains("checksum mismatch");
      }
    }
  }

  private static int query(Statement sql, String query) throws Exception {
    try (ResultSet rows = sql.executeQuery(query)) {
      rows.next();
      return rows.getInt(1);
    }
  }
}
