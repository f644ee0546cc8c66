package dev.cfn.store.calls;

import dev.cfn.core.spi.CallLogException;
import dev.cfn.store.sqlite.StoreConnection;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer thread of a {@link SqliteCallLogStore} and its group commit, in the journal's manner.
 *
 * <p>{@link #submit} puts a record on one queue and returns its future. The writer takes whatever
 * is queued (up to {@link #MAX_BATCH} records), inserts the lot in one {@code BEGIN IMMEDIATE}
 * transaction on the store's connection, commits once (one fsync of the WAL with {@code
 * synchronous=FULL}) and only then completes the futures: a caller that waits on its future returns
 * once its own record is durable. While a commit runs the next callers queue up, so the batch grows
 * with the load and N concurrent callers share fsyncs instead of paying one each, with no timer and
 * no delay at low load.
 *
 * <p>The writer holds the store connection's lock only while it writes a batch (the retention
 * sweep, {@code count} and {@code check} take their turns between batches); lookups never take it:
 * they read on connections of their own ({@link CallLogReaders}).
 *
 * <p>When the file fails (disk full, I/O error, read-only), the transaction is rolled back and
 * every future of the batch fails with a {@link CallLogException} saying what happened and that
 * nothing of the batch was stored; the writer carries on with the next batch, which succeeds as
 * soon as the disk does. A record cannot fail on its own (a key that exists is kept, by {@code ON
 * CONFLICT DO NOTHING}; keys and values are checked before they are queued), so a batch commits or
 * fails as a whole. The futures are completed on the writer thread; they are private to the store,
 * whose callers only wait on them, so no caller's code runs on the writer.
 */
final class CallLogWriter {
  /** The most records one transaction carries. */
  static final int MAX_BATCH = 1024;

  private static final Logger log = LoggerFactory.getLogger(CallLogWriter.class);

  /**
   * A record waiting for its commit; {@link #future} completes with "stored" once it is durable.
   */
  record Pending(
      String key, String result, long recordedAt, long crc, CompletableFuture<Boolean> future) {}

  private final StoreConnection connection;
  private final Path file;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Object submitLock = new Object();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committedRecords = new AtomicLong();
  private final AtomicLong taken = new AtomicLong();
  private final Thread thread;
  private boolean closed; // guarded by submitLock

  /** The last item of a closing writer. */
  private static final Pending STOP = new Pending("", "", 0, 0, new CompletableFuture<>());

  CallLogWriter(StoreConnection connection) {
    this.connection = connection;
    this.file = connection.file();
    this.thread =
        Thread.ofPlatform()
            .name("cfn-calls-writer-" + file.getFileName())
            .daemon(true)
            .unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  /** Queues {@code record}; its future fails at once when the store is closed. */
  CompletableFuture<Boolean> submit(Pending record) {
    synchronized (submitLock) {
      if (closed) {
        record
            .future()
            .completeExceptionally(
                connection.closedFailure("record the call '" + record.key() + "'"));
      } else {
        queue.add(record);
      }
    }
    return record.future();
  }

  /** Writes everything queued so far, then stops the thread; closing twice is fine. */
  void close() {
    synchronized (submitLock) {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(STOP);
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Transactions committed so far. */
  long commits() {
    return commits.get();
  }

  /** Records committed so far (stored or kept as the key's first), over all batches. */
  long committedRecords() {
    return committedRecords.get();
  }

  /** Records the writer has taken off the queue so far, written or being written (tests). */
  long taken() {
    return taken.get();
  }

  /** Records waiting for the writer. */
  int queued() {
    return queue.size();
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      batch.clear();
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        continue; // the writer stops through close(), never through an interrupt
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      if (batch.getLast() == STOP) {
        batch.removeLast(); // close() queues nothing after it
        stopping = true;
      }
      if (!batch.isEmpty()) {
        taken.addAndGet(batch.size());
        write(batch);
      }
    }
  }

  private void write(List<Pending> batch) {
    boolean[] stored = new boolean[batch.size()];
    try {
      connection.inWriteTransaction(
          "record a batch of " + batch.size() + " calls",
          c -> {
            try (PreparedStatement insert =
                c.prepareStatement(
                    "INSERT INTO calls(key, result, recorded_at, crc) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT(key) DO NOTHING")) {
              for (int i = 0; i < stored.length; i++) {
                Pending p = batch.get(i);
                insert.setString(1, p.key());
                insert.setString(2, p.result());
                insert.setLong(3, p.recordedAt());
                insert.setLong(4, p.crc());
                stored[i] = insert.executeUpdate() == 1;
              }
            }
            return null;
          });
    } catch (RuntimeException | Error e) {
      log.warn("call-log batch of {} records failed: {}", batch.size(), e.getMessage());
      String what =
          e instanceof CallLogException
              ? e.getMessage()
              : "cannot record a batch of " + batch.size() + " calls in " + file + " (" + e + ")";
      for (Pending p : batch) {
        p.future()
            .completeExceptionally(
                new CallLogException(
                    what
                        + "; nothing of this batch was stored, so the call '"
                        + p.key()
                        + "' is not recorded (a message handled again makes it again)",
                    e));
      }
      return;
    }
    commits.incrementAndGet();
    committedRecords.addAndGet(batch.size());
    for (int i = 0; i < stored.length; i++) {
      batch.get(i).future().complete(stored[i]);
    }
  }
}
