package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.sqlite.SqliteErrors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * A full or unwritable disk: the failed batch reports what happened and what was not done, and the
 * journal carries on once the disk does.
 */
class DiskFailureTest {
  private static final String BIG = "x".repeat(200_000);

  @TempDir Path dir;

  @Test
  void aFullDatabaseFailsTheWholeBatchAndTheWriterRecovers() throws Exception {
    Path file = dir.resolve("journal.db");
    Envelope pending = message(1, "small");
    try (SqliteJournal journal = SqliteJournal.builder(file).open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      journal.append(pending);
      journal.maxPageCount(1); // SQLite keeps the current size: no page can be added

      Fixtures.Hold hold = Fixtures.hold(journal);
      Future<?> big = pool.submit(() -> journal.append(message(2, BIG)));
      Fixtures.awaitQueued(journal, 1);
      CompletableFuture<Boolean> ack = journal.acknowledge(pending, List.of());
      Fixtures.awaitQueued(journal, 2);
      hold.release.countDown();

      assertThatThrownBy(big::get)
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageStartingWith("disk full at " + file)
          .hasMessageContaining("free space")
          .hasMessageContaining("message 2 was not stored");
      assertThatThrownBy(ack::join)
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageStartingWith("disk full at " + file)
          .hasMessageContaining("nothing in this batch was written")
          .hasMessageContaining("message 1 was not acknowledged and stays pending");
      assertThat(journal.isAcknowledged(1)).isFalse();
      assertThatThrownBy(() -> journal.append(message(3, BIG))).hasMessageContaining("disk full");

      journal.maxPageCount(Integer.MAX_VALUE); // space is back
      journal.append(message(2, BIG));
      assertThat(journal.acknowledge(pending, List.of()).join()).isTrue();
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(2L);
      assertThat(journal.check().ok()).isTrue();
    }
  }

  /**
   * The real thing: a file system that runs out of space. Needs root to mount a small tmpfs, so it
   * is skipped elsewhere.
   */
  @Test
  void aRealFullDiskReportsDiskFullAndRecoversWhenSpaceIsFreed() throws Exception {
    Path mount = Files.createDirectory(dir.resolve("disk"));
    assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString()) == 0,
        "cannot mount a tmpfs here (needs root)");
    try {
      Path file = mount.resolve("journal.db");
      Path filler = mount.resolve("filler");
      try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
        journal.append(message(1, "before"));
        fill(filler);
        assertThatThrownBy(() -> journal.append(message(2, BIG)))
            .isInstanceOf(JournalException.class)
            .hasMessageStartingWith("disk full at " + file)
            .hasMessageContaining("message 2 was not stored");
        Files.delete(filler);
        journal.append(message(2, BIG));
        assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(1L, 2L);
      }
      try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
        assertThat(journal.recover()).hasSize(2);
        assertThat(journal.check().ok()).isTrue();
      }
    } finally {
      run("umount", "-l", mount.toString());
    }
  }

  /** An immutable file (chattr +i, which binds root too) cannot be opened for writing. */
  @Test
  void aReadOnlyFileIsRefusedWithWhatToDo() throws Exception {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "x"));
    }
    assumeTrue(run("chattr", "+i", file.toString()) == 0, "chattr +i is not available here");
    try {
      assertThatThrownBy(() -> SqliteJournal.builder(file).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("read-only");
    } finally {
      run("chattr", "-i", file.toString());
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.recover()).hasSize(1);
    }
  }

  @Test
  void sqliteErrorsAreTranslatedIntoWhatToDo() {
    Path file = Path.of("/data/journal.db");
    assertThat(SqliteErrors.describe(error(SQLiteErrorCode.SQLITE_FULL), file))
        .startsWith("disk full at /data/journal.db: free space");
    assertThat(SqliteErrors.describe(new SQLException("disk I/O error", "HY000", 778), file))
        .startsWith("I/O error on /data/journal.db");
    assertThat(SqliteErrors.describe(error(SQLiteErrorCode.SQLITE_READONLY), file))
        .contains("is read-only");
    assertThat(SqliteErrors.describe(error(SQLiteErrorCode.SQLITE_CANTOPEN), file))
        .startsWith("cannot open /data/journal.db");
    for (SQLiteErrorCode fatal :
        List.of(
            SQLiteErrorCode.SQLITE_FULL,
            SQLiteErrorCode.SQLITE_IOERR,
            SQLiteErrorCode.SQLITE_READONLY,
            SQLiteErrorCode.SQLITE_CANTOPEN,
            SQLiteErrorCode.SQLITE_CORRUPT,
            SQLiteErrorCode.SQLITE_BUSY)) {
      assertThat(SqliteErrors.endsBatch(error(fatal))).as(fatal.name()).isTrue();
    }
    assertThat(SqliteErrors.endsBatch(error(SQLiteErrorCode.SQLITE_CONSTRAINT))).isFalse();
  }

  private static SQLException error(SQLiteErrorCode code) {
    return new SQLiteException(code.message, code);
  }

  private static void fill(Path filler) throws IOException {
    byte[] block = new byte[4096];
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(block);
        out.flush();
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("No space left")) {
        throw e;
      }
    }
  }

  private static int run(String... command) throws InterruptedException {
    try {
      return new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor();
    } catch (IOException e) {
      return -1;
    }
  }
}
