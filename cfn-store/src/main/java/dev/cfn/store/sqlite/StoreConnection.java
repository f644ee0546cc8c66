package dev.cfn.store.sqlite;

import dev.cfn.store.StoreCheck;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one connection of a {@code SqliteMemoryStore} or a {@code SqliteCallLogStore} to its SQLite
 * file, used by one operation at a time under a lock, with the store's scheduled sweep.
 *
 * <p>{@link #open} creates the file's directory, opens the file in WAL mode with {@code
 * synchronous=FULL} (a commit returns once it is fsynced) and a busy timeout of five seconds for
 * other writers, and brings its schema up to date through the kind's {@link Migrations}, which also
 * refuses a file of another kind or from a newer cfn; a failure closes the connection and throws
 * the kind's exception. {@link #with} runs one operation: it refuses once the store is closed and
 * turns SQLite failures into the kind's exception, saying what happened to the file and what to do.
 * {@link #close()} stops the sweep before it closes the connection.
 */
public final class StoreConnection implements AutoCloseable {

  /** Work on the connection. */
  @FunctionalInterface
  public interface Work<T> {
    T apply(Connection connection) throws SQLException;
  }

  /** Adds what is wrong with the store's records to {@code problems}. */
  @FunctionalInterface
  public interface RecordScan {
    void addProblems(Statement sql, List<String> problems) throws SQLException;
  }

  private static final Logger log = LoggerFactory.getLogger(StoreConnection.class);

  private final Path file;
  private final Migrations kind;
  private final String whenDamaged;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile ScheduledExecutorService sweeper; // null when no scheduled sweep
  private Connection connection; // guarded by lock; null once closed

  private StoreConnection(Path file, Migrations kind, String whenDamaged, Connection connection) {
    this.file = file;
    this.kind = kind;
    this.whenDamaged = whenDamaged;
    this.connection = connection;
  }

  /**
   * Opens {@code file} (creating it and its directory when missing) and creates or migrates its
   * schema; see the class comment. Throws the exception of {@code kind} when the file cannot be
   * opened, is not of that kind, or was written by a newer cfn; nothing is changed then.
   *
   * @param whenDamaged what to do about a damaged file, after "is damaged or not a cfn call log: "
   */
  public static StoreConnection open(Path file, Clock clock, Migrations kind, String whenDamaged) {
    return open(file, clock, kind, whenDamaged, c -> null);
  }

  /**
   * Like {@link #open(Path, Clock, Migrations, String)}, running {@code beforeMigrating} on the
   * connection before the schema is created or migrated (the encryption mark check of cfn-store's
   * {@code AtRest}): what it throws is thrown, the file closed and its schema untouched.
   */
  public static StoreConnection open(
      Path file, Clock clock, Migrations kind, String whenDamaged, Work<?> beforeMigrating) {
    Path path = file.toAbsolutePath().normalize();
    try {
      PrivateFiles.createDirectories(PrivateFiles.parentOf(path));
      PrivateFiles.createFileIfMissing(path); // 0600 before SQLite creates it 0644
    } catch (IOException e) {
      throw kind.failure(
          "cannot create the file or the directory of the "
              + kind.label()
              + " "
              + path
              + " ("
              + e
              + "): create it or choose another location",
          e);
    }
    Connection connection = null;
    try {
      connection = SqliteLibrary.connect("jdbc:sqlite:" + path, null);
      try (Statement sql = connection.createStatement()) {
        sql.execute("PRAGMA busy_timeout = " + SqliteLibrary.BUSY_TIMEOUT_MILLIS);
        String mode;
        try (ResultSet rows = sql.executeQuery("PRAGMA journal_mode = WAL")) {
          mode = rows.next() ? rows.getString(1) : null;
        }
        if (!"wal".equalsIgnoreCase(mode)) {
          throw new SQLException(
              "SQLite refused WAL mode for " + path + " (it stays in " + mode + " mode)");
        }
        sql.execute("PRAGMA synchronous = FULL");
        // macOS: fsync does not flush the drive's cache, F_FULLFSYNC does; ignored elsewhere
        sql.execute("PRAGMA fullfsync = ON");
        sql.execute("PRAGMA checkpoint_fullfsync = ON");
        // statement journals in memory, not spilled to temporary files (see the journal's
        // WriteConnection)
        sql.execute("PRAGMA temp_store = MEMORY");
      }
      beforeMigrating.apply(connection);
      kind.migrate(connection, path, clock);
      return new StoreConnection(path, kind, whenDamaged, connection);
    } catch (SQLException e) {
      closeQuietly(connection, e);
      throw kind.failure(
          "cannot open " + kind.label() + ": " + describe(e, path, kind, whenDamaged), e);
    } catch (RuntimeException e) {
      closeQuietly(connection, e);
      throw e;
    }
  }

  /** The file, as an absolute path. */
  public Path file() {
    return file;
  }

  /**
   * Runs {@code sweep} on a daemon thread named {@code threadName} every {@code interval}, from one
   * interval on, until {@link #close()}. Call it at most once, before the store is shared.
   */
  public void sweepEvery(Duration interval, String threadName, Runnable sweep) {
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name(threadName).factory());
    long millis = interval.toMillis();
    executor.scheduleWithFixedDelay(sweep, millis, millis, TimeUnit.MILLISECONDS);
    sweeper = executor;
  }

  /**
   * Runs {@code body} on the connection, under the lock, translating SQLite failures into the
   * kind's exception ("cannot {@code what}: ...").
   */
  public <T> T with(String what, Work<T> body) {
    lock.lock();
    try {
      if (connection == null) {
        throw closedFailure(what);
      }
      try {
        return body.apply(connection);
      } catch (SQLException e) {
        throw failure(what, e);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Like {@link #with}, in one {@link #writeTransaction} transaction. */
  public <T> T inWriteTransaction(String what, Work<T> body) {
    return with(what, c -> writeTransaction(c, body));
  }

  /**
   * Runs {@code body} on {@code connection} (in auto-commit mode) in one {@code BEGIN IMMEDIATE}
   * transaction, committed when it returns and rolled back when it throws.
   */
  public static <T> T writeTransaction(Connection connection, Work<T> body) throws SQLException {
    try (Statement sql = connection.createStatement()) {
      sql.execute("BEGIN IMMEDIATE");
      boolean committed = false;
      try {
        T result = body.apply(connection);
        sql.execute("COMMIT");
        committed = true;
        return result;
      } finally {
        if (!committed) {
          try {
            sql.execute("ROLLBACK");
          } catch (SQLException ignored) {
            // the failure being thrown says what happened; SQLite may have rolled back already
          }
        }
      }
    }
  }

  /**
   * Verifies the file in one read transaction: SQLite's {@code integrity_check}, then {@code
   * records}. Problems are listed, never thrown.
   */
  public StoreCheck check(String what, RecordScan records) {
    return with(
        what,
        c -> {
          List<String> problems = new ArrayList<>();
          try (Statement sql = c.createStatement()) {
            sql.execute("BEGIN");
            try {
              try (ResultSet rows = sql.executeQuery("PRAGMA integrity_check")) {
                while (rows.next()) {
                  if (!"ok".equals(rows.getString(1))) {
                    problems.add("integrity_check: " + rows.getString(1));
                  }
                }
              }
              records.addProblems(sql, problems);
            } finally {
              SqliteLibrary.endRead(sql);
            }
          }
          return new StoreCheck(problems.isEmpty(), problems);
        });
  }

  /**
   * Opens another connection to the file for reads only ({@code query_only}), with the busy
   * timeout: in WAL mode its reads see the last commit and never wait for the writer. The caller
   * owns and closes it; its failures go through {@link #failure}.
   */
  public Connection openReader() throws SQLException {
    Connection reader = SqliteLibrary.connect("jdbc:sqlite:" + file, null);
    try (Statement sql = reader.createStatement()) {
      sql.execute("PRAGMA busy_timeout = " + SqliteLibrary.BUSY_TIMEOUT_MILLIS);
      sql.execute("PRAGMA query_only = ON");
    } catch (SQLException e) {
      closeQuietly(reader, e);
      throw e;
    }
    return reader;
  }

  /**
   * The kind's exception for {@code e}, met while doing {@code what}: "cannot {@code what}: ", what
   * happened to the file and what to do about it.
   */
  public RuntimeException failure(String what, SQLException e) {
    return kind.failure("cannot " + what + ": " + describe(e, file, kind, whenDamaged), e);
  }

  /**
   * The kind's exception for an operation on the store after {@link #close()}: "cannot {@code
   * what}: the ... is closed; open it again".
   */
  public RuntimeException closedFailure(String what) {
    return kind.failure(
        "cannot " + what + ": the " + kind.owner() + " " + file + " is closed; open it again",
        null);
  }

  /** False once {@link #close()} has run. */
  public boolean isOpen() {
    lock.lock();
    try {
      return connection != null;
    } finally {
      lock.unlock();
    }
  }

  /** Stops the scheduled sweep and closes the connection; closing twice is fine. */
  @Override
  public void close() {
    ScheduledExecutorService executor = sweeper;
    if (executor != null) {
      // a sweep under way finishes first: closing waits for the lock
      executor.shutdown();
    }
    lock.lock();
    try {
      if (connection == null) {
        return;
      }
      try {
        connection.close();
      } catch (SQLException e) {
        log.warn("closing {} {} failed: {}", kind.label(), file, e.getMessage());
      }
      connection = null;
      log.debug("closed {} {}", kind.label(), file);
    } finally {
      lock.unlock();
    }
  }

  /** What happened to the file, and what to do about it. */
  private static String describe(SQLException e, Path file, Migrations kind, String whenDamaged) {
    return switch (SqliteErrors.primaryCode(e)) {
      case SqliteErrors.CORRUPT, SqliteErrors.NOTADB ->
          file
              + " is damaged or not a cfn "
              + kind.label()
              + ": "
              + whenDamaged
              + " ("
              + e.getMessage()
              + ")";
      default -> SqliteErrors.describe(e, file);
    };
  }

  private static void closeQuietly(Connection connection, Exception failure) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        failure.addSuppressed(e);
      }
    }
  }
}
