package dev.cfn.cluster.pg;

import com.zaxxer.hikari.HikariDataSource;
import dev.cfn.core.spi.JournalException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group commit of {@link PgJournal}: one thread takes every write queued (up to {@code
 * maxBatch}) and commits them in one PostgreSQL transaction, so that concurrent writers share one
 * WAL flush (a PostgreSQL commit with {@code synchronous_commit = on} is an fsync). The batch grows
 * with the load.
 *
 * <p><b>Failure isolation.</b> PostgreSQL aborts a transaction at its first error, so a bad
 * operation (a refused compare-and-set, a duplicate id) rolls the batch back; the writer then runs
 * each of its operations again in a transaction of its own, and only the bad one fails. A commit
 * that throws may or may not have reached the database: its operations fail (the caller retries; an
 * acknowledgement that did commit then yields false) and the state cache is cleared.
 *
 * <p><b>Fences.</b> Before an operation made under a lease runs, the batch checks its {@link Fence}
 * with {@code SELECT ... FOR SHARE} on the lease row: the lease must still be held by that owner at
 * that epoch and be unexpired by the database's clock. The shared row lock makes a takeover (which
 * updates the row) wait until this batch commits, so no write of a superseded epoch commits after
 * the takeover. An operation whose fence fails is refused with {@link LeaseLostException} and does
 * nothing.
 *
 * <p>The writer holds one connection of the pool for its lifetime (replacing it when it breaks).
 */
final class PgWriter implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PgWriter.class);

  private static final PgOp<Void> STOP =
      new PgOp<>(null) {
        @Override
        Void apply(Connection connection, Instant now) {
          return null;
        }

        @Override
        String notDone() {
          return "stop";
        }
      };

  private final HikariDataSource pool;
  private final Clock clock;
  private final int maxBatch;
  private final boolean pipelined;
  private final Duration sweepEvery;
  private final Supplier<PgOp<?>> sweep;
  private final LinkedBlockingQueue<PgOp<?>> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committedOps = new AtomicLong();
  private volatile boolean accepting = true;
  private volatile String notifyChannel; // null: no wake-ups
  private Connection connection; // writer thread only

  PgWriter(
      HikariDataSource pool,
      Clock clock,
      int maxBatch,
      boolean pipelined,
      Duration sweepEvery,
      Supplier<PgOp<?>> sweep) {
    this.pool = pool;
    this.clock = clock;
    this.maxBatch = maxBatch;
    this.pipelined = pipelined;
    this.sweepEvery = sweepEvery;
    this.sweep = sweep;
    this.thread = Thread.ofPlatform().daemon().name("cfn-pg-writer").unstarted(this);
  }

  void start() {
    thread.start();
  }

  /** Queues {@code op}; its future completes once its batch committed or failed. */
  <T> CompletableFuture<T> submit(PgOp<T> op) {
    if (!accepting) {
      op.future.completeExceptionally(
          new JournalException(op.notDone() + ": the journal is closed (fix: open it again)"));
      return op.future;
    }
    queue.add(op);
    return op.future;
  }

  long commits() {
    return commits.get();
  }

  long committedOps() {
    return committedOps.get();
  }

  /** Writes what is queued, then stops the thread and returns its connection to the pool. */
  void close() {
    accepting = false;
    queue.add(STOP);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(60));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void run() {
    List<PgOp<?>> batch = new ArrayList<>();
    long nextSweep = System.nanoTime() + sweepEvery.toNanos();
    try {
      while (true) {
        PgOp<?> first = queue.poll(1, TimeUnit.SECONDS);
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, maxBatch - 1);
          boolean stop = batch.remove(STOP);
          if (!batch.isEmpty()) {
            runBatch(batch);
          }
          batch.clear();
          if (stop) {
            for (PgOp<?> late : queue) { // queued before accepting turned false was seen
              late.fail(new JournalException(late.notDone() + ": the journal is closed"));
              late.complete();
            }
            return;
          }
        }
        if (System.nanoTime() - nextSweep >= 0) {
          nextSweep = System.nanoTime() + sweepEvery.toNanos();
          runBatch(List.of(sweep.get()));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeConnection();
    }
  }

  /** Every batch that stores pending messages also notifies {@code channel}. */
  void notifyOn(String channel) {
    this.notifyChannel = channel;
  }

  private void runBatch(List<PgOp<?>> batch) {
    Connection c;
    try {
      c = connection();
    } catch (SQLException e) {
      JournalException failure =
          new JournalException(
              "cannot reach PostgreSQL: " + PgErrors.describe(e) + PgErrors.FIX_CONNECT, e);
      for (PgOp<?> op : batch) {
        op.fail(new JournalException(op.notDone() + ": " + failure.getMessage(), e));
        op.complete();
      }
      return;
    }
    Instant now = clock.instant();
    Exception applyFailure = null;
    try {
      // The lease rows are locked in ascending partition order, as PgLeases renews them: two
      // transactions taking the same rows in different orders deadlock.
      Map<Fence, Boolean> fences = new HashMap<>();
      batch.stream()
          .map(op -> op.fence)
          .filter(java.util.Objects::nonNull)
          .distinct()
          .sorted(
              java.util.Comparator.comparingInt(Fence::partition)
                  .thenComparing(Fence::owner)
                  .thenComparingLong(Fence::epoch))
          .forEachOrdered(f -> fences.put(f, holds(c, f)));
      List<PgOp<?>> live = new ArrayList<>(batch.size());
      for (PgOp<?> op : batch) {
        if (op.fence != null && !fences.get(op.fence).booleanValue()) {
          op.fail(new LeaseLostException(op.fence, op.notDone()));
        } else {
          live.add(op);
        }
      }
      if (pipelined) {
        apply(c, live, now);
      } else {
        for (PgOp<?> op : live) {
          op.run(c, now);
        }
      }
      String channel = notifyChannel;
      if (channel != null && live.stream().anyMatch(op -> !op.failed() && op.storesMessages())) {
        wakeListeners(c, channel);
      }
    } catch (SQLException | RuntimeException e) {
      applyFailure = e;
    }
    if (applyFailure != null) {
      rollback(c);
      if (batch.size() > 1) {
        for (PgOp<?> op : batch) {
          runBatch(List.of(op)); // each alone: only the bad one fails
        }
        return;
      }
      PgOp<?> op = batch.getFirst();
      op.fail(failure(op, applyFailure));
      op.complete();
      return;
    }
    try {
      c.commit();
    } catch (SQLException e) {
      rollback(c);
      for (PgOp<?> op : batch) {
        op.afterBatchFailed();
        op.fail(
            new JournalException(
                op.notDone()
                    + " (or was, if the commit reached PostgreSQL before the failure): "
                    + PgErrors.describe(e),
                e));
        op.complete();
      }
      return;
    }
    commits.incrementAndGet();
    committedOps.addAndGet(batch.size());
    for (PgOp<?> op : batch) {
      op.committed();
    }
    for (PgOp<?> op : batch) {
      op.complete();
    }
  }

  /**
   * Runs {@code ops} in order. Runs of consecutive plain appends, and of consecutive plain
   * acknowledgements, share pipelined statements ({@link PgWrites.Append#applyAll}, {@link
   * PgWrites.Acknowledge#applyAll}): a few network round trips for the run instead of one or two
   * per operation.
   */
  private static void apply(Connection c, List<PgOp<?>> ops, Instant now) throws SQLException {
    int i = 0;
    while (i < ops.size()) {
      PgOp<?> op = ops.get(i);
      int j = i + 1;
      if (op instanceof PgWrites.Append) {
        while (j < ops.size() && ops.get(j) instanceof PgWrites.Append) {
          j++;
        }
      } else if (op instanceof PgWrites.Acknowledge a && a.plain()) {
        while (j < ops.size() && ops.get(j) instanceof PgWrites.Acknowledge b && b.plain()) {
          j++;
        }
      }
      if (j - i == 1) {
        op.run(c, now);
      } else if (op instanceof PgWrites.Append) {
        List<PgWrites.Append> run = new ArrayList<>(j - i);
        for (PgOp<?> o : ops.subList(i, j)) {
          run.add((PgWrites.Append) o);
        }
        PgWrites.Append.applyAll(c, run);
      } else {
        List<PgWrites.Acknowledge> run = new ArrayList<>(j - i);
        for (PgOp<?> o : ops.subList(i, j)) {
          run.add((PgWrites.Acknowledge) o);
        }
        PgWrites.Acknowledge.applyAll(c, run, now);
      }
      i = j;
    }
  }

  private static JournalException failure(PgOp<?> op, Exception e) {
    if (e instanceof JournalException j) {
      return j.getMessage().startsWith(op.notDone())
          ? j
          : new JournalException(op.notDone() + ": " + j.getMessage(), j);
    }
    if (e instanceof SQLException s) {
      return new JournalException(op.notDone() + ": " + PgErrors.describe(s), s);
    }
    return new JournalException(op.notDone() + ": " + e, e);
  }

  /**
   * Sends a wake-up on {@code channel} with the batch: PostgreSQL delivers it to the listeners when
   * (and only if) the transaction commits.
   */
  private static void wakeListeners(Connection c, String channel) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, current_schema())")) {
      s.setString(1, channel);
      s.execute();
    }
  }

  /** True when the lease of {@code fence} is held now; locks its row until the batch ends. */
  private static boolean holds(Connection c, Fence fence) {
    try (PreparedStatement query =
        c.prepareStatement(
            "SELECT 1 FROM cfn_leases WHERE part = ? AND owner = ? AND epoch = ?"
                + " AND expires_at > clock_timestamp() FOR SHARE")) {
      query.setInt(1, fence.partition());
      query.setString(2, fence.owner());
      query.setLong(3, fence.epoch());
      try (ResultSet rows = query.executeQuery()) {
        return rows.next();
      }
    } catch (SQLException e) {
      throw new JournalException("cannot check the lease: " + PgErrors.describe(e), e);
    }
  }

  private Connection connection() throws SQLException {
    if (connection != null && !connection.isClosed()) {
      return connection;
    }
    closeConnection();
    Connection c = pool.getConnection();
    c.setAutoCommit(false);
    connection = c;
    return c;
  }

  private void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      log.debug("rollback failed; replacing the writer's connection: {}", e.getMessage());
      closeConnection();
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing the writer's connection: {}", e.getMessage());
      }
      connection = null;
    }
  }
}
