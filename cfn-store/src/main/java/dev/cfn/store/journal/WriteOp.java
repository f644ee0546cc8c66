package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One write queued for the writer thread, with the future its caller waits on.
 *
 * <p>The writer runs it inside a batch transaction, in a savepoint of its own, and completes the
 * future only after the batch committed (or failed): a completed future means durable.
 *
 * @param <T> what the operation yields
 */
abstract class WriteOp<T> {
  final CompletableFuture<T> future = new CompletableFuture<>();
  private T result;
  private JournalException failure;

  /** Does the work on the writer's connection, inside the batch transaction. */
  abstract T apply(WriteConnection connection, Instant now) throws SQLException;

  /** What did not happen when this operation failed, e.g. "message 42 was not stored". */
  abstract String notDone();

  final void run(WriteConnection connection, Instant now) throws SQLException {
    markDone(apply(connection, now));
  }

  /** Records the outcome of work done for this op by a batched statement. */
  final void markDone(T value) {
    result = value;
    failure = null;
  }

  /**
   * Runs once the batch holding this operation committed, on the writer thread, before any future
   * of the batch completes; only for an operation that succeeded. Does nothing by default.
   */
  void afterCommit(T value) {}

  /**
   * Runs on the writer thread when the batch holding this operation failed as a whole (its commit
   * may or may not have reached the file), before the futures complete. Does nothing by default.
   */
  void afterBatchFailed() {}

  /** Calls {@link #afterCommit} when this operation succeeded. */
  final void committed() {
    if (failure == null) {
      afterCommit(result);
    }
  }

  final void fail(JournalException e) {
    failure = e;
  }

  /** Completes the future with the outcome; called once the batch is over. */
  final void complete() {
    if (failure != null) {
      future.completeExceptionally(failure);
    } else {
      future.complete(result);
    }
  }
}
