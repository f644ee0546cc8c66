package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Online backups (instance and static) and the static store check. */
class BackupTest {
  private static final String NS = "worker/7";

  @TempDir Path dir;

  /**
   * The restore drill: a backup taken while four threads append and acknowledge, restored to a new
   * path and opened, holds every acknowledgement that completed before the backup began, with its
   * effect, and nothing appended after the backup ended.
   */
  @Test
  void aBackupUnderLoadRestoresEveryAcknowledgementMadeBeforeIt() throws Exception {
    Path file = dir.resolve("journal.db");
    Path backup = dir.resolve("backups/drill.db");
    AtomicLong ids = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    Set<Long> started = ConcurrentHashMap.newKeySet(); // append called
    Set<Long> appended = ConcurrentHashMap.newKeySet(); // append returned
    Set<Long> acknowledged = ConcurrentHashMap.newKeySet(); // acknowledge completed true
    Set<Long> ackedBefore;
    Set<Long> appendedBefore;
    Set<Long> startedBeforeEnd;
    BackupInfo info;
    try (SqliteJournal journal = SqliteJournal.builder(file).open();
        ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<?>> load = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        load.add(
            pool.submit(
                () -> {
                  while (!stop.get()) {
                    long id = ids.incrementAndGet();
                    Envelope m = message(id, "m" + id);
                    started.add(id);
                    journal.append(m);
                    appended.add(id);
                    if (id % 4 != 0) { // every fourth stays pending
                      boolean done =
                          journal
                              .acknowledge(m, List.of(new Effect.Put(NS, "k" + id, "v" + id)))
                              .join();
                      assertThat(done).isTrue();
                      acknowledged.add(id);
                    }
                  }
                  return null;
                }));
      }
      while (acknowledged.size() < 300) {
        Thread.sleep(1);
      }
      ackedBefore = Set.copyOf(acknowledged);
      appendedBefore = Set.copyOf(appended);
      info = journal.backupTo(backup);
      startedBeforeEnd = Set.copyOf(started);
      int ackedAtEnd = acknowledged.size();
      while (acknowledged.size() < ackedAtEnd + 100) { // the load goes on after the backup
        Thread.sleep(1);
      }
      stop.set(true);
      for (Future<?> f : load) {
        f.get();
      }
      assertThat(journal.lastBackup()).contains(info);
    }

    assertThat(info.path()).isEqualTo(backup.toAbsolutePath());
    assertThat(info.bytes()).isEqualTo(Files.size(backup));
    assertThat(info.acknowledgedIds()).isGreaterThanOrEqualTo(ackedBefore.size());
    assertThat(info.highestAcknowledgedId()).isGreaterThanOrEqualTo(Collections.max(ackedBefore));
    assertThat(info.stateRows()).isEqualTo(info.acknowledgedIds());
    try (Stream<Path> files = Files.list(backup.getParent())) {
      assertThat(files).containsExactly(backup); // no temporary file left
    }

    Path restored = dir.resolve("elsewhere/restored.db");
    RestoreInfo restore = JournalFiles.restore(backup, restored);
    assertThat(restore.movedAside()).isEmpty();
    assertThat(restore.pendingMessages()).isEqualTo(info.pendingMessages());
    assertThat(restore.acknowledgedIds()).isEqualTo(info.acknowledgedIds());
    try (SqliteJournal journal = SqliteJournal.builder(restored).open()) {
      Set<Long> pending =
          journal.recover().stream().map(e -> e.envelope().id()).collect(Collectors.toSet());
      assertThat(pending).hasSize((int) info.pendingMessages());
      for (long id : ackedBefore) {
        assertThat(journal.isAcknowledged(id)).as("acknowledged %d", id).isTrue();
        assertThat(journal.state(NS, "k" + id)).as("effect of %d", id).contains("v" + id);
      }
      assertThat(pending).doesNotContainAnyElementsOf(ackedBefore);
      assertThat(startedBeforeEnd).containsAll(pending);
      for (long id : appendedBefore) {
        assertThat(pending.contains(id) || journal.isAcknowledged(id)).as("kept %d", id).isTrue();
      }
      for (long id : pending) { // acknowledgement and effects are one transaction
        assertThat(journal.state(NS, "k" + id)).as("no effect of pending %d", id).isEmpty();
      }
      assertThat(journal.check().ok()).isTrue();
    }
  }

  @Test
  void theStaticBackupReadsAJournalHeldOpenElsewhereAndLeavesItUntouched() throws Exception {
    Path file = dir.resolve("journal.db");
    Path target = dir.resolve("copy.db");
    try (SqliteJournal owner = SqliteJournal.builder(file).open()) {
      for (long id = 1; id <= 20; id++) {
        owner.append(message(id, "m" + id));
      }
      for (long id = 1; id <= 5; id++) {
        owner.acknowledge(message(id, "m" + id), List.of(new Effect.Put(NS, "k", "" + id))).join();
      }
      owner.deadLetter(message(6, "m6"), 3, "gave up").join();
      Path wal = file.resolveSibling("journal.db-wal");
      byte[] dbBefore = Files.readAllBytes(file);
      byte[] walBefore = Files.readAllBytes(wal);
      long commits = owner.commitCount();

      BackupInfo info = JournalFiles.backup(file, target);

      assertThat(info.pendingMessages()).isEqualTo(14);
      assertThat(info.acknowledgedIds()).isEqualTo(5);
      assertThat(info.highestAcknowledgedId()).isEqualTo(5);
      assertThat(info.deadLetters()).isEqualTo(1);
      assertThat(info.stateRows()).isEqualTo(1);
      assertThat(Files.readAllBytes(file)).as("database file").isEqualTo(dbBefore);
      assertThat(Files.readAllBytes(wal)).as("write-ahead log").isEqualTo(walBefore);
      assertThat(owner.commitCount()).isEqualTo(commits);
      // the owner's OS lock survived (opening the lock file would have dropped it)
      assertThat(LockHolderProcess.tryOpen(file))
          .startsWith("REFUSED")
          .contains("in use by another process");
      owner.append(message(21, "still the owner"));
      assertThat(owner.lastBackup()).as("not this journal's backup").isEmpty();
    }
    Path restored = dir.resolve("restored.db");
    JournalFiles.restore(target, restored);
    try (SqliteJournal copy = SqliteJournal.builder(restored).open()) {
      assertThat(copy.recover()).extracting(e -> e.envelope().id()).doesNotContain(21L).hasSize(14);
      assertThat(copy.deadLetterQueue().find(6)).isPresent();
      assertThat(copy.state(NS, "k")).contains("5");
    }
  }

  @Test
  void theStaticBackupOfAClosedJournalWorksToo() {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "x"));
    }
    BackupInfo info = JournalFiles.backup(file, dir.resolve("b.db"));
    assertThat(info.pendingMessages()).isEqualTo(1);
    assertThat(JournalFiles.check(info.path()).ok()).isTrue();
  }

  @Test
  void anExistingTargetIsNeverOverwritten() throws Exception {
    Path file = dir.resolve("journal.db");
    Path target = dir.resolve("taken.db");
    Files.writeString(target, "precious");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "x"));
      assertThatThrownBy(() -> journal.backupTo(target))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(target.toString())
          .hasMessageContaining("already exists");
      assertThatThrownBy(() -> JournalFiles.backup(file, target))
          .hasMessageContaining("already exists");
      assertThatThrownBy(() -> journal.backupTo(file)).hasMessageContaining("onto itself");
      assertThat(Files.readString(target)).isEqualTo("precious");
      assertThat(journal.lastBackup()).isEmpty();
    }
    assertThat(listNames(dir))
        .containsExactlyInAnyOrder("journal.db", "journal.db.lock", "taken.db");
  }

  @Test
  void aJournalWithADamagedRecordIsNotBackedUpAndTheFailureSaysWhy() throws Exception {
    Path file = dir.resolve("journal.db");
    Path target = dir.resolve("backups/b.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "fine"));
      journal.append(message(2, "to be damaged"));
      try (Connection raw = Fixtures.raw(file);
          Statement sql = raw.createStatement()) {
        sql.executeUpdate("UPDATE messages SET sender = 'forged' WHERE id = 2");
      }
      assertThatThrownBy(() -> journal.backupTo(target))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("failed verification")
          .hasMessageContaining("messages id 2: checksum mismatch")
          .hasMessageContaining("cfn store check");
      assertThat(journal.lastBackup()).isEmpty();
    }
    assertThat(listNames(target.getParent())).isEmpty();
  }

  @Test
  void aClosedJournalRefusesBackupTo() {
    SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open();
    journal.close();
    assertThatThrownBy(() -> journal.backupTo(dir.resolve("b.db")))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("closed")
        .hasMessageContaining("JournalFiles.backup(Path, Path)");
  }

  @Test
  void theStaticCheckFindsADamagedRecordInAFileInUse() throws Exception {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(7, "fine"));
      journal.append(message(8, "to be damaged"));
      assertThat(JournalFiles.check(file)).isEqualTo(new StoreCheck(true, List.of()));
      try (Connection raw = Fixtures.raw(file);
          Statement sql = raw.createStatement()) {
        sql.executeUpdate("UPDATE messages SET payload = X'2274616d706572656422' WHERE id = 8");
      }
      StoreCheck check = JournalFiles.check(file);
      assertThat(check.ok()).isFalse();
      assertThat(check.problems())
          .singleElement()
          .asString()
          .startsWith("messages id 8: checksum mismatch");
      assertThat(check).isEqualTo(journal.check());
      journal.append(message(9, "the owner carries on"));
    }
    assertThat(JournalFiles.check(file).problems()).hasSize(1); // closed: same answer
  }

  @Test
  void theStaticCheckReportsFilesThatAreNotJournals() throws Exception {
    Path notes = dir.resolve("notes.db");
    Files.writeString(notes, "these are my notes, not a database ".repeat(200));
    assertThat(JournalFiles.check(notes).ok()).isFalse();
    assertThat(Files.readString(notes)).startsWith("these are my notes");

    Path other = dir.resolve("app.db");
    try (Connection raw = Fixtures.raw(other);
        Statement sql = raw.createStatement()) {
      sql.executeUpdate("CREATE TABLE users (id INTEGER PRIMARY KEY)");
    }
    assertThat(JournalFiles.check(other).problems())
        .singleElement()
        .asString()
        .contains("not a cfn journal");

    Path missing = dir.resolve("missing.db");
    assertThatThrownBy(() -> JournalFiles.check(missing))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("there is no journal at " + missing);
    assertThat(missing).doesNotExist();
  }

  static List<String> listNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
