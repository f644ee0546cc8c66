package dev.cfn.cluster.pg;

import dev.cfn.core.spi.JournalException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One write queued for the {@link PgWriter}, with the future its caller waits on, and the lease it
 * was made under (null: none).
 *
 * <p>The writer runs it inside a batch transaction and completes the future only after that
 * transaction committed (or failed): a completed future means durable in PostgreSQL.
 *
 * @param <T> what the operation yields
 */
abstract class PgOp<T> {
  final CompletableFuture<T> future = new CompletableFuture<>();
  final Fence fence;
  private T result;
  private JournalException failure;

  PgOp(Fence fence) {
    this.fence = fence;
  }

  /** Does the work on the writer's connection, inside the batch transaction. */
  abstract T apply(Connection connection, Instant now) throws SQLException;

  /** What did not happen when this operation failed, e.g. "message 42 was not stored". */
  abstract String notDone();

  /** Runs on the writer thread after the commit, before the futures complete; only on success. */
  /** True when this write stores pending messages (appends, outbox sends): worth a wake-up. */
  boolean storesMessages() {
    return false;
  }

  void afterCommit(T value) {}

  /** Runs when the batch's commit failed: it may or may not have reached the database. */
  void afterBatchFailed() {}

  final void run(Connection connection, Instant now) throws SQLException {
    result = apply(connection, now);
    failure = null;
  }

  /** Records the outcome of work done for this op by a statement shared with others. */
  final void markDone(T value) {
    result = value;
    failure = null;
  }

  final void fail(JournalException e) {
    failure = e;
  }

  final boolean failed() {
    return failure != null;
  }

  final void committed() {
    if (failure == null) {
      afterCommit(result);
    }
  }

  final void complete() {
    if (failure != null) {
      future.completeExceptionally(failure);
    } else {
      future.complete(result);
    }
  }
}
