package dev.cfn.store;

import dev.cfn.core.JournalException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.sqlite.SQLiteConfig;

/**
 * A journal file looked at from outside its owner: the read-only connection of the static tools
 * ({@code check}, {@code backup}, {@code restore}) and the verification they share with {@link
 * SqliteJournal#check()}.
 *
 * <p>The read-only connection ({@code SQLITE_OPEN_READONLY}) never writes the database file, never
 * creates it and never touches the journal's lock file, so it may look at a journal another process
 * (or another {@link SqliteJournal} of this one) is writing: in WAL mode a reader sees the last
 * committed snapshot without blocking the writer. Like any reader of a WAL database, SQLite may
 * create the {@code -wal} and {@code -shm} files beside it when they are missing (the shared-memory
 * index readers coordinate through); the database file itself is not changed.
 */
final class StoreFile {

  /**
   * The contents of a journal snapshot, counted in one read transaction.
   *
   * @param highestAcknowledgedId the highest id in {@code acked}, 0 when none
   * @param pendingMessages rows of {@code messages}
   * @param acknowledgedIds rows of {@code acked}
   * @param deadLetters rows of {@code dead_letters}
   * @param stateRows rows of {@code state}
   */
  record Counts(
      long highestAcknowledgedId,
      long pendingMessages,
      long acknowledgedIds,
      long deadLetters,
      long stateRows) {}

  /** A verified look at a file: what is wrong with it, and its counts when nothing is. */
  record Inspection(StoreCheck check, Counts counts) {}

  private StoreFile() {}

  /** Opens {@code file}, which must exist, read-only; see the class comment. */
  static Connection openReadOnly(Path file) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true); // SQLITE_OPEN_READONLY, without SQLITE_OPEN_CREATE
    config.setBusyTimeout(WriteConnection.BUSY_TIMEOUT_MILLIS);
    return DriverManager.getConnection("jdbc:sqlite:" + file, config.toProperties());
  }

  /** Throws {@link JournalException} unless {@code file} is an existing regular file. */
  static void requireFile(Path file, String role) {
    if (!Files.exists(file)) {
      throw new JournalException("there is no " + role + " at " + file + ": check the path");
    }
    if (!Files.isRegularFile(file)) {
      throw new JournalException(
          file + " is not a regular file, so it cannot be a " + role + ": check the path");
    }
  }

  /**
   * Checks {@code file} read-only in one read transaction and, when it is sound, counts its
   * contents in the same transaction.
   */
  static Inspection inspect(Path file, Backups.Cancel cancel) {
    requireFile(file, "journal");
    try (Connection c = openReadOnly(file)) {
      cancel.register(c);
      try (Statement sql = c.createStatement()) {
        sql.execute("BEGIN");
        try {
          StoreCheck check = check(c, file);
          return new Inspection(check, check.ok() ? counts(c) : null);
        } finally {
          sql.execute("COMMIT");
        }
      } finally {
        cancel.unregister();
      }
    } catch (SQLException e) {
      throw new JournalException("cannot check " + file + ": " + SqliteErrors.describe(e, file), e);
    }
  }

  /**
   * Verifies the journal open on {@code c}: that it is a cfn journal at a schema version this code
   * knows, SQLite's {@code integrity_check}, and the checksum of every record of every table. Run
   * it in a read transaction so that it sees one snapshot. Problems are listed, never thrown; a
   * file that is not a journal (or is from a newer cfn) is reported without scanning its tables.
   */
  static StoreCheck check(Connection c, Path file) {
    List<String> problems = new ArrayList<>();
    try {
      schemaProblem(c, file).ifPresent(problems::add);
    } catch (SQLException e) {
      problems.add(SqliteErrors.describe(e, file));
    }
    if (!problems.isEmpty()) {
      return new StoreCheck(false, problems);
    }
    try (Statement sql = c.createStatement();
        ResultSet rows = sql.executeQuery("PRAGMA integrity_check")) {
      while (rows.next()) {
        String result = rows.getString(1);
        if (!"ok".equals(result)) {
          problems.add("integrity_check: " + result);
        }
      }
    } catch (SQLException e) {
      problems.add("integrity_check failed: " + SqliteErrors.describe(e, file));
    }
    for (Table table : Table.values()) {
      try (Statement sql = c.createStatement();
          ResultSet rows = sql.executeQuery(table.select() + " ORDER BY " + table.keyOrder())) {
        while (rows.next()) {
          table
              .problem(table.values(rows), rows.getObject(table.columnCount() + 1))
              .ifPresent(problems::add);
        }
      } catch (SQLException e) {
        problems.add(table.sqlName() + ": cannot be read: " + SqliteErrors.describe(e, file));
      }
    }
    return new StoreCheck(problems.isEmpty(), problems);
  }

  /** What makes the file on {@code c} something other than a journal this code can read. */
  private static Optional<String> schemaProblem(Connection c, Path file) throws SQLException {
    try (Statement sql = c.createStatement()) {
      long applicationId = queryLong(sql, "PRAGMA application_id");
      boolean versioned =
          queryLong(
                  sql,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                      + " AND name = 'schema_version'")
              > 0;
      if (applicationId != Schema.APPLICATION_ID || !versioned) {
        return Optional.of(
            file
                + " is not a cfn journal (no cfn application id or schema_version table):"
                + " check the path");
      }
      long version = queryLong(sql, "SELECT coalesce(max(version), 0) FROM schema_version");
      if (version > Schema.latestVersion()) {
        return Optional.of(
            file
                + " has journal schema version "
                + version
                + " but this cfn knows versions up to "
                + Schema.latestVersion()
                + ": it was written by a newer cfn; use that version (or newer)");
      }
      if (version < 1) {
        return Optional.of(file + " has no journal tables (schema version 0)");
      }
      return Optional.empty();
    }
  }

  /** Counts the contents of the journal on {@code c} (call inside the caller's transaction). */
  static Counts counts(Connection c) throws SQLException {
    try (Statement sql = c.createStatement()) {
      return new Counts(
          queryLong(sql, "SELECT coalesce(max(id), 0) FROM acked"),
          queryLong(sql, "SELECT count(*) FROM messages"),
          queryLong(sql, "SELECT count(*) FROM acked"),
          queryLong(sql, "SELECT count(*) FROM dead_letters"),
          queryLong(sql, "SELECT count(*) FROM state"));
    }
  }

  /** The first problems of {@code check}, for an exception message. */
  static String summary(StoreCheck check) {
    int shown = Math.min(5, check.problems().size());
    String listed = String.join("; ", check.problems().subList(0, shown));
    int more = check.problems().size() - shown;
    return more > 0 ? listed + "; and " + more + " more" : listed;
  }

  private static long queryLong(Statement sql, String query) throws SQLException {
    try (ResultSet rows = sql.executeQuery(query)) {
      return rows.next() ? rows.getLong(1) : 0;
    }
  }
}
