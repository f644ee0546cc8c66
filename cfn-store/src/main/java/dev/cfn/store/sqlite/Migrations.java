package dev.cfn.store.sqlite;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The versioned schema of one kind of cfn file (the journal's {@code Schema}, {@code MemorySchema},
 * {@code CallLogSchema}): its {@code PRAGMA application_id}, its ordered migrations, and the one
 * transaction that brings a file up to the latest of them.
 *
 * <p>{@code schema_version} holds one row per applied migration. {@link #migrate} applies, in one
 * {@code BEGIN IMMEDIATE} transaction, every migration above the file's version, so a file is
 * always at exactly one version and a failed upgrade changes nothing (it is rolled back). A file at
 * a higher version than this code knows was written by a newer cfn and is refused rather than
 * misread; so is an SQLite database of another kind (another application id, or tables without a
 * {@code schema_version}), naming the other cfn kind when it is one. Each kind of file has an
 * application id and a version history of its own: a call log is never a journal or a memory file,
 * and each refuses the others. New migrations are appended; existing ones are never edited.
 */
public final class Migrations {
  /** One step of a schema's history. */
  public record Migration(int version, String description, List<String> statements) {}

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  /** {@code PRAGMA application_id} of a journal: "cfnj". */
  public static final int JOURNAL_APPLICATION_ID = 0x63666e6a;

  /** {@code PRAGMA application_id} of a memory file: "cfnm". */
  public static final int MEMORY_APPLICATION_ID = 0x63666e6d;

  /** {@code PRAGMA application_id} of a call log: "cfnc". */
  public static final int CALL_LOG_APPLICATION_ID = 0x63666e63;

  /**
   * Every kind of cfn file by application id, with its label, so that opening one kind's file as
   * another names what it is. The ids are one space shared by the stores, so they are kept here.
   */
  private static final Map<Integer, String> KINDS =
      Map.of(
          JOURNAL_APPLICATION_ID, "journal",
          MEMORY_APPLICATION_ID, "memory file",
          CALL_LOG_APPLICATION_ID, "call log");

  private final int applicationId;
  private final String label;
  private final String schemaName;
  private final String owner;
  private final BiFunction<String, Throwable, ? extends RuntimeException> failure;
  private final List<Migration> migrations;
  private volatile List<String> expected; // see expectedSchema()

  /**
   * The schema of one kind of file.
   *
   * @param applicationId the kind's {@code PRAGMA application_id}, written on every open
   * @param label what the file is called in messages ("journal", "memory file", "call log"): "not a
   *     cfn memory file", "memory file ... at schema version 2"
   * @param schemaName what its versions are called ("journal", "memory", "call-log"): "has memory
   *     schema version 3"
   * @param owner what the file belongs to ("journal", "memory store", "call log"): "give the memory
   *     store a file of its own"
   * @param failure the exception of the kind's store, from a message and a cause (null for none)
   * @param migrations the history, versions 1, 2, ... in order
   */
  public Migrations(
      int applicationId,
      String label,
      String schemaName,
      String owner,
      BiFunction<String, Throwable, ? extends RuntimeException> failure,
      List<Migration> migrations) {
    this.applicationId = applicationId;
    this.label = Objects.requireNonNull(label, "label");
    this.schemaName = Objects.requireNonNull(schemaName, "schemaName");
    this.owner = Objects.requireNonNull(owner, "owner");
    this.failure = Objects.requireNonNull(failure, "failure");
    this.migrations = List.copyOf(migrations);
  }

  /** What the file is called in messages: "journal", "memory file", "call log". */
  public String label() {
    return label;
  }

  /** What the file belongs to in messages: "journal", "memory store", "call log". */
  public String owner() {
    return owner;
  }

  /** The exception of the kind's store, with {@code message} and {@code cause} (may be null). */
  public RuntimeException failure(String message, Throwable cause) {
    return failure.apply(message, cause);
  }

  /** The migrations, oldest first. */
  public List<Migration> list() {
    return migrations;
  }

  /**
   * Each table, index and trigger as the latest version creates it ({@code type name ON table:
   * sql}), sorted, built once by applying the migrations to an in-memory database.
   */
  public List<String> expectedSchema() {
    List<String> schema = expected;
    if (schema == null) {
      try (Connection memory = SqliteLibrary.connect("jdbc:sqlite::memory:", null);
          Statement sql = memory.createStatement()) {
        int found = currentVersion(sql, Path.of(":memory:"));
        for (Migration migration : migrations) {
          if (migration.version() > found) {
            for (String statement : migration.statements()) {
              sql.execute(statement);
            }
          }
        }
        schema = schema(memory);
      } catch (SQLException e) {
        throw new IllegalStateException("the " + label + " schema does not apply: " + e, e);
      }
      expected = schema;
    }
    return schema;
  }

  /** The schema stored in the file on {@code c}, in the form of {@link #expectedSchema()}. */
  public static List<String> schema(Connection c) throws SQLException {
    List<String> schema = new java.util.ArrayList<>();
    try (Statement sql = c.createStatement();
        ResultSet rows =
            sql.executeQuery(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
                    + " WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name")) {
      while (rows.next()) {
        schema.add(
            rows.getString(1)
                + " "
                + rows.getString(2)
                + " ON "
                + rows.getString(3)
                + ": "
                + rows.getString(4));
      }
    }
    return List.copyOf(schema);
  }

  /** The version this code writes. */
  public int latestVersion() {
    return migrations.getLast().version();
  }

  /**
   * Brings the file to {@link #latestVersion()} in one transaction and returns the version it was
   * at before (0 for a new file); logs an upgrade. Throws the kind's exception for a file written
   * by a newer cfn or one that is an SQLite database of another kind; nothing is changed then.
   */
  public int migrate(Connection connection, Path file, Clock clock) throws SQLException {
    int before =
        StoreConnection.writeTransaction(
            connection,
            c -> {
              try (Statement sql = c.createStatement()) {
                int current = currentVersion(sql, file);
                for (Migration migration : migrations) {
                  if (migration.version() > current) {
                    apply(c, sql, migration, clock);
                  }
                }
                // written on every open, so that a file this process cannot write is refused
                // here (SQLITE_READONLY) rather than at the first write
                sql.execute("PRAGMA application_id = " + applicationId);
                return current;
              }
            });
    if (before < latestVersion()) {
      log.info("{} {} at schema version {} (was {})", label, file, latestVersion(), before);
    }
    return before;
  }

  private static void apply(Connection c, Statement sql, Migration migration, Clock clock)
      throws SQLException {
    for (String statement : migration.statements()) {
      sql.execute(statement);
    }
    try (PreparedStatement insert =
        c.prepareStatement(
            "INSERT INTO schema_version(version, description, applied_at) VALUES (?, ?, ?)")) {
      insert.setInt(1, migration.version());
      insert.setString(2, migration.description());
      insert.setLong(3, clock.millis());
      insert.executeUpdate();
    }
  }

  private int currentVersion(Statement sql, Path file) throws SQLException {
    int found = queryInt(sql, "PRAGMA application_id");
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
      if (tables > 0 || (found != 0 && found != applicationId)) {
        throw notThisKind(file, found);
      }
      sql.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
              + " description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      return 0;
    }
    if (found != applicationId) {
      throw notThisKind(file, found);
    }
    int version = queryInt(sql, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (version > latestVersion()) {
      throw failure(
          file
              + " has "
              + schemaName
              + " schema version "
              + version
              + " but this cfn knows versions up to "
              + latestVersion()
              + ": it was written by a newer cfn. Use that version (or newer), or open another"
              + " file; nothing was changed",
          null);
    }
    return version;
  }

  private RuntimeException notThisKind(Path file, int foundApplicationId) {
    String other = "";
    String otherLabel = KINDS.get(foundApplicationId);
    if (otherLabel != null && foundApplicationId != applicationId) {
      other = " (it is a cfn " + otherLabel + ", which has its own file)";
    }
    return failure(
        file
            + " is an SQLite database but not a cfn "
            + label
            + other
            + "; give the "
            + owner
            + " a file of its own (nothing was changed)",
        null);
  }

  private static int queryInt(Statement sql, String query) throws SQLException {
    try (ResultSet rows = sql.executeQuery(query)) {
      return rows.next() ? rows.getInt(1) : 0;
    }
  }
}
