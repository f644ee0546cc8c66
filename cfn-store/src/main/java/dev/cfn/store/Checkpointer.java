package dev.cfn.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies committed WAL frames into the database file on a thread of its own, so that the writer's
 * commits only append to the WAL and fsync it.
 *
 * <p>SQLite's automatic checkpoint runs inside the commit that crosses the threshold: that commit
 * (and every caller waiting on it) also pays for writing the pages to the database file and an
 * fsync of it. The writer connection turns the automatic checkpoint off, and this thread runs
 * {@code PRAGMA wal_checkpoint(PASSIVE)} on its own connection every {@link #EVERY_COMMITS} commits
 * (or every {@link #MAX_IDLE_MILLIS} ms while commits trickle in). A passive checkpoint never
 * blocks the writer; it copies what no reader still needs, and once it has copied the whole WAL the
 * writer's next transaction starts the WAL again from its beginning, so the WAL stays bounded as
 * before. Checkpointing copies only committed data, so a crash at any point loses nothing: SQLite
 * replays the WAL on open. A failed checkpoint (disk full) is logged and tried again later; it
 * delays nothing that was acknowledged.
 */
final class Checkpointer {
  /** Commits between checkpoints (at ~25 frames a commit, about the SQLite default of 1000). */
  static final int EVERY_COMMITS = 32;

  static final long MAX_IDLE_MILLIS = 1_000;

  private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);

  private final Path file;
  private final SqliteJournal.Synchronous synchronous;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition due = lock.newCondition();
  private final Thread thread;
  private int commits; // guarded by lock
  private boolean stopped; // guarded by lock
  private volatile long checkpoints;
  private boolean failing; // checkpoint thread only

  Checkpointer(Path file, SqliteJournal.Synchronous synchronous) {
    this.file = file;
    this.synchronous = synchronous;
    this.thread =
        Thread.ofPlatform()
            .name("cfn-journal-checkpoint-" + file.getFileName())
            .daemon(true)
            .unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  /** Called by the writer after each commit. */
  void committed() {
    lock.lock();
    try {
      if (++commits >= EVERY_COMMITS) {
        due.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Checkpoints completed so far (tests). */
  long checkpoints() {
    return checkpoints;
  }

  /** Stops the thread; the final checkpoint is SQLite's own, when the last connection closes. */
  void stop() {
    lock.lock();
    try {
      stopped = true;
      due.signal();
    } finally {
      lock.unlock();
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

  private void run() {
    Connection connection = null;
    while (true) {
      lock.lock();
      try {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_IDLE_MILLIS);
        while (!stopped && commits < EVERY_COMMITS) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          due.awaitNanos(left);
        }
        if (stopped) {
          break;
        }
        if (commits == 0) {
          continue;
        }
        commits = 0;
      } catch (InterruptedException e) {
        continue; // stops through stop(), never through an interrupt
      } finally {
        lock.unlock();
      }
      try {
        if (connection == null) {
          connection = open();
        }
        checkpoint(connection);
      } catch (SQLException e) {
        if (!failing) {
          log.warn(
              "checkpointing {} failed ({}); the WAL keeps growing until it succeeds, nothing"
                  + " acknowledged is at risk",
              file,
              SqliteErrors.describe(e, file));
          failing = true;
        }
        connection = close(connection);
      }
    }
    close(connection);
  }

  private Connection open() throws SQLException {
    Connection connection = WriteConnection.connect(file);
    try (Statement sql = connection.createStatement()) {
      sql.execute("PRAGMA synchronous = " + synchronous.name());
      if (synchronous == SqliteJournal.Synchronous.FULL) {
        sql.execute("PRAGMA checkpoint_fullfsync = ON");
      }
      sql.execute("PRAGMA wal_autocheckpoint = 0");
    } catch (SQLException e) {
      close(connection);
      throw e;
    }
    return connection;
  }

  private void checkpoint(Connection connection) throws SQLException {
    try (Statement sql = connection.createStatement();
        ResultSet rows = sql.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      if (rows.next() && rows.getInt(1) == 0) {
        checkpoints++;
      }
    }
    if (failing) {
      log.info("checkpointing {} works again", file);
      failing = false;
    }
  }

  private Connection close(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing the checkpoint connection of {} failed: {}", file, e.getMessage());
      }
    }
    return null;
  }
}
