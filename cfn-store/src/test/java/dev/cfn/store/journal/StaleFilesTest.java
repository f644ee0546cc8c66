package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.spi.Effect;
import dev.cfn.store.StoreCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What killed backups leave behind is removed, and damage is reported by name, never as bytes. */
class StaleFilesTest {
  @TempDir Path dir;

  @Test
  void aKilledBackupsPartialIsRemovedByTheNextBackupOnceItsWriterIsGone() throws Exception {
    Path journalFile = dir.resolve("journal.db");
    Path backups = Files.createDirectories(dir.resolve("backups"));
    Process writer = new ProcessBuilder("sleep", "600").start(); // a backup in progress elsewhere
    try (SqliteJournal journal = SqliteJournal.builder(journalFile).open()) {
      journal.append(message(1, "x"));
      Path busy = partialOf(backups.resolve("b1.db"), writer.toHandle(), "partial");
      Files.write(busy, new byte[4096]);
      Path legacyOld = backups.resolve(".b0.db.0123456789abcdef.partial");
      Files.write(legacyOld, new byte[4096]);
      Files.setLastModifiedTime(legacyOld, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
      Path legacyRecent = backups.resolve(".b9.db.fedcba9876543210.partial");
      Files.write(legacyRecent, new byte[16]);

      journal.backupTo(backups.resolve("b2.db"));
      assertThat(names(backups))
          .as("the live writer's partial and a recent one of an older cfn are kept")
          .containsExactlyInAnyOrder(
              "b2.db", busy.getFileName().toString(), legacyRecent.getFileName().toString());

      writer.destroyForcibly(); // the attack: the backup is killed mid-way
      writer.waitFor();
      JournalFiles.backup(journalFile, backups.resolve("b3.db"));
      assertThat(names(backups))
          .containsExactlyInAnyOrder("b2.db", "b3.db", legacyRecent.getFileName().toString());
    } finally {
      writer.destroyForcibly();
    }
  }

  @Test
  void aKilledRestoresCopyIsRemovedWhenTheJournalOpens() throws Exception {
    Path journalFile = dir.resolve("journal.db");
    Process writer = new ProcessBuilder("sleep", "600").start();
    ProcessHandle handle = writer.toHandle();
    Path copy = partialOf(journalFile, handle, "restoring");
    Files.write(copy, new byte[4096]);
    writer.destroyForcibly();
    writer.waitFor();
    try (SqliteJournal journal = SqliteJournal.builder(journalFile).open()) {
      journal.append(message(1, "x"));
    }
    assertThat(Files.exists(copy)).isFalse();
  }

  @Test
  void temporaryFilesNameTheirWriterAndAreRecognisable() {
    Path partial = Backups.hiddenSibling(dir.resolve("b.db"), "partial");
    assertThat(partial.getFileName().toString())
        .matches(
            "\\.b\\.db\\." + ProcessHandle.current().pid() + "-\\d+-[0-9a-f]{16}\\.cfn-partial");
  }

  @Test
  void aDamagedPageIsNamedByTableAndPageAndNoMessageShowsAByteArray() throws Exception {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      for (long id = 1; id <= 3; id++) {
        var m = message(id, "m" + id);
        journal.append(m);
        journal.acknowledge(m, List.of(new Effect.Put("counter/1", "seen/" + id, "1"))).join();
      }
    }
    // a namespace whose stored type turned into a blob: named as bytes, never [B@...
    try (Connection raw = Fixtures.raw(file);
        Statement sql = raw.createStatement()) {
      sql.executeUpdate(
          "UPDATE state SET namespace = CAST(namespace AS BLOB) WHERE key = 'seen/2'");
    }
    StoreCheck check = JournalFiles.check(file);
    assertThat(check.ok()).isFalse();
    assertThat(check.problems())
        .anySatisfy(p -> assertThat(p).contains("state namespace x'636f756e7465722f31'"))
        .allSatisfy(p -> assertThat(p).doesNotContain("[B@"));

    // a page overwritten with garbage: check names the table and the page SQLite reported
    long root;
    int pageSize;
    try (Connection raw = Fixtures.raw(file);
        Statement sql = raw.createStatement()) {
      var rows = sql.executeQuery("SELECT rootpage FROM sqlite_master WHERE name = 'state'");
      rows.next();
      root = rows.getLong(1);
      rows = sql.executeQuery("PRAGMA page_size");
      rows.next();
      pageSize = rows.getInt(1);
      sql.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    byte[] bytes = Files.readAllBytes(file);
    int base = (int) (root - 1) * pageSize;
    for (int i = base + 8; i < base + 40; i++) {
      bytes[i] = (byte) 0xA5; // the cell pointers of the state table's root page
    }
    Files.write(file, bytes);
    StoreCheck damaged = JournalFiles.check(file);
    assertThat(damaged.ok()).isFalse();
    assertThat(String.join("\n", damaged.problems()))
        .contains("Tree " + root + " (state)")
        .contains("page " + root)
        .doesNotContain("lists what is damaged")
        .doesNotContain("[B@");
  }

  /** The name a backup (or restore) writing for {@code target} in process {@code writer} uses. */
  private static Path partialOf(Path target, ProcessHandle writer, String kind) {
    long start = writer.info().startInstant().orElseThrow().toEpochMilli();
    return target.resolveSibling(
        "."
            + target.getFileName()
            + "."
            + writer.pid()
            + "-"
            + start
            + "-0123456789abcdef.cfn-"
            + kind);
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
