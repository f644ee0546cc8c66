package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.SqliteErrors;
import dev.cfn.store.sqlite.SqliteLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    SqliteLibrary.install(); // before the first class of the driver that may load it
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true); // SQLITE_OPEN_READONLY, without SQLITE_OPEN_CREATE
    config.setBusyTimeout(SqliteLibrary.BUSY_TIMEOUT_MILLIS);
    return SqliteLibrary.connect("jdbc:sqlite:" + file, config.toProperties());
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
          SqliteLibrary.endRead(sql);
        }
      } finally {
        cancel.unregister();
      }
    } catch (SQLException e) {
      String detail =
          switch (SqliteErrors.primaryCode(e)) {
            case SqliteErrors.CORRUPT, SqliteErrors.NOTADB ->
                file
                    + " is too damaged to be checked table by table, or is not an SQLite file ("
                    + e.getMessage()
                    + "; fix: restore a backup with JournalFiles.restore or `cfn restore`, or"
                    + " move the file aside)";
            default -> SqliteErrors.describe(e, file);
          };
      throw new JournalException("cannot check " + file + ": " + detail, e);
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
    Map<Long, String> trees = Map.of();
    try {
      schemaProblem(c, file).ifPresent(problems::add);
      if (problems.isEmpty()) {
        schemaChange(c).ifPresent(problems::add);
      }
      trees = treeNames(c);
    } catch (SQLException e) {
      problems.add(file + ": the header or the schema (page 1) cannot be read: " + damage(e));
    }
    if (!problems.isEmpty()) {
      return new StoreCheck(false, problems);
    }
    integrityProblems(c, "PRAGMA integrity_check", trees, problems);
    for (Table table : Table.values()) {
      if (!trees.containsValue(table.sqlName())) {
        continue; // a table of a later schema version: an older file is migrated when opened
      }
      try (Statement sql = c.createStatement();
          ResultSet rows = sql.executeQuery(table.select() + " ORDER BY " + table.keyOrder())) {
        while (rows.next()) {
          table
              .problem(table.values(rows), rows.getObject(table.columnCount() + 1))
              .ifPresent(problems::add);
        }
      } catch (SQLException e) {
        problems.add(table.sqlName() + ": cannot be read: " + damage(e));
      }
    }
    return new StoreCheck(problems.isEmpty(), problems);
  }

  /**
   * The tables whose reads go through an index of their own ({@code state}, {@code attempts},
   * {@code meta}, {@code idempotency}: their primary keys are separate b-trees): {@link
   * #damageOnOpen} cross-checks each index against its table, because an index entry changed on
   * disk still looks valid, and a lookup through it would silently miss a row that exists.
   */
  private static final List<String> INDEXED_TABLES =
      List.of("state", "attempts", "meta", "idempotency");

  /**
   * What SQLite finds wrong with the structure of the file on {@code c}, checked before a journal
   * opens so that no read can give a wrong answer from a damaged page: an empty list when it is
   * sound.
   *
   * <p>Every record carries a checksum, but a checksum cannot see a record that is <em>missing</em>
   * from an answer: a changed cell count or cell pointer drops a row from a page, a changed child
   * pointer or divider key sends a lookup to the wrong page, and a changed index entry hides a row
   * from every lookup by key. So: {@code PRAGMA quick_check} walks every page of the file (b-tree
   * structure, cell counts and the space they account for, key order, the free list) and {@code
   * PRAGMA integrity_check(T)} also matches each index of the indexed tables against its rows. The
   * one index left unmatched, {@code acked_by_time}, only drives the sweep of old acknowledged ids.
   * Cost: measured at about 0.3 s per million acknowledged ids (45 MB) and 0.15 s per 100,000 state
   * rows on the reference machine; {@link SqliteJournal#check()} does the full {@code
   * integrity_check}.
   */
  static List<String> damageOnOpen(Connection c, Path file) {
    List<String> problems = new ArrayList<>();
    Map<Long, String> trees;
    try {
      trees = treeNames(c);
    } catch (SQLException e) {
      problems.add("the schema cannot be read: " + damage(e));
      return problems;
    }
    try {
      schemaChange(c).ifPresent(problems::add);
    } catch (SQLException e) {
      problems.add("the schema cannot be read: " + damage(e));
      return problems;
    }
    List<String> pragmas = new ArrayList<>();
    pragmas.add("PRAGMA quick_check");
    for (String table : INDEXED_TABLES) {
      if (trees.containsValue(table)) {
        pragmas.add("PRAGMA integrity_check(" + table + ")");
      }
    }
    for (String pragma : pragmas) {
      integrityProblems(c, pragma, trees, problems);
    }
    return problems;
  }

  /**
   * Runs {@code pragma} (an integrity or quick check) and adds what it reports, naming the table or
   * index of each damaged b-tree; when SQLite cannot even run it, finds the tables it cannot read.
   */
  private static void integrityProblems(
      Connection c, String pragma, Map<Long, String> trees, List<String> problems) {
    String name = pragma.substring("PRAGMA ".length());
    try (Statement sql = c.createStatement();
        ResultSet rows = sql.executeQuery(pragma)) {
      while (rows.next()) {
        String result = rows.getString(1);
        if (!"ok".equals(result)) {
          problems.add(name + ": " + nameTrees(result, trees));
        }
      }
    } catch (SQLException e) {
      problems.add(name + " could not finish: " + damage(e));
      for (Map.Entry<Long, String> tree : trees.entrySet()) {
        if (tree.getValue().startsWith("index ")) {
          continue; // checked with its table
        }
        try (Statement sql = c.createStatement();
            ResultSet rows =
                sql.executeQuery("PRAGMA quick_check(" + quoted(tree.getValue()) + ")")) {
          while (rows.next()) {
            // read it all: a damaged page fails the read
          }
        } catch (SQLException t) {
          problems.add(
              "b-tree of "
                  + tree.getValue()
                  + " (root page "
                  + tree.getKey()
                  + ") cannot be read: "
                  + damage(t));
        }
      }
    }
  }

  /**
   * How the schema stored in a journal at the latest version differs from the one its migrations
   * create: SQLite parses the stored {@code CREATE} statements on every open, so a changed byte in
   * them that still parses (a column type, a key) silently changes what queries return.
   */
  static Optional<String> schemaChange(Connection c) throws SQLException {
    long version;
    try (Statement sql = c.createStatement()) {
      if (queryLong(sql, "PRAGMA application_id") != Schema.APPLICATION_ID) {
        return Optional.empty(); // a new file, or another kind: the migration decides
      }
      if (queryLong(sql, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'") == 0) {
        return Optional.empty(); // a new file, or not a journal: the migration decides
      }
      version = queryLong(sql, "SELECT coalesce(max(version), 0) FROM schema_version");
    }
    if (version != Schema.latestVersion()) {
      return Optional.empty(); // older: migrated next; newer: refused by the migration
    }
    List<String> expected = Schema.MIGRATIONS.expectedSchema();
    List<String> actual = Migrations.schema(c);
    if (actual.equals(expected)) {
      return Optional.empty();
    }
    List<String> unexpected = new ArrayList<>(actual);
    unexpected.removeAll(expected);
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(actual);
    return Optional.of(
        "the schema stored in the file (sqlite_master) is not the journal's: "
            + (unexpected.isEmpty() ? "" : "unexpected " + unexpected + " ")
            + (missing.isEmpty() ? "" : "missing " + missing));
  }

  /** Root page to name of every table and index of the file on {@code c}. */
  private static Map<Long, String> treeNames(Connection c) throws SQLException {
    Map<Long, String> trees = new java.util.TreeMap<>();
    try (Statement sql = c.createStatement();
        ResultSet rows =
            sql.executeQuery(
                "SELECT rootpage, type, name, tbl_name FROM sqlite_master WHERE rootpage > 0")) {
      while (rows.next()) {
        String type = rows.getString(2);
        String name = rows.getString(3);
        trees.put(
            rows.getLong(1),
            "table".equals(type) ? name : type + " " + name + " of " + rows.getString(4));
      }
    }
    return trees;
  }

  /** Adds the table (or index) name after each "Tree N" of an integrity-check line. */
  static String nameTrees(String line, Map<Long, String> trees) {
    java.util.regex.Matcher m = TREE.matcher(line);
    StringBuilder named = new StringBuilder();
    while (m.find()) {
      String tree = trees.get(Long.parseLong(m.group(1)));
      m.appendReplacement(
          named,
          java.util.regex.Matcher.quoteReplacement(
              m.group() + (tree == null ? "" : " (" + tree + ")")));
    }
    m.appendTail(named);
    return named.toString();
  }

  private static final java.util.regex.Pattern TREE =
      java.util.regex.Pattern.compile("Tree (\\d+)");

  /** What SQLite said, for a file already known to be checked (no advice to check it). */
  private static String damage(SQLException e) {
    return e.getMessage();
  }

  private static String quoted(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /** What makes the file on {@code c} something other than a journal this code can read. */
  static Optional<String> schemaProblem(Connection c, Path file) throws SQLException {
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
