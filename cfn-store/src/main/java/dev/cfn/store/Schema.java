package dev.cfn.store;

import dev.cfn.core.JournalException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;

/**
 * The journal's schema as an ordered list of migrations, versioned from the first table.
 *
 * <p>{@code schema_version} holds one row per applied migration. Opening a file applies, in one
 * transaction, every migration above its version, so a file is always at exactly one version and a
 * failed upgrade changes nothing. A file at a higher version than this code knows was written by a
 * newer cfn and is refused rather than misread. New migrations are appended to {@link #MIGRATIONS};
 * existing ones are never edited.
 *
 * <p>All timestamps are epoch milliseconds (UTC). {@code created_nanos} is the sender's {@link
 * System#nanoTime()} reading (see {@code MessageCodec}).
 */
final class Schema {

  /** {@code PRAGMA application_id} of a cfn journal: "cfnj". */
  static final int APPLICATION_ID = 0x63666e6a;

  /** One step of the schema's history. */
  record Migration(int version, String description, List<String> statements) {}

  private static final String MESSAGE_COLUMNS =
      """
      id INTEGER PRIMARY KEY,
      type TEXT NOT NULL,
      sender TEXT NOT NULL,
      recipient TEXT,
      topic_type TEXT,
      topic_source TEXT,
      correlation_id INTEGER NOT NULL,
      priority TEXT NOT NULL,
      delivery TEXT NOT NULL,
      headers TEXT NOT NULL,
      payload_class TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      created_nanos INTEGER NOT NULL,
      attempts INTEGER NOT NULL,
      """;

  static final List<Migration> MIGRATIONS =
      List.of(
          new Migration(
              1,
              "messages, acked, dead_letters, attempts, state, meta",
              List.of(
                  "CREATE TABLE messages ("
                      + MESSAGE_COLUMNS
                      + "last_error TEXT, crc INTEGER NOT NULL)",
                  "CREATE TABLE acked (id INTEGER PRIMARY KEY, acked_at INTEGER NOT NULL,"
                      + " crc INTEGER NOT NULL)",
                  "CREATE INDEX acked_by_time ON acked(acked_at)",
                  "CREATE TABLE dead_letters ("
                      + MESSAGE_COLUMNS
                      + "cause TEXT NOT NULL, dead_at INTEGER NOT NULL, crc INTEGER NOT NULL)",
                  "CREATE TABLE attempts (message_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
                      + " at INTEGER NOT NULL, error TEXT NOT NULL, crc INTEGER NOT NULL,"
                      + " PRIMARY KEY (message_id, attempt))",
                  "CREATE TABLE state (namespace TEXT NOT NULL, key TEXT NOT NULL,"
                      + " value TEXT NOT NULL, message_id INTEGER NOT NULL, crc INTEGER NOT NULL,"
                      + " PRIMARY KEY (namespace, key))",
                  "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL,"
                      + " crc INTEGER NOT NULL)")));

  /** The version this code writes. */
  static int latestVersion() {
    return MIGRATIONS.getLast().version();
  }

  private Schema() {}

  /**
   * Brings the file to {@link #latestVersion()} in one transaction and returns the version it was
   * at before (0 for a new file). Throws {@link JournalException} for a file written by a newer cfn
   * or one that is an SQLite database but not a journal; nothing is changed then.
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
        // (SQLITE_READONLY) rather than at the first append
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
        throw notAJournal(file);
      }
      sql.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
              + " description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      return 0;
    }
    if (applicationId != APPLICATION_ID) {
      throw notAJournal(file);
    }
    int version = queryInt(sql, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (version > latestVersion()) {
      throw new JournalException(
          file
              + " has journal schema version "
              + version
              + " but this cfn knows versions up to "
              + latestVersion()
              + ": it was written by a newer cfn. Use that version (or newer), or open another"
              + " file; nothing was changed");
    }
    return version;
  }

  private static JournalException notAJournal(Path file) {
    return new JournalException(
        file
            + " is an SQLite database but not a cfn journal; give the journal a file of its own"
            + " (nothing was changed)");
  }

  private static int queryInt(Statement sql, String query) throws SQLException {
    try (ResultSet rows = sql.executeQuery(query)) {
      return rows.next() ? rows.getInt(1) : 0;
    }
  }
}
