package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.sqlite.SqliteErrors;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer thread and its group commit.
 *
 * <p>Every write is a {@link WriteOp} put on one queue. The writer takes whatever is queued (up to
 * {@link #MAX_BATCH} operations), runs the lot in one transaction, commits once, and only then
 * completes the futures. It first runs the batch without savepoints; if one operation fails on its
 * own (a constraint, a refused payload) it rolls back and runs the batch again with a savepoint per
 * operation, so that the bad one is rolled back and fails alone. A commit costs one fsync of the
 * WAL however many operations it carries, and while it runs the next callers queue up, so the batch
 * grows with the load: N concurrent appenders share fsyncs instead of paying one each, without any
 * timer or delay.
 *
 * <p>When the file fails (disk full, I/O error, read-only), the transaction is rolled back, every
 * future of the batch completes with a {@link JournalException} saying what happened and what did
 * not, the connection is dropped and the next batch opens a new one: the writer survives and
 * carries on as soon as the disk does. Futures are completed on a fresh virtual thread per batch,
 * never on the writer, so a caller's callback (even one that appends again and waits) cannot stall
 * or deadlock the writer. The writer also sweeps acknowledged ids past their retention
 * periodically, timed with {@link System#nanoTime()}.
 *
 * <p>A write nothing waits for ({@link #submitLazily}, the acknowledgement of a claimed reply) does
 * not wake the writer for a transaction of its own while others keep it busy: it waits beside the
 * queue and joins the next batch the writer runs; when no other write comes within {@link
 * #LAZY_WAIT_NANOS}, it commits alone. Under load such writes cost no fsync of their own.
 *
 * <p>Opt-in ({@code -Dcfn.journal.fsync=cfn}, Linux, {@link SqliteJournal.Synchronous#FULL}): the
 * fsync is not part of the commit; the connection runs at {@code synchronous=NORMAL}, and {@link
 * WalSync} fsyncs the WAL after each commit and completes the batch's futures then, while the
 * writer already runs the next batch (pipelined group commit; its class comment says why that is as
 * durable, and why it is not the default). A failed fsync then stops the journal's writes until it
 * is opened again.
 */
final class JournalWriter {
  /** The most operations one transaction carries. */
  static final int MAX_BATCH = 1024;

  /** How long a lazy write waits for another write to share a transaction with: 5 ms. */
  static final long LAZY_WAIT_NANOS = 5_000_000L;

  private static final Logger log = LoggerFactory.getLogger(JournalWriter.class);

  private final Path file;
  private final SqliteJournal.Synchronous synchronous;
  private final Clock clock;
  private final long sweepEveryNanos;
  private final Supplier<WriteOp<?>> sweep;
  private final LinkedBlockingQueue<WriteOp<?>> queue = new LinkedBlockingQueue<>();
  // Writes nothing waits for, taken into the next batch; a Nudge in the queue makes sure one runs.
  private final java.util.concurrent.ConcurrentLinkedQueue<WriteOp<?>> lazy =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.concurrent.atomic.AtomicBoolean nudged =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final AtomicLong lazyOps = new AtomicLong();
  private final AtomicLong lazyAlone = new AtomicLong();
  private final Object submitLock = new Object();
  private final AtomicLong commits = new AtomicLong();
  // Written by the writer thread only, after each commit; read by the metrics.
  private final AtomicLong commitNanos = new AtomicLong();
  private final AtomicLong committedOps = new AtomicLong();
  private volatile int lastBatch;
  private final Thread thread;
  private final Set<Thread> completing = ConcurrentHashMap.newKeySet();
  private final WalSync walSync; // null: SQLite fsyncs inside each commit (or never, at NORMAL)

  private boolean closed; // guarded by submitLock
  private WriteConnection connection; // writer thread only, once started
  private volatile long maxPageCount; // test hook: 0 = SQLite's default

  JournalWriter(
      WriteConnection connection,
      Path file,
      SqliteJournal.Synchronous synchronous,
      Clock clock,
      Duration sweepEvery,
      Supplier<WriteOp<?>> sweep) {
    this.connection = connection;
    this.file = file;
    this.synchronous = synchronous;
    this.clock = clock;
    this.sweepEveryNanos = sweepEvery.toNanos();
    this.sweep = sweep;
    this.thread =
        Thread.ofPlatform()
            .name("cfn-journal-writer-" + file.getFileName())
            .daemon(true)
            .unstarted(this::run);
    this.walSync = WalSync.applies(synchronous) ? new WalSync(file, completing) : null;
  }

  /**
   * Opens the write connection of a journal at {@code synchronous}, as the writer will use it (at
   * {@code NORMAL} when {@link WalSync} fsyncs its WAL).
   */
  static WriteConnection openConnection(Path file, SqliteJournal.Synchronous synchronous)
      throws SQLException {
    return WriteConnection.open(file, synchronous, WalSync.applies(synchronous));
  }

  void start() {
    if (walSync != null) {
      walSync.start();
    }
    thread.start();
  }

  /** Replaces how the WAL is fsynced (tests); false when SQLite fsyncs it itself. */
  boolean walSyncHook(WalSync.Hook hook) {
    if (walSync == null) {
      return false;
    }
    walSync.hook(hook);
    return true;
  }

  /** Fsyncs of the WAL done by {@link WalSync} so far (0 when SQLite does them in the commit). */
  long walSyncs() {
    return walSync == null ? 0 : walSync.syncs();
  }

  /** Time spent in {@link WalSync}'s fsyncs so far, in nanoseconds. */
  long walSyncNanos() {
    return walSync == null ? 0 : walSync.syncNanos();
  }

  /** Queues {@code op}; its future fails at once if the journal is closed. */
  <T> CompletableFuture<T> submit(WriteOp<T> op) {
    synchronized (submitLock) {
      if (closed) {
        op.future.completeExceptionally(
            new JournalException(
                "the journal " + file + " is closed; " + op.notDone() + ". Open it again"));
      } else {
        queue.add(op);
      }
    }
    return op.future;
  }

  /**
   * Queues {@code op}, which nothing waits for, to join the next batch the writer runs (within
   * {@link #LAZY_WAIT_NANOS} when no other write comes); its future fails at once if the journal is
   * closed, and completes once its batch committed, as {@link #submit}'s.
   */
  <T> CompletableFuture<T> submitLazily(WriteOp<T> op) {
    synchronized (submitLock) {
      if (closed) {
        op.future.completeExceptionally(
            new JournalException(
                "the journal " + file + " is closed; " + op.notDone() + ". Open it again"));
        return op.future;
      }
      lazy.add(op);
      if (nudged.compareAndSet(false, true)) {
        queue.add(new Nudge()); // the writer wakes, waits a little for company, then runs it
      }
    }
    return op.future;
  }

  /** Lazy writes ({@link #submitLazily}) the writer has taken into batches so far. */
  long lazyOps() {
    return lazyOps.get();
  }

  /** Batches that carried lazy writes and nothing else (no other write came in time). */
  long lazyAlone() {
    return lazyAlone.get();
  }

  /**
   * Runs everything queued so far, stops the thread, closes the connection and returns once every
   * future has been completed.
   */
  void close() {
    Stop stop = new Stop();
    synchronized (submitLock) {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(stop);
    }
    boolean interrupted = joinUninterruptibly(thread);
    if (walSync != null) {
      walSync.close(); // after the writer: its last batches are fsynced and completed first
    }
    for (Thread completion : completing) {
      if (completion != Thread.currentThread()) { // close() called from a callback
        interrupted |= joinUninterruptibly(completion);
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  static boolean joinUninterruptibly(Thread thread) {
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  /** Transactions committed so far. */
  long commits() {
    return commits.get();
  }

  /** Time spent in committed transactions (BEGIN to COMMIT, fsync included), in nanoseconds. */
  long commitNanos() {
    return commitNanos.get();
  }

  /** Operations carried by committed transactions. */
  long committedOps() {
    return committedOps.get();
  }

  /** Operations in the last committed transaction. */
  int lastBatch() {
    return lastBatch;
  }

  /** Operations waiting for the writer. */
  int queued() {
    return queue.size();
  }

  /** Caps the database at {@code pages} pages on this and every later connection (tests). */
  void maxPageCount(long pages) {
    maxPageCount = pages;
  }

  private void run() {
    long nextSweep = System.nanoTime() + sweepEveryNanos;
    List<WriteOp<?>> batch = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      batch.clear();
      WriteOp<?> first;
      try {
        first = queue.poll(Math.max(0, nextSweep - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        continue; // the writer stops through close(), never through an interrupt
      }
      if (first instanceof Nudge && queue.isEmpty()) {
        // only lazy writes: give another write a moment to come and carry them
        try {
          WriteOp<?> next = queue.poll(LAZY_WAIT_NANOS, TimeUnit.NANOSECONDS);
          if (next != null) {
            first = next;
          }
        } catch (InterruptedException e) {
          // run what is there
        }
      }
      if (first != null) {
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
      }
      if (!batch.isEmpty() && batch.getLast() instanceof Stop) {
        batch.removeLast();
        stopping = true;
      } else if (System.nanoTime() - nextSweep >= 0) {
        batch.add(sweep.get());
        nextSweep = System.nanoTime() + sweepEveryNanos;
      }
      batch.removeIf(op -> op instanceof Nudge);
      int others = batch.size();
      int lazies = takeLazy(batch);
      if (!batch.isEmpty()) {
        if (lazies > 0 && others == 0) {
          lazyAlone.incrementAndGet();
        }
        runBatch(List.copyOf(batch));
      }
    }
    while (!lazy.isEmpty()) { // closed: no nudge comes any more, so run the rest now
      batch.clear();
      takeLazy(batch);
      runBatch(List.copyOf(batch));
    }
    abandonConnection(false);
  }

  /**
   * Moves the lazy writes queued so far into {@code batch} (up to {@link #MAX_BATCH} in all, at
   * least one); returns how many. A lazy write left behind gets a nudge of its own.
   */
  private int takeLazy(List<WriteOp<?>> batch) {
    nudged.set(false); // before taking: a write added after this sends a nudge of its own
    int n = 0;
    for (WriteOp<?> op; (n == 0 || batch.size() < MAX_BATCH) && (op = lazy.poll()) != null; ) {
      batch.add(op);
      n++;
    }
    if (!lazy.isEmpty()) {
      synchronized (submitLock) {
        if (!closed && nudged.compareAndSet(false, true)) {
          queue.add(new Nudge());
        }
      }
    }
    lazyOps.addAndGet(n);
    return n;
  }

  private void runBatch(List<WriteOp<?>> ops) {
    JournalException syncFailed = walSync == null ? null : walSync.failure();
    if (syncFailed != null) {
      for (WriteOp<?> op : ops) {
        op.fail(new JournalException(syncFailed.getMessage() + "; " + op.notDone(), syncFailed));
      }
      walSync.add(ops, false);
      return;
    }
    Instant now = clock.instant();
    long began = System.nanoTime();
    boolean committed = false;
    try {
      WriteConnection c = connection();
      c.exec("BEGIN IMMEDIATE");
      if (!runOptimistically(c, ops, now)) {
        // One operation failed on its own: redo the batch with a savepoint per operation, so it
        // alone is rolled back and the others still commit.
        c.exec("ROLLBACK");
        c.forgetAttempted();
        c.exec("BEGIN IMMEDIATE");
        for (WriteOp<?> op : ops) {
          runOne(c, op, now);
        }
      }
      c.exec("COMMIT");
      commitNanos.addAndGet(System.nanoTime() - began);
      committedOps.addAndGet(ops.size());
      lastBatch = ops.size();
      commits.incrementAndGet();
      for (WriteOp<?> op : ops) {
        op.committed();
      }
      committed = true;
    } catch (SQLException e) {
      String what = SqliteErrors.describe(e, file);
      log.warn("journal batch of {} operations failed: {}", ops.size(), what);
      abandonConnection(true);
      for (WriteOp<?> op : ops) {
        op.fail(
            new JournalException(what + "; nothing in this batch was written: " + op.notDone(), e));
        op.afterBatchFailed();
      }
    } catch (RuntimeException | Error e) {
      log.error("journal writer failed on a batch of {} operations", ops.size(), e);
      abandonConnection(true);
      for (WriteOp<?> op : ops) {
        op.fail(
            new JournalException(
                "the journal writer failed on "
                    + file
                    + " ("
                    + e
                    + "); nothing in this batch was written: "
                    + op.notDone(),
                e));
        op.afterBatchFailed();
      }
    }
    if (walSync != null) {
      walSync.add(ops, committed); // completes the futures after the WAL's fsync
      return;
    }
    complete(ops, completing);
  }

  /**
   * Completes {@code ops} on a fresh virtual thread, so that no caller's callback can stall the
   * thread that hands them over; the thread is in {@code completing} while it runs.
   */
  static void complete(List<WriteOp<?>> ops, Set<Thread> completing) {
    Thread completion =
        Thread.ofVirtual()
            .name("cfn-journal-completion")
            .unstarted(
                () -> {
                  try {
                    ops.forEach(WriteOp::complete);
                  } finally {
                    completing.remove(Thread.currentThread());
                  }
                });
    completing.add(completion);
    completion.start();
  }

  /**
   * Runs every operation without savepoints, the common case where none fails (two statements per
   * operation fewer). Returns false, leaving the transaction to be rolled back, when one fails on
   * its own; throws when the file fails (which ends the batch either way).
   */
  private boolean runOptimistically(WriteConnection c, List<WriteOp<?>> ops, Instant now)
      throws SQLException {
    // Appends first, in multi-row statements. A message may be acknowledged in the batch that
    // stores it (the runtime delivers an outside sender's message once its append is queued,
    // SqliteJournal.appendQueued): its append was queued first, and running the appends first
    // keeps that order; it is never retried or dead-lettered in that batch (the runtime waits for
    // the append first). Then acknowledgements that change no state (no effects, or only sends
    // and call records, such as a request's reply), the other high-volume operation, also
    // batched: a message is retried or dead-lettered only after the commit that recorded its
    // failure; a message it sends is delivered only after this commit. So apart from an append
    // and the acknowledgement queued after it, no operation meets another operation on the same
    // message in one batch, and running these groups ahead of the rest changes no outcome.
    List<Writes.Append> appends = new ArrayList<>();
    List<Writes.Acknowledge> acks = new ArrayList<>();
    List<WriteOp<?>> rest = new ArrayList<>();
    for (WriteOp<?> op : ops) {
      if (op instanceof Writes.Append a) {
        appends.add(a);
      } else if (op instanceof Writes.Acknowledge a && a.plain()) {
        acks.add(a);
      } else {
        rest.add(op);
      }
    }
    if (!appends.isEmpty() && !succeeded(c, () -> Writes.Append.applyAll(c, appends))) {
      return false;
    }
    if (!acks.isEmpty() && !succeeded(c, () -> Writes.Acknowledge.applyAll(c, acks, now))) {
      return false;
    }
    for (WriteOp<?> op : rest) {
      if (!succeeded(c, () -> op.run(c, now))) {
        return false;
      }
    }
    return true;
  }

  /** Work on the write connection. */
  private interface Work {
    void run() throws SQLException;
  }

  /**
   * Runs {@code work}; false when it failed on its own (the batch is then redone one operation at a
   * time), an exception when the file failed (which ends the batch).
   */
  private static boolean succeeded(WriteConnection c, Work work) throws SQLException {
    try {
      work.run();
      return true;
    } catch (SQLException e) {
      c.forgetStatements();
      if (SqliteErrors.endsBatch(e)) {
        throw e;
      }
      return false;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void runOne(WriteConnection c, WriteOp<?> op, Instant now) throws SQLException {
    c.exec("SAVEPOINT op");
    try {
      op.run(c, now);
      c.exec("RELEASE op");
      return;
    } catch (SQLException e) {
      c.forgetStatements();
      if (SqliteErrors.endsBatch(e)) {
        throw e;
      }
      op.fail(new JournalException(op.notDone() + ": " + SqliteErrors.describe(e, file), e));
    } catch (JournalException e) {
      op.fail(e);
    } catch (RuntimeException e) {
      op.fail(new JournalException(op.notDone() + ": " + e.getMessage(), e));
    }
    c.exec("ROLLBACK TO op");
    c.exec("RELEASE op");
    c.forgetAttempted();
  }

  private WriteConnection connection() throws SQLException {
    if (connection == null) {
      connection = openConnection(file, synchronous);
    }
    long pages = maxPageCount;
    if (pages > 0) {
      connection.exec("PRAGMA max_page_count = " + pages);
    }
    return connection;
  }

  private void abandonConnection(boolean rollback) {
    if (connection == null) {
      return;
    }
    if (rollback) {
      try {
        connection.exec("ROLLBACK");
      } catch (SQLException ignored) {
        // SQLite may have rolled the transaction back already
      }
    }
    try {
      connection.close();
    } catch (SQLException e) {
      log.warn("closing the journal connection of {} failed: {}", file, e.getMessage());
    }
    connection = null;
  }

  /** Wakes the writer for lazy writes; never part of a batch. */
  private static final class Nudge extends WriteOp<Void> {
    @Override
    Void apply(WriteConnection connection, Instant now) {
      return null;
    }

    @Override
    String notDone() {
      return "nothing";
    }
  }

  /** The last operation of a closing journal. */
  private static final class Stop extends WriteOp<Void> {
    @Override
    Void apply(WriteConnection connection, Instant now) {
      return null;
    }

    @Override
    String notDone() {
      return "the journal was not closed";
    }
  }
}
