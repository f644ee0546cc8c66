package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.JournalException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaTest {
  @TempDir Path dir;

  @Test
  void aNewFileIsCreatedAtTheCurrentVersionInWalMode() throws Exception {
    Path file = dir.resolve("sub/dir/journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "x"));
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.recover()).hasSize(1); // reopening applies nothing
    }
    try (Connection raw = Fixtures.raw(file)) {
      assertThat(query(raw, "SELECT max(version) FROM schema_version"))
          .isEqualTo(Schema.latestVersion());
      assertThat(query(raw, "SELECT count(*) FROM schema_version"))
          .isEqualTo(Schema.MIGRATIONS.list().size());
      assertThat(query(raw, "PRAGMA application_id")).isEqualTo(Schema.APPLICATION_ID);
      try (Statement sql = raw.createStatement();
          ResultSet rows = sql.executeQuery("PRAGMA journal_mode")) {
        rows.next();
        assertThat(rows.getString(1)).isEqualTo("wal");
      }
    }
  }

  @Test
  void migrationsAreNumberedInOrderFromOne() {
    for (int i = 0; i < Schema.MIGRATIONS.list().size(); i++) {
      assertThat(Schema.MIGRATIONS.list().get(i).version()).isEqualTo(i + 1);
    }
  }

  @Test
  void aFileFromANewerVersionIsRefusedAndLeftAlone() throws Exception {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "x"));
    }
    int newer = Fixtures.stampNewerVersion(file, Schema.latestVersion());
    assertThatThrownBy(() -> SqliteJournal.builder(file).open())
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("schema version " + newer)
        .hasMessageContaining("newer cfn")
        .hasMessageContaining(file.toString());
    try (Connection raw = Fixtures.raw(file)) {
      assertThat(query(raw, "SELECT max(version) FROM schema_version")).isEqualTo(newer);
      assertThat(query(raw, "SELECT count(*) FROM messages")).isEqualTo(1);
    }
    // the refused open released the lock: a later open is refused for the version, not the lock
    assertThatThrownBy(() -> SqliteJournal.builder(file).open()).hasMessageContaining("newer");
  }

  @Test
  void anotherSqliteDatabaseIsNotTakenOver() throws Exception {
    Path file = dir.resolve("app.db");
    try (Connection raw = Fixtures.raw(file);
        Statement sql = raw.createStatement()) {
      sql.executeUpdate("CREATE TABLE users (id INTEGER PRIMARY KEY)");
    }
    assertThatThrownBy(() -> SqliteJournal.builder(file).open())
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("not a cfn journal");
  }

  @Test
  void aFileThatIsNotSqliteIsRefusedClearly() throws Exception {
    Path file = dir.resolve("notes.db");
    Files.writeString(file, "these are my notes, not a database ".repeat(200));
    assertThatThrownBy(() -> SqliteJournal.builder(file).open())
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("not a cfn journal");
    assertThat(Files.readString(file)).startsWith("these are my notes");
  }

  private static int query(Connection raw, String sql) throws SQLException {
    try (Statement statement = raw.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getInt(1);
    }
  }
}
