package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.core.spi.JournalException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The opt-in pipelined fsync of a FULL journal ({@link WalSync}): a commit's futures complete only
 * after the WAL's fsync, the writer commits the next batch meanwhile, and a failed fsync stops the
 * journal's writes.
 */
class WalSyncTest {
  @TempDir Path dir;

  private String property;

  @BeforeEach
  void pipelinedOnLinux() {
    // WalSync runs on Linux only; elsewhere SQLite's FULL fsyncs inside each commit
    assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux"));
    property = System.getProperty(WalSync.PROPERTY);
    System.setProperty(WalSync.PROPERTY, "cfn"); // opt-in
  }

  @AfterEach
  void restoreProperty() {
    if (property == null) {
      System.clearProperty(WalSync.PROPERTY);
    } else {
      System.setProperty(WalSync.PROPERTY, property);
    }
  }

  @Test
  void aCommitCompletesOnlyAfterTheFsyncWhileTheWriterCommitsTheNextBatch() throws Exception {
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("j.db")).open()) {
      CountDownLatch release = new CountDownLatch(1);
      AtomicInteger syncs = new AtomicInteger();
      assertThat(
              journal.walSyncHook(
                  wal -> {
                    syncs.incrementAndGet();
                    awaitUninterruptibly(release);
                    wal.force(false);
                  }))
          .isTrue();
      long commits = journal.commitCount();
      long walSyncs = journal.walSyncCount();

      CompletableFuture<Void> first = journal.appendQueued(message(1, "a"));
      awaitTrue(() -> journal.commitCount() == commits + 1 && syncs.get() == 1);
      CompletableFuture<Void> second = journal.appendQueued(message(2, "b"));
      // the writer did not wait for the first fsync: the second batch is committed too
      awaitTrue(() -> journal.commitCount() == commits + 2);
      assertThat(first).isNotDone();
      assertThat(second).isNotDone();

      release.countDown();
      first.get(30, TimeUnit.SECONDS);
      second.get(30, TimeUnit.SECONDS);
      // the second batch waited for an fsync that started after its commit
      assertThat(syncs.get()).isEqualTo(2);
      assertThat(journal.walSyncCount()).isEqualTo(walSyncs + 2);
    }
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("j.db")).open()) {
      assertThat(journal.recover())
          .extracting(e -> e.envelope().payload())
          .containsExactly("a", "b");
    }
  }

  @Test
  void aFailedFsyncFailsItsBatchAndEveryLaterWriteUntilReopened() {
    Path file = dir.resolve("j.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "durable"));
      journal.walSyncHook(
          wal -> {
            throw new IOException("injected: Input/output error");
          });
      assertThatThrownBy(() -> journal.append(message(2, "unknown")))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("the fsync of")
          .hasMessageContaining("injected: Input/output error")
          .hasMessageContaining("message 2 was not stored")
          .hasMessageContaining("may or may not survive");
      // nothing is trusted after a failed fsync, even once the disk answers again
      journal.walSyncHook(wal -> wal.force(false));
      assertThatThrownBy(() -> journal.append(message(3, "refused")))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("takes no more writes")
          .hasMessageContaining("close and open it again");
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      // message 2 had reached the WAL (the process did not die, so the OS still held it);
      // message 3 was never run
      assertThat(journal.recover())
          .extracting(e -> e.envelope().payload())
          .containsExactly("durable", "unknown");
      journal.append(message(4, "after reopening"));
      assertThat(journal.recover()).hasSize(3);
    }
  }

  @Test
  void byDefaultSqliteFsyncsInEachCommitAndNormalHasNone() {
    System.clearProperty(WalSync.PROPERTY);
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("s.db")).open()) {
      assertThat(journal.walSyncHook(wal -> {})).isFalse();
      journal.append(message(1, "a"));
      assertThat(journal.walSyncCount()).isZero();
    }
    System.setProperty(WalSync.PROPERTY, "sqlite");
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("q.db")).open()) {
      assertThat(journal.walSyncHook(wal -> {})).isFalse();
    }
    try (SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("n.db"))
            .synchronous(SqliteJournal.Synchronous.NORMAL)
            .open()) {
      assertThat(journal.walSyncHook(wal -> {})).isFalse();
    }
  }

  private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("condition within 30 s").isNegative();
      Thread.sleep(5);
    }
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
