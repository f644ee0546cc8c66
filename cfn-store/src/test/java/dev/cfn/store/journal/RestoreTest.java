package dev.cfn.store.journal;

import static dev.cfn.store.journal.BackupTest.listNames;
import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.Fixtures.SettableClock;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestoreTest {
  private static final Instant NOW = Instant.parse("2030-01-02T03:04:05.678Z");

  @TempDir Path dir;

  private Path database() {
    return dir.resolve("journal.db");
  }

  /** A backup holding message 1, and a current database holding message 2 and 3. */
  private Path backupAndMoveOn() {
    Path backup = dir.resolve("backup.db");
    try (SqliteJournal journal = SqliteJournal.builder(database()).open()) {
      journal.append(message(1, "in the backup"));
      journal.backupTo(backup);
      journal.acknowledge(message(1, "in the backup"), List.of()).join();
      journal.append(message(2, "after the backup"));
      journal.append(message(3, "after the backup"));
    }
    return backup;
  }

  @Test
  void restoreMovesTheCurrentDatabaseAsideAndPutsTheBackupInPlace() throws Exception {
    Path backup = backupAndMoveOn();
    byte[] backupBytes = Files.readAllBytes(backup);

    RestoreInfo info = JournalFiles.restore(backup, database(), new SettableClock(NOW));

    Path aside = dir.resolve("journal.db.before-restore-20300102T030405.678Z");
    assertThat(info.backup()).isEqualTo(backup);
    assertThat(info.database()).isEqualTo(database());
    assertThat(info.movedAside()).containsExactly(aside);
    assertThat(info.pendingMessages()).isEqualTo(1);
    assertThat(info.acknowledgedIds()).isZero();
    assertThat(info.bytes()).isEqualTo(Files.size(database()));
    assertThat(Files.readAllBytes(backup))
        .as("the backup is left as it was")
        .isEqualTo(backupBytes);
    assertThat(listNames(dir)).noneMatch(name -> name.startsWith("."));
    try (SqliteJournal journal = SqliteJournal.builder(database()).open()) {
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(1L);
      assertThat(journal.isAcknowledged(1)).isFalse();
      assertThat(journal.highestId())
          .as("ids used after the backup are not handed out again")
          .isEqualTo(3);
    }
    try (SqliteJournal old = SqliteJournal.builder(aside).open()) {
      assertThat(old.recover()).extracting(e -> e.envelope().id()).containsExactly(2L, 3L);
      assertThat(old.isAcknowledged(1)).isTrue();
    }
  }

  /**
   * A database left by a crash has committed transactions only in its -wal: it is moved aside with
   * its log renamed to match, so opening the moved file still finds them.
   */
  @Test
  void theWriteAheadLogOfACrashedDatabaseMovesWithIt() throws Exception {
    Path backup = dir.resolve("backup.db");
    Path crashed = dir.resolve("crashed.db");
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("live.db")).open()) {
      journal.backupTo(backup); // empty
      for (long id = 1; id <= 10; id++) {
        journal.append(message(id, "only in the log"));
      }
      // the files as a kill -9 would leave them: committed pages still in the -wal
      Files.copy(dir.resolve("live.db"), crashed);
      Files.copy(dir.resolve("live.db-wal"), dir.resolve("crashed.db-wal"));
    }

    RestoreInfo info = JournalFiles.restore(backup, crashed, new SettableClock(NOW));

    Path aside = dir.resolve("crashed.db.before-restore-20300102T030405.678Z");
    assertThat(info.movedAside()).containsExactly(aside, dir.resolve(aside.getFileName() + "-wal"));
    assertThat(dir.resolve("crashed.db-wal")).doesNotExist();
    try (SqliteJournal journal = SqliteJournal.builder(crashed).open()) {
      assertThat(journal.recover()).isEmpty();
    }
    try (SqliteJournal old = SqliteJournal.builder(aside).open()) {
      assertThat(old.recover()).hasSize(10);
    }
  }

  @Test
  void aSecondRestoreAtTheSameInstantDoesNotOverwriteTheFirstOnesAside() {
    Path backup = backupAndMoveOn();
    SettableClock clock = new SettableClock(NOW);
    JournalFiles.restore(backup, database(), clock);
    RestoreInfo second = JournalFiles.restore(backup, database(), clock);
    assertThat(second.movedAside())
        .containsExactly(dir.resolve("journal.db.before-restore-20300102T030405.678Z-2"));
    assertThat(dir.resolve("journal.db.before-restore-20300102T030405.678Z")).exists();
  }

  @Test
  void restoreRefusesWhileTheDatabaseIsOpenAndChangesNothing() throws Exception {
    Path backup = backupAndMoveOn();
    try (SqliteJournal journal = SqliteJournal.builder(database()).open()) {
      List<String> before = listNames(dir);
      assertThatThrownBy(() -> JournalFiles.restore(backup, database()))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("cannot restore " + backup + " into " + database())
          .hasMessageContaining("in use")
          .hasMessageContaining("Nothing was changed");
      assertThat(listNames(dir)).isEqualTo(before);
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(2L, 3L);
      journal.append(message(4, "the owner carries on"));
    }
  }

  @Test
  void restoreRefusesWhileAnotherProcessHoldsTheDatabase() throws Exception {
    Path backup = backupAndMoveOn();
    try (ChildJvm child = LockHolderProcess.start(database())) {
      assertThat(LockHolderProcess.firstLine(child)).isEqualTo("OPEN");
      assertThatThrownBy(() -> JournalFiles.restore(backup, database()))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("in use by another process (pid " + child.pid() + ")")
          .hasMessageContaining("Nothing was changed");
      child.closeInput();
      assertThat(child.waitFor(Duration.ofSeconds(60))).as("the child let go").isTrue();
    }
    assertThat(listNames(dir)).noneMatch(name -> name.contains("before-restore"));
  }

  @Test
  void restoreRefusesADamagedBackupAndChangesNothing() throws Exception {
    Path backup = backupAndMoveOn();
    try (Connection raw = Fixtures.raw(backup);
        Statement sql = raw.createStatement()) {
      sql.executeUpdate("UPDATE messages SET type = 'forged' WHERE id = 1");
    }
    byte[] current = Files.readAllBytes(database());
    List<String> before = listNames(dir);

    assertThatThrownBy(() -> JournalFiles.restore(backup, database()))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("the backup " + backup + " is damaged")
        .hasMessageContaining("messages id 1: checksum mismatch")
        .hasMessageContaining("Nothing was changed");

    assertThat(listNames(dir)).isEqualTo(before);
    assertThat(Files.readAllBytes(database())).isEqualTo(current);
    Path fresh = dir.resolve("fresh/journal.db");
    assertThatThrownBy(() -> JournalFiles.restore(backup, fresh))
        .hasMessageContaining("Nothing was changed");
    assertThat(fresh.getParent()).as("not even its directory was created").doesNotExist();
    try (SqliteJournal journal = SqliteJournal.builder(database()).open()) {
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(2L, 3L);
    }
  }

  @Test
  void restoreRefusesFilesThatAreNotBackups() throws Exception {
    backupAndMoveOn();
    Path notes = dir.resolve("notes.db");
    Files.writeString(notes, "not a database ".repeat(500));
    assertThatThrownBy(() -> JournalFiles.restore(notes, database()))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("is damaged or not a cfn journal backup");
    assertThatThrownBy(() -> JournalFiles.restore(dir.resolve("missing.db"), database()))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("there is no backup at");
    assertThatThrownBy(() -> JournalFiles.restore(database(), database()))
        .hasMessageContaining("onto itself");
    assertThat(listNames(dir)).noneMatch(name -> name.contains("before-restore"));
  }

  @Test
  void restoreRefusesABackupFromANewerCfn() throws Exception {
    Path backup = backupAndMoveOn();
    int newer = Fixtures.stampNewerVersion(backup, Schema.latestVersion());
    assertThatThrownBy(() -> JournalFiles.restore(backup, database()))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("schema version " + newer)
        .hasMessageContaining("newer cfn");
    assertThat(listNames(dir)).noneMatch(name -> name.contains("before-restore"));
  }
}
