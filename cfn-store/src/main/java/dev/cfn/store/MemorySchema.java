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
 * The schema of a memory file as an ordered list of migrations, like the journal's {@code Schema}
 * but with an application id and a version history of its own: a memory file is never a journal,
 * and each refuses the other.
 *
 * <p>{@code schema_version} holds one row per applied migration. Opening a file applies, in one
 * transaction, every migration above its version, so a file is always at exactly one version and a
 * failed upgrade changes nothing. A file at a higher version than this code knows was written by a
 * newer cfn and is refused rather than misread. New migrations are appended to {@link #MIGRATIONS};
 * existing ones are never edited.
 *
 * <p>{@code memory_entries} holds the entries ({@code tags} and {@code metadata} as JSON, times in
 * epoch milliseconds, {@code crc} the {@link RecordChecksum} of the other columns but {@code id}).
 * {@code memory_search} is an FTS5 index over its key, value and tags, an external-content table
 * kept in step by triggers, so the text is stored once.
 */
final class MemorySchema {

  /** {@code PRAGMA application_id} of a cfn memory file: "cfnm". */
  static final int APPLICATION_ID = 0x63666e6d;

  /** One step of the schema's history. */
  record Migration(int version, String description, List<String> statements) {}

  static final List<Migration> MIGRATIONS =
      List.of(
          new Migration(
              1,
              "memory_entries and their full-text index memory_search",
              List.of(
                  """
                  CREATE TABLE memory_entries (
                    id INTEGER PRIMARY KEY,
                    namespace TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    level TEXT NOT NULL
                      CHECK (level IN ('PRIVATE', 'SWARM', 'PROJECT', 'PUBLIC')),
                    owner TEXT NOT NULL,
                    swarm TEXT,
                    project TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    crc INTEGER NOT NULL,
                    UNIQUE (namespace, key))""",
                  "CREATE INDEX memory_by_expiry ON memory_entries(expires_at)"
                      + " WHERE expires_at IS NOT NULL",
                  "CREATE VIRTUAL TABLE memory_search USING fts5(key, value, tags,"
                      + " content='memory_entries', content_rowid='id',"
                      + " tokenize='unicode61 remove_diacritics 2')",
                  """
                  CREATE TRIGGER memory_search_insert AFTER INSERT ON memory_entries BEGIN
                    INSERT INTO memory_search(rowid, key, value, tags)
                      VALUES (new.id, new.key, new.value, new.tags);
                  END""",
                  """
                  CREATE TRIGGER memory_search_delete AFTER DELETE ON memory_entries BEGIN
                    INSERT INTO memory_search(memory_search, rowid, key, value, tags)
                      VALUES ('delete', old.id, old.key, old.value, old.tags);
                  END""",
                  """
                  CREATE TRIGGER memory_search_update AFTER UPDATE ON memory_entries BEGIN
                    INSERT INTO memory_search(memory_search, rowid, key, value, tags)
                      VALUES ('delete', old.id, old.key, old.value, old.tags);
                    INSERT INTO memory_search(rowid, key, value, tags)
                      VALUES (new.id, new.key, new.value, new.tags);
                  END""")));

  /** The version this code writes. */
  static int latestVersion() {
    return MIGRATIONS.getLast().version();
  }

  private MemorySchema() {}

  /**
   * Brings the file to {@link #latestVersion()} in one transaction and returns the version it was
   * at before (0 for a new file). Throws {@link MemoryException} for a file written by a newer cfn
   * or an SQLite database that is not a memory file; nothing is changed then.
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
        throw notAMemoryFile(file, applicationId);
      }
      sql.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
              + " description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      return 0;
    }
    if (applicationId != APPLICATION_ID) {
      throw notAMemoryFile(file, applicationId);
    }
    int version = queryInt(sql, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (version > latestVersion()) {
      throw new MemoryException(
          file
              + " has memory schema version "
              + version
              + " but this cfn knows versions up to "
              + latestVersion()
              + ": it was written by a newer cfn. Use that version (or newer), or open another"
              + " file; nothing was changed");
    }
    return version;
  }

  private static MemoryException notAMemoryFile(Path file, int applicationId) {
    String journal =
        applicationId == Schema.APPLICATION_ID
            ? " (it is a cfn journal, which has its own file)"
            : "";
    return new MemoryException(
        file
            + " is an SQLite database but not a cfn memory file"
            + journal
            + "; give the memory store a file of its own (nothing was changed)");
  }

  private static int queryInt(Statement sql, String query) throws SQLException {
    try (ResultSet rows = sql.executeQuery(query)) {
      return rows.next() ? rows.getInt(1) : 0;
    }
  }
}
