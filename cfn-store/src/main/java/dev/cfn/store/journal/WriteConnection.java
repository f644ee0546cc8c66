package dev.cfn.store.journal;

import dev.cfn.store.sqlite.SqliteLibrary;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The single connection that writes the journal, owned by the writer thread, with its prepared
 * statements.
 *
 * <p>It runs in WAL mode (readers never block the writer, and a commit appends to the log instead
 * of rewriting pages) with the configured {@code synchronous} level, foreign keys on and a busy
 * timeout for other programs briefly holding the file. Transactions are issued as SQL ({@code BEGIN
 * IMMEDIATE}, savepoints, {@code COMMIT}) with the driver in auto-commit mode, so the writer
 * controls exactly where a batch begins and ends.
 */
final class WriteConnection implements AutoCloseable {
  static final int BUSY_TIMEOUT_MILLIS = SqliteLibrary.BUSY_TIMEOUT_MILLIS;
  private static final long JOURNAL_SIZE_LIMIT = 64L * 1024 * 1024;

  static final int WAL_AUTOCHECKPOINT_PAGES = 4_000;

  private final Connection connection;
  private final Statement statement;
  private final Map<String, PreparedStatement> prepared = new HashMap<>();

  private WriteConnection(Connection connection) throws SQLException {
    this.connection = connection;
    this.statement = connection.createStatement();
  }

  /** Opens and configures the write connection of {@code file}. */
  static WriteConnection open(Path file, SqliteJournal.Synchronous synchronous)
      throws SQLException {
    return open(file, synchronous, false);
  }

  /**
   * Opens and configures the write connection of {@code file}; with {@code walSyncedByCaller} (a
   * {@code FULL} journal whose {@link WalSync} fsyncs the WAL after each commit) SQLite runs at
   * {@code synchronous=NORMAL}.
   */
  static WriteConnection open(
      Path file, SqliteJournal.Synchronous synchronous, boolean walSyncedByCaller)
      throws SQLException {
    Connection connection = connect(file);
    try {
      WriteConnection write = new WriteConnection(connection);
      String mode = write.queryString("PRAGMA journal_mode = WAL");
      if (!"wal".equalsIgnoreCase(mode)) {
        throw new SQLException(
            "SQLite refused WAL mode for " + file + " (it stays in " + mode + " mode)");
      }
      write.exec(
          "PRAGMA synchronous = "
              + (walSyncedByCaller ? SqliteJournal.Synchronous.NORMAL : synchronous).name());
      if (synchronous == SqliteJournal.Synchronous.FULL) {
        // macOS: fsync does not flush the drive's cache, F_FULLFSYNC does; ignored elsewhere
        write.exec("PRAGMA fullfsync = ON");
        write.exec("PRAGMA checkpoint_fullfsync = ON");
      }
      write.exec("PRAGMA foreign_keys = ON");
      // Statement journals in memory, not in a file of their own: a multi-row statement inside
      // the writer's transaction keeps the pages it changes in a statement journal, which SQLite
      // spills to a new temporary file (created, unlinked and written page by page) once it
      // passes 64 KiB. strace of the writer at 256 RELIABLE LLM tasks in flight: 43 such files
      // in 3 s and as many pwrite calls into them as into the WAL itself. A statement journal
      // holds at most the pages of one statement of one batch, and is discarded with it.
      write.exec("PRAGMA temp_store = MEMORY");
      // SQLite checkpoints inside the commit that crosses this many WAL pages (16 MiB). Measured
      // with `cfn bench reliable` (256 senders and 10k msg/s paced, three runs each): 4,000 pages
      // gave 89-96k msg/s against 75-86k at SQLite's default of 1,000, with the same p99 (about
      // 4-5 ms), as pages rewritten by many commits are copied once. A checkpoint on a thread of
      // its own was worse on both counts (67-82k msg/s, p99 up to 55 ms): its fsync of the
      // database file stalls the WAL fsyncs of the commits behind it.
      write.exec("PRAGMA wal_autocheckpoint = " + WAL_AUTOCHECKPOINT_PAGES);
      write.exec("PRAGMA journal_size_limit = " + JOURNAL_SIZE_LIMIT);
      return write;
    } catch (SQLException | RuntimeException e) {
      try {
        connection.close();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** A plain connection to {@code file} with the busy timeout set. */
  static Connection connect(Path file) throws SQLException {
    java.util.Properties properties = new java.util.Properties();
    // The journal never reads generated keys; with them on, sqlite-jdbc matches every executed
    // statement against a regular expression and runs a second query (last_insert_rowid) after
    // every INSERT, on the writer thread: measured as the largest single cost of a commit of a
    // graph's acknowledgements (cfn bench flow).
    properties.setProperty("jdbc.get_generated_keys", "false");
    Connection connection = SqliteLibrary.connect("jdbc:sqlite:" + file, properties);
    try (Statement sql = connection.createStatement()) {
      sql.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MILLIS);
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return connection;
  }

  Connection connection() {
    return connection;
  }

  void exec(String sql) throws SQLException {
    statement.execute(sql);
  }

  String queryString(String sql) throws SQLException {
    try (ResultSet rows = statement.executeQuery(sql)) {
      return rows.next() ? rows.getString(1) : null;
    }
  }

  private java.util.Set<Long> attempted;

  /**
   * Ids of messages that may have rows in {@code attempts} (loaded from the file on first use, then
   * kept by the writer), so that acknowledging the common message that never failed skips a delete.
   * An id wrongly kept here only costs a needless delete; every id with attempt rows is here.
   */
  java.util.Set<Long> attempted() throws SQLException {
    if (attempted == null) {
      java.util.Set<Long> ids = new java.util.HashSet<>();
      try (ResultSet rows = statement.executeQuery("SELECT DISTINCT message_id FROM attempts")) {
        while (rows.next()) {
          ids.add(rows.getLong(1));
        }
      }
      attempted = ids;
    }
    return attempted;
  }

  /**
   * Forgets the {@link #attempted()} set, reloaded from the file on next use: after a rollback,
   * which may have undone the deletes of attempt rows whose ids were removed from it.
   */
  void forgetAttempted() {
    attempted = null;
  }

  private final Map<String, PreparedStatement[]> shaped = new HashMap<>();

  /**
   * A cached statement of a family whose SQL depends only on a count ({@code n} rows or ids, at
   * most {@link Writes#ROWS_PER_INSERT}): found by family and count, so the batch paths neither
   * build nor hash a long SQL string per batch.
   */
  PreparedStatement prepare(String family, int n, java.util.function.IntFunction<String> sql)
      throws SQLException {
    PreparedStatement[] byCount =
        shaped.computeIfAbsent(family, f -> new PreparedStatement[Writes.ROWS_PER_INSERT + 1]);
    PreparedStatement statement = byCount[n];
    if (statement == null) {
      statement = connection.prepareStatement(sql.apply(n));
      byCount[n] = statement;
    }
    return statement;
  }

  /** A cached statement for {@code sql}. */
  PreparedStatement prepare(String sql) throws SQLException {
    PreparedStatement statement = prepared.get(sql);
    if (statement == null) {
      statement = connection.prepareStatement(sql);
      prepared.put(sql, statement);
    }
    return statement;
  }

  /**
   * Drops the cached statements; called after a failed statement, since the driver may have
   * finalized it.
   */
  void forgetStatements() {
    List<PreparedStatement> all = new ArrayList<>(prepared.values());
    for (PreparedStatement[] byCount : shaped.values()) {
      for (PreparedStatement statement : byCount) {
        if (statement != null) {
          all.add(statement);
        }
      }
    }
    for (PreparedStatement statement : all) {
      try {
        statement.close();
      } catch (SQLException ignored) {
        // it is being discarded
      }
    }
    prepared.clear();
    shaped.clear();
  }

  @Override
  public void close() throws SQLException {
    forgetStatements();
    try {
      statement.close();
    } finally {
      connection.close();
    }
  }
}
