package dev.cfn.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;

/**
 * The schema of a call-log file as an ordered list of migrations, like {@code MemorySchema} and the
 * journal's {@code Schema}, with an application id and a version history of its own: a call log is
 * never a journal or a memory file, and each refuses the others.
 *
 * <p>{@code schema_version} holds one row per applied migration. Opening a file applies, in one
 * transaction, every migration above its version, so a failed upgrade changes nothing. A file at a
 * higher version than this code knows was written by a newer cfn and is refused rather than
 * misread. New migrations are appended to {@link #MIGRATIONS}; existing ones are never edited.
 *
 * <p>{@code calls} holds one row per recorded call: its idempotency {@code key}, the {@code result}
 * as the caller gave it (JSON), {@code recorded_at} in epoch milliseconds (what the retention sweep
 * reads), and {@code crc}, the {@link RecordChecksum} of the three other columns.
 */
final class CallLogSchema {

  /** {@code PRAGMA application_id} of a cfn call-log file: "cfnc". */
  static final int APPLICATION_ID = 0x63666e63;

  /** The table of recorded calls, as {@link RecordChecksum} names it. */
  static final String TABLE = "calls";

  /** One step of the schema's history. */
  record Migration(int version, String description, List<String> statements) {}

  static final List<Migration> MIGRATIONS =
      List.of(
          new Migration(
              1,
              "calls: recorded results by idempotency key",
              List.of(
                  """
                  CREATE TABLE calls (
                    key TEXT PRIMARY KEY,
                    result TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    crc INTEGER NOT NULL) WITHOUT ROWID""",
                  "CREATE INDEX calls_by_time ON calls(recorded_at)")));

  /** The version this code writes. */
  static int latestVersion() {
    return MIGRATIONS.getLast().version();
  }

  private CallLogSchema() {}

  /**
   * Brings the file to {@link #latestVersion()} in one transaction and returns the version it was
   * at before (0 for a new file). Throws {@link CallLogException} for a file written by a newer cfn
   * or an SQLite database that is not a call log; nothing is changed then.
   */
  static int migrate(Connection connection, Path file, Clock clock) throws SQLException {
    try (Statement sql = connection.createStatement()) {
      sql.execute("BEGIN IMMEDIATE");
      boolean committed = false;
      try {
        int before = currentVersion(sql, file);
        for (Migration migration : MIGRATIONS) {
          if (migration.version() <= before) {
            continue;
          }
          for (String statement : migration.statements()) {
            sql.execute(statement);
          }
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO schema_version(version, description, applied_at) VALUES (?, ?, ?)")) {
            insert.setInt(1, migration.version());
            insert.setString(2, migration.description());
            insert.setLong(3, clock.millis());
            insert.executeUpdate();
          }
        }
        // written on every open, so that a file this process cannot write is refused here
        sql.execute("PRAGMA application_id = " + APPLICATION_ID);
        sql.execute("COMMIT");
        committed = true;
        return before;
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

  private static int currentVersion(Statement sql, Path file) throws SQLException {
    int applicationId = queryInt(sql, "PRAGMA application_id");
    boolean versioned =
        queryInt(
                sql,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                    + " AND name = 'schema_version'")
            > 0;
    if (!versioned) {
      int tables =
          queryInt(
              sql,
              "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                  + " AND name NOT LIKE 'sqlite_%'");
      if (tables > 0 || (applicationId != 0 && applicationId != APPLICATION_ID)) {
        throw notACallLog(file, applicationId);
      }
      sql.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
              + " description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      return 0;
    }
    if (applicationId != APPLICATION_ID) {
      throw notACallLog(file, applicationId);
    }
    int version = queryInt(sql, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (version > latestVersion()) {
      throw new CallLogException(
          file
              + " has call-log schema version "
              + version
              + " but this cfn knows versions up to "
              + latestVersion()
              + ": it was written by a newer cfn. Use that version (or newer), or open another"
              + " file; nothing was changed");
    }
    return version;
  }

  private static CallLogException notACallLog(Path file, int applicationId) {
    String what =
        applicationId == Schema.APPLICATION_ID
            ? " (it is a cfn journal, which has its own file)"
            : applicationId == MemorySchema.APPLICATION_ID
                ? " (it is a cfn memory file, which has its own file)"
                : "";
    return new CallLogException(
        file
            + " is an SQLite database but not a cfn call log"
            + what
            + "; give the call log a file of its own (nothing was changed)");
  }

  private static int queryInt(Statement sql, String query) throws SQLException {
    try (ResultSet rows = sql.executeQuery(query)) {
      return rows.next() ? rows.getInt(1) : 0;
    }
  }
}
