package dev.cfn.store.journal;

import static dev.cfn.store.journal.BackupTest.listNames;
import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.store.journal.Fixtures.SettableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scheduled backups, driven through {@link SqliteJournal#runScheduledBackup()} with a long interval
 * so that nothing depends on the schedule's timing.
 */
class ScheduledBackupTest {
  private static final Duration NEVER_DURING_THE_TEST = Duration.ofHours(1);

  @TempDir Path dir;

  @Test
  void scheduledBackupsAreNamedByTimeAndRotatedToKeep() throws Exception {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Path backups = dir.resolve("backups");
    Files.createDirectories(backups);
    Files.writeString(backups.resolve("notes.txt"), "mine");
    Files.writeString(backups.resolve("cfn-backup-by-hand.db"), "mine too");
    Files.writeString(backups.resolve(".cfn-backup-20291231T235900.000Z.db.1234.partial"), "");
    List<BackupInfo> taken = new ArrayList<>();
    try (SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("journal.db"))
            .clock(clock)
            .backups(backups, NEVER_DURING_THE_TEST, 3)
            .open()) {
      assertThat(journal.lastBackup()).isEmpty();
      for (long id = 1; id <= 5; id++) {
        journal.append(message(id, "m" + id));
        taken.add(journal.runScheduledBackup().orElseThrow());
        assertThat(journal.lastBackup()).contains(taken.getLast());
        clock.advance(Duration.ofMinutes(1));
      }
    }
    assertThat(taken).extracting(BackupInfo::pendingMessages).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(taken.getLast().takenAt()).isEqualTo(Instant.parse("2030-01-01T00:04:00Z"));
    assertThat(listNames(backups))
        .as("the 3 newest backups; other files kept, the interrupted one's leftover removed")
        .containsExactly(
            "cfn-backup-20300101T000200.000Z.db",
            "cfn-backup-20300101T000300.000Z.db",
            "cfn-backup-20300101T000400.000Z.db",
            "cfn-backup-by-hand.db",
            "notes.txt");
    assertThat(taken.getLast().path())
        .isEqualTo(backups.toAbsolutePath().resolve("cfn-backup-20300101T000400.000Z.db"));
    assertThat(JournalFiles.check(taken.getLast().path()).ok()).isTrue();
  }

  @Test
  void aBackupAtAnInstantAlreadyTakenReplacesThatBackup() {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Path backups = dir.resolve("backups");
    try (SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("journal.db"))
            .clock(clock)
            .backups(backups, NEVER_DURING_THE_TEST, 5)
            .open()) {
      journal.append(message(1, "one"));
      journal.runScheduledBackup().orElseThrow();
      journal.append(message(2, "two"));
      BackupInfo second = journal.runScheduledBackup().orElseThrow();
      assertThat(second.pendingMessages()).isEqualTo(2);
    }
    assertThat(backups.toFile().list()).containsExactly("cfn-backup-20300101T000000.000Z.db");
  }

  @Test
  void aFailedScheduledBackupIsRetriedAndNeverFailsTheJournal() throws Exception {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Path backups = dir.resolve("backups");
    Files.writeString(backups, "a file where the directory should be");
    try (SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("journal.db"))
            .clock(clock)
            .backups(backups, NEVER_DURING_THE_TEST, 3)
            .open()) {
      journal.append(message(1, "x"));
      assertThat(journal.runScheduledBackup()).isEmpty();
      assertThat(journal.lastBackup()).isEmpty();
      journal.append(message(2, "the journal carries on"));

      Files.delete(backups); // the operator fixes it
      clock.advance(Duration.ofMinutes(1));
      BackupInfo info = journal.runScheduledBackup().orElseThrow();
      assertThat(info.pendingMessages()).isEqualTo(2);
      assertThat(journal.lastBackup()).contains(info);
    }
  }

  @Test
  void noScheduleMeansNoScheduledBackup() {
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open()) {
      assertThat(journal.runScheduledBackup()).isEmpty();
    }
    assertThat(dir.resolve("backups")).doesNotExist();
  }

  @Test
  void aClosedJournalTakesNoMoreScheduledBackups() throws Exception {
    Path backups = dir.resolve("backups");
    SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("journal.db"))
            .backups(backups, NEVER_DURING_THE_TEST, 3)
            .open();
    journal.runScheduledBackup().orElseThrow();
    assertThat(journal.backupsStopped()).isFalse();
    journal.close();
    assertThat(journal.backupsStopped()).isTrue();
    assertThat(journal.runScheduledBackup()).isEmpty();
    assertThat(listNames(backups)).hasSize(1);
  }

  @Test
  void badBackupOptionsAreRefusedWithWhatToDo() {
    SqliteJournal.Builder builder = SqliteJournal.builder(dir.resolve("journal.db"));
    Path backups = dir.resolve("backups");
    assertThatThrownBy(() -> builder.backups(backups, Duration.ZERO, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backup interval must be positive, was PT0S")
        .hasMessageContaining("default is PT1M");
    assertThatThrownBy(() -> builder.backups(backups, Duration.ofSeconds(-5), 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was PT-5S");
    assertThatThrownBy(() -> builder.backups(backups, Duration.ofMinutes(1), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keep must be at least 1 backup, was 0")
        .hasMessageContaining("default is 60");
    assertThatThrownBy(() -> builder.backups(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("backup directory");
    assertThatThrownBy(() -> builder.backups(backups, null, 3))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("backup interval");
    // the defaults
    try (SqliteJournal journal = builder.backups(backups).open()) {
      assertThat(journal.runScheduledBackup()).isPresent();
    }
    assertThat(SqliteJournal.DEFAULT_BACKUP_INTERVAL).isEqualTo(Duration.ofMinutes(1));
    assertThat(SqliteJournal.DEFAULT_BACKUP_KEEP).isEqualTo(60);
  }
}
