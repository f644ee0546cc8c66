package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.Journal.JournalEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {
  @TempDir Path dir;

  @Test
  void concurrentAppendersAllLandAndShareCommits() throws Exception {
    int threads = 8;
    int perThread = 100;
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open();
        ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      long commitsBefore = journal.commitCount();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long base = (long) t * perThread;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (long i = 1; i <= perThread; i++) {
                    journal.append(message(base + i, "m" + (base + i)));
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
      long commits = journal.commitCount() - commitsBefore;
      assertThat(commits).isLessThan((long) threads * perThread);
      assertThat(journal.recover())
          .extracting(e -> e.envelope().id())
          .containsExactlyElementsOf(
              LongStream.rangeClosed(1, (long) threads * perThread).boxed().toList());
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.recover()).hasSize(threads * perThread);
    }
  }

  @Test
  void everythingQueuedDuringACommitGoesInTheNextOne() throws Exception {
    int appenders = 64;
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Fixtures.Hold hold = Fixtures.hold(journal); // the writer is "busy committing"
      long commitsBefore = journal.commitCount();
      List<Future<?>> done = new ArrayList<>();
      for (long id = 1; id <= appenders; id++) {
        long messageId = id;
        done.add(pool.submit(() -> journal.append(message(messageId, "x"))));
      }
      Fixtures.awaitQueued(journal, appenders);
      assertThat(done).noneMatch(Future::isDone); // append waits for durability
      hold.release.countDown();
      for (Future<?> f : done) {
        f.get();
      }
      assertThat(journal.commitCount() - commitsBefore)
          .as("the held batch, then one batch of %d appends", appenders)
          .isEqualTo(2);
      assertThat(journal.recover()).extracting(JournalEntry::attempts).hasSize(appenders);
    }
  }

  @Test
  void batchedAcknowledgementsAndAppendsKeepTheirOneByOneOutcomes() throws Exception {
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open()) {
      for (long id = 1; id <= 10; id++) {
        journal.append(message(id, "x"));
      }
      Fixtures.Hold hold = Fixtures.hold(journal);
      List<java.util.concurrent.CompletableFuture<Boolean>> acks = new ArrayList<>();
      for (long id = 1; id <= 10; id++) {
        acks.add(journal.acknowledge(message(id, "x"), List.of()));
      }
      var again = journal.acknowledge(message(1, "x"), List.of()); // same id, same batch
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        Future<?> first = pool.submit(() -> journal.append(message(20, "a")));
        Fixtures.awaitQueued(journal, 12);
        Future<?> duplicate = pool.submit(() -> journal.append(message(20, "b")));
        Future<?> other = pool.submit(() -> journal.append(message(21, "c")));
        Fixtures.awaitQueued(journal, 14);
        hold.release.countDown();
        assertThat(acks).allSatisfy(f -> assertThat(f.join()).isTrue());
        assertThat(again.join()).as("only the first acknowledgement of an id is new").isFalse();
        first.get();
        other.get();
        assertThatThrownBy(duplicate::get)
            .hasCauseInstanceOf(dev.cfn.core.spi.JournalException.class);
      }
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(20L, 21L);
    }
  }
}
