package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fsync of a {@link SqliteJournal.Synchronous#FULL} journal's write-ahead log, off the writer's
 * path: pipelined group commit.
 *
 * <p>SQLite at {@code synchronous=FULL} fsyncs the WAL inside every {@code COMMIT}, so the single
 * writer thread waits for the disk before it can start the next transaction, and each commit costs
 * its CPU plus an fsync in series. Here the writer's connection runs at {@code synchronous=NORMAL}
 * (SQLite then writes the WAL frames of a commit with {@code pwrite} and syncs only at checkpoints)
 * and this thread fdatasyncs the WAL after each commit; the batch's futures complete only once that
 * fsync returned. Meanwhile the writer runs the next transaction, and one fsync covers every batch
 * committed before it started. What a completed future promises is unchanged: the write is on the
 * disk and survives power loss, as at {@code FULL}.
 *
 * <p>Why it is as durable as {@code FULL}: a WAL is written in order, and an fsync that starts
 * after a commit's frames were written covers them and every earlier frame. SQLite at {@code
 * NORMAL} still syncs the WAL before a checkpoint copies it into the database, the database after
 * the checkpoint, and the WAL header when it starts reusing the file. A batch's state becomes
 * visible to readers in this process at its commit, before its fsync; anything that depends on it
 * commits later in the same WAL, so a crash before the fsync loses both or neither, and no caller
 * has been told either is done.
 *
 * <p>An fsync that fails is not retried: after a failed fsync Linux may mark the unwritten pages
 * clean, so a later fsync could succeed without the lost frames (PostgreSQL's "fsyncgate"). The
 * batches waiting for it fail ("may or may not survive"), and so does every later write until the
 * journal is closed and opened again, when recovery reads what reached the disk.
 *
 * <p>Opt-in, with the JVM property {@value #PROPERTY}{@code =cfn}, and on Linux only (elsewhere
 * SQLite's own {@code FULL} runs: macOS needs {@code F_FULLFSYNC}, which {@link FileChannel#force}
 * does not issue). By default SQLite fsyncs inside each commit: measured on this project's 2-core
 * VM, where an fsync takes 0.13-0.2 ms, the pipeline was slower (`cfn bench agents --only
 * cfn-agent,cfn-reliable`, 3 runs each, quiet: RELIABLE 2,617 / 3,736 tasks/s at c=16 / 256 against
 * 3,178 / 4,116 with SQLite's fsync): with an fsync that short, the extra hand-off to this thread
 * costs more than the overlap saves. It is meant for disks whose fsync takes milliseconds, and is
 * not the default until it is measured faster on one.
 */
final class WalSync {
  /**
   * The JVM property that selects who fsyncs a FULL journal's WAL: {@code cfn} or {@code sqlite}.
   */
  static final String PROPERTY = "cfn.journal.fsync";

  private static final Logger log = LoggerFactory.getLogger(WalSync.class);

  /** How a WAL is made durable; the default fdatasyncs it (a test seam). */
  interface Hook {
    /** Makes every frame written to {@code wal} so far durable. */
    void sync(FileChannel wal) throws IOException;
  }

  /** A batch the writer committed (or failed), waiting for the fsync and its completion. */
  private record Batch(List<WriteOp<?>> ops, boolean committed) {}

  private static final Batch STOP = new Batch(List.of(), false);

  private final Path file;
  private final Path wal;
  private final Set<Thread> completing;
  private final LinkedBlockingQueue<Batch> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final AtomicLong syncs = new AtomicLong();
  private final AtomicLong syncNanos = new AtomicLong();
  private volatile Hook hook = channel -> channel.force(false);
  private volatile JournalException failure;
  private FileChannel channel; // sync thread only
  private Object channelKey; // the file key of channel's file; sync thread only

  /**
   * @param file the journal's database file; its WAL is the sibling {@code FILE-wal}
   * @param completing where the virtual threads that complete futures register while they run, so
   *     that {@link JournalWriter#close} can wait for them
   */
  WalSync(Path file, Set<Thread> completing) {
    this.file = file;
    this.wal = file.resolveSibling(file.getFileName() + "-wal");
    this.completing = completing;
    this.thread =
        Thread.ofPlatform()
            .name("cfn-journal-sync-" + file.getFileName())
            .daemon(true)
            .unstarted(this::run);
  }

  /** True when a journal at {@code level} has its WAL fsynced by this class (see the class doc). */
  static boolean applies(SqliteJournal.Synchronous level) {
    return level == SqliteJournal.Synchronous.FULL
        && System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
        && "cfn".equalsIgnoreCase(System.getProperty(PROPERTY, "sqlite"));
  }

  void start() {
    thread.start();
  }

  /**
   * Takes a batch the writer has just run: when {@code committed}, its futures complete after the
   * next fsync of the WAL; else (it failed) right after the batches queued before it, in order.
   */
  void add(List<WriteOp<?>> ops, boolean committed) {
    queue.add(new Batch(ops, committed));
  }

  /** The failed fsync that stopped this journal's writes, or null. */
  JournalException failure() {
    return failure;
  }

  /** Replaces how the WAL is synced (tests). */
  void hook(Hook hook) {
    this.hook = Objects.requireNonNull(hook, "hook");
  }

  /** Fsyncs done so far. */
  long syncs() {
    return syncs.get();
  }

  /** Time spent in fsyncs so far, in nanoseconds. */
  long syncNanos() {
    return syncNanos.get();
  }

  /** Completes what was added so far (after its fsync), stops the thread and waits for it. */
  void close() {
    queue.add(STOP);
    if (JournalWriter.joinUninterruptibly(thread)) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    List<Batch> batches = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      batches.clear();
      try {
        batches.add(queue.take());
      } catch (InterruptedException e) {
        continue; // stops through close() only
      }
      queue.drainTo(batches);
      stopping = batches.remove(STOP);
      boolean toSync = false;
      for (Batch b : batches) {
        toSync |= b.committed();
      }
      if (toSync && failure == null) {
        sync();
      }
      JournalException failed = failure;
      List<WriteOp<?>> ops = new ArrayList<>();
      for (Batch b : batches) {
        if (b.committed() && failed != null) {
          for (WriteOp<?> op : b.ops()) {
            op.fail(
                new JournalException(
                    failed.getMessage() + "; " + op.notDone() + " (it may or may not survive)",
                    failed.getCause()));
            op.afterBatchFailed();
          }
        }
        ops.addAll(b.ops());
      }
      if (!ops.isEmpty()) {
        JournalWriter.complete(ops, completing);
      }
    }
    closeChannel();
  }

  private void sync() {
    long began = System.nanoTime();
    try {
      FileChannel c = channel();
      if (c != null) {
        hook.sync(c);
      }
      syncs.incrementAndGet();
      syncNanos.addAndGet(System.nanoTime() - began);
    } catch (IOException | RuntimeException e) {
      failure =
          new JournalException(
              "the fsync of "
                  + wal
                  + " failed ("
                  + e
                  + "), so what was committed since the last fsync is not known to be on the disk;"
                  + " the journal takes no more writes: close and open it again (recovery reads"
                  + " what reached the disk) once the disk is healthy",
              e);
      log.error("journal {}: {}", file, failure.getMessage());
      closeChannel();
    }
  }

  /**
   * The channel of the WAL as it is now (opened again when the file was replaced); null when there
   * is no WAL, so everything committed is in the database file (SQLite removes the WAL only after
   * checkpointing it into the database and syncing that).
   */
  private FileChannel channel() throws IOException {
    Object key;
    try {
      key = Files.readAttributes(wal, BasicFileAttributes.class).fileKey();
    } catch (NoSuchFileException e) {
      return null;
    }
    if (channel == null || key == null || !key.equals(channelKey)) {
      if (channel != null) {
        hook.sync(channel); // the replaced file's last frames, before letting it go
        closeChannel();
      }
      try {
        channel = FileChannel.open(wal, StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        return null;
      }
      channelKey = key;
    }
    return channel;
  }

  private void closeChannel() {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing {} failed: {}", wal, e.toString());
    }
    channel = null;
    channelKey = null;
  }
}
