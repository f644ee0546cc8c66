package dev.cfn.store.calls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.CallLogException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The call log's group commit: records waiting together share one commit, each caller returns once
 * its own record is committed, lookups never wait for the writer, and a failed batch fails every
 * caller waiting on it with what happened. The writer is held by a test hook that takes the
 * writer's connection (and, where said, an open write transaction), so the batches are decided by
 * the test, never by timing.
 */
class CallLogGroupCommitTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path dir;

  private SqliteCallLogStore open() {
    return SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
  }

  private static void eventually(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as(what + " within " + PATIENCE).isNegative();
      Thread.sleep(2);
    }
  }

  /** Holds the writer's connection (optionally inside an uncommitted insert) until released. */
  private static final class Hold implements AutoCloseable {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final Thread thread;
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Hold(SqliteCallLogStore calls, String uncommittedKey) throws InterruptedException {
      thread =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      calls.onWriterConnection(
                          c -> {
                            try (Statement sql = c.createStatement()) {
                              if (uncommittedKey != null) {
                                sql.execute("BEGIN IMMEDIATE");
                                try (PreparedStatement insert =
                                    c.prepareStatement(
                                        "INSERT INTO calls(key, result, recorded_at, crc)"
                                            + " VALUES (?, '{}', 0, 0)")) {
                                  insert.setString(1, uncommittedKey);
                                  insert.executeUpdate();
                                }
                              }
                              entered.countDown();
                              release.await();
                              if (uncommittedKey != null) {
                                sql.execute("ROLLBACK");
                              }
                            } catch (InterruptedException e) {
                              Thread.currentThread().interrupt();
                            }
                            return null;
                          });
                    } catch (RuntimeException e) {
                      failure.set(e);
                      entered.countDown();
                    }
                  });
      entered.await();
      assertThat(failure.get()).isNull();
    }

    @Override
    public void close() throws InterruptedException {
      release.countDown();
      thread.join();
    }
  }

  @Test
  void recordsQueuedWhileACommitRunsShareTheNextCommit() throws Exception {
    int n = 100;
    try (SqliteCallLogStore calls = open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      long before = calls.commits();
      List<Future<Boolean>> stored = new ArrayList<>();
      long taken0 = calls.taken();
      try (Hold hold = new Hold(calls, null)) {
        stored.add(pool.submit(() -> calls.record("k0", "{\"n\":0}")));
        eventually(() -> calls.taken() == taken0 + 1, "the writer took the first record");
        for (int i = 1; i < n; i++) {
          String key = "k" + i;
          String result = "{\"n\":" + i + "}";
          stored.add(pool.submit(() -> calls.record(key, result)));
        }
        eventually(() -> calls.queued() == n - 1, "the other records queued behind it");
        for (Future<Boolean> f : stored) {
          assertThat(f.isDone()).as("no caller returns before its commit").isFalse();
        }
      }
      for (Future<Boolean> f : stored) {
        assertThat(f.get()).isTrue();
      }
      assertThat(calls.commits() - before)
          .as("one commit for the first record, one for the 99 queued behind it")
          .isEqualTo(2);
      for (int i = 0; i < n; i++) {
        assertThat(calls.find("k" + i)).contains("{\"n\":" + i + "}");
      }
    }
  }

  @Test
  void theFirstRecordOfAKeyWinsWithinOneBatchToo() throws Exception {
    try (SqliteCallLogStore calls = open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Boolean> first;
      Future<Boolean> second;
      long taken0 = calls.taken();
      try (Hold hold = new Hold(calls, null)) {
        Future<Boolean> unrelated = pool.submit(() -> calls.record("other", "{}"));
        eventually(() -> calls.taken() == taken0 + 1, "the writer took the unrelated record");
        first = pool.submit(() -> calls.record("same", "{\"v\":1}"));
        eventually(() -> calls.queued() == 1, "the first record of the key queued");
        second = pool.submit(() -> calls.record("same", "{\"v\":2}"));
        eventually(() -> calls.queued() == 2, "the second record of the key queued");
        assertThat(unrelated.isDone()).isFalse();
      }
      assertThat(first.get()).isTrue();
      assertThat(second.get()).as("the key already had a record").isFalse();
      assertThat(calls.find("same")).contains("{\"v\":1}");
    }
  }

  @Test
  void lookupsDoNotWaitForTheWriterInTheMiddleOfAWrite() throws Exception {
    try (SqliteCallLogStore calls = open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      calls.record("committed", "{\"ok\":true}");
      Future<?> pending;
      try (Hold hold = new Hold(calls, "uncommitted")) {
        // The writer's connection is held in an open write transaction: a lookup that took the
        // writer's lock, or read without WAL, would wait here until the hold ends.
        pending = pool.submit(() -> calls.record("queued", "{}"));
        assertThat(calls.find("committed")).contains("{\"ok\":true}");
        assertThat(calls.find("uncommitted")).as("not committed: not visible").isEmpty();
        assertThat(calls.find("queued")).as("queued, not committed: not visible").isEmpty();
        List<Future<?>> lookups = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
          lookups.add(pool.submit(() -> assertThat(calls.find("committed")).isPresent()));
        }
        for (Future<?> lookup : lookups) {
          lookup.get(); // every lookup finished while the writer is still held
        }
        assertThat(pending.isDone()).isFalse();
      }
      pending.get();
      assertThat(calls.find("queued")).contains("{}");
    }
  }

  @Test
  void concurrentLookupsWhileWritingSeeEveryRecordWhoseCallerReturned() throws Exception {
    int writers = 16;
    int perWriter = 200;
    try (SqliteCallLogStore calls = open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> work = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        work.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perWriter; i++) {
                    String key = "w" + writer + "|" + i;
                    assertThat(calls.record(key, "{\"i\":" + i + "}")).isTrue();
                    // read-your-writes, from this thread and from another one
                    assertThat(calls.find(key)).contains("{\"i\":" + i + "}");
                    String other = "w" + ((writer + 1) % writers) + "|" + (i / 2);
                    calls.find(other).ifPresent(r -> assertThat(r).startsWith("{\"i\":"));
                  }
                  return null;
                }));
      }
      for (Future<?> f : work) {
        f.get();
      }
      assertThat(calls.count()).isEqualTo((long) writers * perWriter);
      assertThat(calls.commits())
          .as("records share commits (16 callers at once)")
          .isLessThanOrEqualTo((long) writers * perWriter);
      assertThat(calls.check().ok()).isTrue();
    }
  }

  @Test
  void aFullDiskFailsEveryCallerOfTheBatchAndTheWriterCarriesOn() throws Exception {
    String big = "{\"pad\":\"" + "x".repeat(200_000) + "\"}";
    try (SqliteCallLogStore calls = open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      calls.record("before", "{}");
      calls.maxPageCount(1); // SQLite keeps the current size: no page can be added
      List<Future<Boolean>> failing = new ArrayList<>();
      long taken0 = calls.taken();
      try (Hold hold = new Hold(calls, null)) {
        failing.add(pool.submit(() -> calls.record("big0", big)));
        eventually(() -> calls.taken() == taken0 + 1, "the writer took the first record");
        failing.add(pool.submit(() -> calls.record("small", "{}")));
        failing.add(pool.submit(() -> calls.record("big1", big)));
        eventually(() -> calls.queued() == 2, "two records queued behind it");
      }
      Path file = calls.file();
      for (Future<Boolean> f : failing) {
        assertThatThrownBy(f::get)
            .isInstanceOf(ExecutionException.class)
            .cause()
            .isInstanceOf(CallLogException.class)
            .hasMessageContaining("disk full at " + file)
            .hasMessageContaining("free space")
            .hasMessageContaining("nothing of this batch was stored")
            .hasMessageContaining("is not recorded");
      }
      assertThatThrownBy(() -> calls.record("big2", big))
          .isInstanceOf(CallLogException.class)
          .hasMessageContaining("disk full at " + file)
          .hasMessageContaining("the call 'big2' is not recorded");
      assertThat(calls.find("small")).as("a failed batch stored nothing").isEmpty();
      assertThat(calls.find("big1")).isEmpty();

      calls.maxPageCount(Integer.MAX_VALUE); // space is back
      assertThat(calls.record("big1", big)).isTrue();
      assertThat(calls.record("small", "{}")).isTrue();
      assertThat(calls.find("before")).contains("{}");
      assertThat(calls.count()).isEqualTo(3);
      assertThat(calls.check().ok()).isTrue();
    }
  }

  @Test
  void closingWritesWhatWasSubmittedAndThenRefusesWithWhatToDo() throws Exception {
    SqliteCallLogStore calls = open();
    List<Future<Boolean>> stored = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<?> closing;
      long taken0 = calls.taken();
      try (Hold hold = new Hold(calls, null)) {
        stored.add(pool.submit(() -> calls.record("k0", "{}")));
        eventually(() -> calls.taken() == taken0 + 1, "the writer took the first record");
        for (int i = 1; i < 10; i++) {
          String key = "k" + i;
          stored.add(pool.submit(() -> calls.record(key, "{}")));
        }
        eventually(() -> calls.queued() == 9, "nine records queued behind it");
        closing = pool.submit(calls::close);
        // close() queues its stop behind the nine: it is closing while they wait
        eventually(() -> calls.queued() == 10, "close() is under way");
        assertThat(closing.isDone()).as("close() waits for the writer").isFalse();
      }
      closing.get();
    }
    for (Future<Boolean> f : stored) {
      assertThat(f.get()).as("submitted before close: written").isTrue();
    }
    assertThatThrownBy(() -> calls.record("late", "{}"))
        .isInstanceOf(CallLogException.class)
        .hasMessageContaining("cannot record the call 'late'")
        .hasMessageContaining("is closed; open it again");
    assertThatThrownBy(() -> calls.find("k1"))
        .isInstanceOf(CallLogException.class)
        .hasMessageContaining("is closed; open it again");
    calls.close();
    try (SqliteCallLogStore again = open()) {
      assertThat(again.count()).isEqualTo(10);
      assertThat(again.find("late")).isEmpty();
    }
  }

  @Test
  void theWriterCommitsWithSynchronousFull() {
    try (SqliteCallLogStore calls = open()) {
      long level =
          calls.onWriterConnection(
              c -> {
                try (Statement sql = c.createStatement();
                    ResultSet rows = sql.executeQuery("PRAGMA synchronous")) {
                  rows.next();
                  return rows.getLong(1);
                }
              });
      assertThat(level).as("2 = FULL: every commit is fsynced").isEqualTo(2);
    }
  }
}
