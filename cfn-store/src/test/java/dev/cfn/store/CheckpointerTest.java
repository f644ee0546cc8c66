package dev.cfn.store;

import static dev.cfn.store.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointerTest {
  @TempDir Path dir;

  @Test
  void walIsCheckpointedInTheBackgroundAndTheDataSurvivesReopening() throws Exception {
    Path file = dir.resolve("journal.db");
    int messages = Checkpointer.EVERY_COMMITS * 3;
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      for (long id = 1; id <= messages; id++) {
        journal.append(message(id, "m" + id)); // one commit each: nothing else is queued
      }
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (journal.checkpointCount() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(journal.checkpointCount()).isPositive();
      // the checkpointed pages are in the database file itself, not only in the WAL
      assertThat(Files.size(file)).isGreaterThan(4096L * 2);
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement sql = c.createStatement();
        ResultSet rows = sql.executeQuery("SELECT count(*) FROM messages")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getInt(1)).isEqualTo(messages);
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.recover()).hasSize(messages);
    }
  }
}
