package dev.cfn.store.calls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.CallLogException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.journal.Fixtures;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durable call log: persistence across reopening, checksums, the retention sweep, identity. */
class CallLogStoreTest {
  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("calls.db");
  }

  private static long queryLong(Statement sql, String query) throws Exception {
    try (ResultSet rows = sql.executeQuery(query)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  @Test
  void recordsSurviveClosingAndReopeningAndTheFirstRecordOfAKeyWins() throws Exception {
    Path nested = dir.resolve("a/b/calls.db");
    try (SqliteCallLogStore calls = SqliteCallLogStore.open(nested)) {
      assertThat(calls.file()).isEqualTo(nested.toAbsolutePath());
      assertThat(calls.find("agent/1|m7|1|model")).isEmpty();
      assertThat(calls.record("agent/1|m7|1|model", "{\"text\":\"first\"}")).isTrue();
      assertThat(calls.record("agent/1|m7|1|model", "{\"text\":\"second\"}")).isFalse();
      assertThat(calls.record("agent/1|m7|1|tool|0|call_1", "{\"content\":\"ok\"}")).isTrue();
    }
    try (SqliteCallLogStore calls = SqliteCallLogStore.open(nested)) {
      assertThat(calls.find("agent/1|m7|1|model")).contains("{\"text\":\"first\"}");
      assertThat(calls.find("agent/1|m7|1|tool|0|call_1")).contains("{\"content\":\"ok\"}");
      assertThat(calls.count()).isEqualTo(2);
      assertThat(calls.check().ok()).isTrue();
    }
    try (Connection c = Fixtures.raw(nested);
        Statement sql = c.createStatement()) {
      assertThat(queryLong(sql, "PRAGMA application_id")).isEqualTo(CallLogSchema.APPLICATION_ID);
      assertThat(queryLong(sql, "SELECT max(version) FROM schema_version"))
          .isEqualTo(CallLogSchema.latestVersion());
      assertThat(queryLong(sql, "SELECT count(*) FROM schema_version"))
          .as("no migration applied twice")
          .isEqualTo(CallLogSchema.MIGRATIONS.list().size());
      try (ResultSet rows = sql.executeQuery("PRAGMA journal_mode")) {
        rows.next();
        assertThat(rows.getString(1)).isEqualTo("wal");
      }
    }
  }

  @Test
  void aRecordChangedBehindTheStoresBackFailsItsChecksum() throws Exception {
    try (SqliteCallLogStore calls = SqliteCallLogStore.open(file())) {
      calls.record("k1", "{\"n\":1}");
      calls.record("k2", "{\"n\":2}");
    }
    try (Connection c = Fixtures.raw(file());
        Statement sql = c.createStatement()) {
      sql.executeUpdate("UPDATE calls SET result = '{\"n\":99}' WHERE key = 'k2'");
    }
    try (SqliteCallLogStore calls = SqliteCallLogStore.open(file())) {
      assertThat(calls.find("k1")).contains("{\"n\":1}");
      assertThatThrownBy(() -> calls.find("k2"))
          .isInstanceOf(CallLogException.class)
          .hasMessageContaining("'k2'")
          .hasMessageContaining("fails its checksum");
      StoreCheck check = calls.check();
      assertThat(check.ok()).isFalse();
      assertThat(check.problems()).singleElement().asString().contains("'k2'");
    }
  }

  @Test
  void theSweepDeletesRecordsOlderThanTheRetentionPeriod() {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    try (SqliteCallLogStore calls =
        SqliteCallLogStore.builder(file())
            .clock(clock)
            .retention(Duration.ofDays(7))
            .sweepEvery(Duration.ZERO)
            .open()) {
      calls.record("old", "{}");
      clock.advance(Duration.ofDays(5));
      calls.record("young", "{}");
      clock.advance(Duration.ofDays(2)); // "old" is exactly 7 days old: still kept
      assertThat(calls.sweep()).isZero();
      clock.advance(Duration.ofMillis(1));
      assertThat(calls.sweep()).isEqualTo(1);
      assertThat(calls.find("old")).isEmpty();
      assertThat(calls.find("young")).contains("{}");
    }
    clock.advance(Duration.ofDays(6));
    try (SqliteCallLogStore calls =
        SqliteCallLogStore.builder(file()).clock(clock).sweepEvery(Duration.ZERO).open()) {
      assertThat(calls.count()).as("opening sweeps too").isZero();
    }
  }

  @Test
  void theScheduledSweepRunsOnItsOwn() throws Exception {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    try (SqliteCallLogStore calls =
        SqliteCallLogStore.builder(file())
            .clock(clock)
            .retention(Duration.ofMinutes(1))
            .sweepEvery(Duration.ofMillis(10))
            .open()) {
      calls.record("k", "{}");
      clock.advance(Duration.ofMinutes(2));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (calls.count() > 0) {
        assertThat(System.nanoTime()).as("swept within 30 s").isLessThan(deadline);
        Thread.sleep(5);
      }
    }
  }

  @Test
  void otherFilesAreRefusedAndLeftUnchanged() throws Exception {
    Path journal = dir.resolve("cfn.db");
    SqliteJournal.builder(journal).open().close();
    assertThatThrownBy(() -> SqliteCallLogStore.open(journal))
        .isInstanceOf(CallLogException.class)
        .hasMessageContaining("not a cfn call log")
        .hasMessageContaining("cfn journal");
    Path memory = dir.resolve("memory.db");
    SqliteMemoryStore.open(memory).close();
    assertThatThrownBy(() -> SqliteCallLogStore.open(memory))
        .isInstanceOf(CallLogException.class)
        .hasMessageContaining("memory file");

    SqliteCallLogStore.open(file()).close();
    Fixtures.stampNewerVersion(file(), CallLogSchema.latestVersion());
    byte[] before = Files.readAllBytes(file());
    assertThatThrownBy(() -> SqliteCallLogStore.open(file()))
        .isInstanceOf(CallLogException.class)
        .hasMessageContaining("newer cfn");
    assertThat(Files.readAllBytes(file())).isEqualTo(before);
  }

  @Test
  void badKeysAndAClosedStoreSayWhatToDo() {
    SqliteCallLogStore calls = SqliteCallLogStore.open(file());
    assertThatThrownBy(() -> calls.record("", "{}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> calls.find("x".repeat(SqliteCallLogStore.MAX_KEY_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most");
    calls.close();
    calls.close();
    assertThatThrownBy(() -> calls.find("k"))
        .isInstanceOf(CallLogException.class)
        .hasMessageContaining("is closed");
  }
}
