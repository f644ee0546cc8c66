package dev.cfn.store.memory;

import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryException;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryStore;
import dev.cfn.core.spi.MemoryWrite;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.sqlite.StoreConnection;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory for AI agents: text values under {@code (namespace, key)}, with metadata, tags, a time to
 * live, full-text search, and an {@linkplain MemoryAccessLevel access level} checked against the
 * {@linkplain MemoryAccessor principal} of every operation. Persisted in an SQLite file of its own
 * ({@link #DEFAULT_FILE} by default), separate from the journal.
 *
 * <pre>{@code
 * try (SqliteMemoryStore memory = SqliteMemoryStore.open(Path.of(".cfn/memory.db"))) {
 *   MemoryAccessor planner = MemoryAccessor.agent("planner/1", "swarm-a", "shop");
 *   memory.put(planner, "plans", "release-42", "{\"steps\":[\"build\",\"deploy\"]}",
 *       MemoryWrite.defaults().level(MemoryAccessLevel.SWARM).ttl(Duration.ofDays(7))
 *           .tags("release", "deploy"));
 *   MemoryAccessor coder = MemoryAccessor.agent("coder/2", "swarm-a", "shop");
 *   List<MemoryMatch> hits = memory.search(coder, "deploy*", "plans", 10);
 * }
 * }</pre>
 *
 * <p><b>Access.</b> Every read, write, search, list and delete is checked. An entry the principal
 * may not read is absent to it: {@link #get} returns empty and {@link #delete} false, as for a key
 * nobody wrote, and {@link #list} and {@link #search} filter in SQL, with search scores that never
 * depend on other entries (see {@link #search}); a {@link #put} on its key is refused without
 * naming its owner. {@link #put} and {@link #delete} of an entry the principal may read but not
 * change throw {@link MemoryAccessException} (changing nothing). A new entry belongs to the
 * principal that creates it (owner, swarm, project), for good. Keys are shared by all principals of
 * a namespace: give agents' private notes a namespace of their own.
 *
 * <p><b>Limits.</b> A value with its metadata is at most {@link Builder#maxValueBytes} UTF-8 bytes
 * (1 MiB by default) and a time to live at most {@link MemoryWrite#MAX_TTL}; larger ones are
 * refused with {@link IllegalArgumentException}. The file, and the directories the store creates
 * for it, are readable by their owner only (0600, 0700).
 *
 * <p><b>Expiry.</b> An entry put with a time to live is invisible to every operation from its
 * expiry on, as if deleted, and a put on its key creates a new entry; {@link #sweepExpired()}
 * deletes the expired rows, and {@link Builder#sweepEvery(Duration)} runs it on a schedule. Time
 * comes from the builder's {@link Clock}.
 *
 * <p><b>Durability and integrity.</b> The file is in WAL mode with {@code synchronous=FULL}: a put
 * or delete returns once it is fsynced. Every row carries a CRC32C of its columns, verified on
 * every read; a row changed behind the store's back fails with a {@link MemoryException} naming it,
 * and {@link #check()} lists every damaged row. The schema is versioned ({@code schema_version},
 * {@code PRAGMA application_id} "cfnm"): opening migrates an older file and refuses a newer one or
 * a file that is not a memory file (a journal, say).
 *
 * <p><b>Concurrency.</b> The store is thread-safe: operations run one at a time on one connection.
 * Several stores, in this process or others, may open the same file (the {@code cfn memory} command
 * while a runtime runs, say): SQLite serializes their writes, each in one {@code BEGIN IMMEDIATE}
 * transaction, waiting up to five seconds for another writer.
 */
public final class SqliteMemoryStore implements MemoryStore, AutoCloseable {
  /** Where the {@code cfn memory} command and embedded runtimes keep memory by default. */
  public static final Path DEFAULT_FILE = Path.of(".cfn", "memory.db");

  /** The longest namespace or key, in characters. */
  public static final int MAX_NAME_LENGTH = 512;

  /** The largest {@code limit} of a list or a search. */
  public static final int MAX_LIMIT = 10_000;

  /**
   * The default of {@link Builder#maxValueBytes}: 1 MiB of value and metadata (UTF-8) per entry.
   */
  public static final int DEFAULT_MAX_VALUE_BYTES = 1 << 20;

  private static final int MAX_TAG_LENGTH = 128;
  private static final Logger log = LoggerFactory.getLogger(SqliteMemoryStore.class);

  private final Path file;
  private final Clock clock;
  private final MemoryTable table;
  private final StoreConnection connection;
  private final int maxValueBytes;

  private final AtRest atRest;
  private final boolean ownsAtRest;

  private SqliteMemoryStore(
      StoreConnection connection,
      Clock clock,
      Duration sweepInterval,
      int maxValueBytes,
      AtRest atRest,
      boolean ownsAtRest) {
    this.maxValueBytes = maxValueBytes;
    this.file = connection.file();
    this.clock = clock;
    this.atRest = atRest;
    this.ownsAtRest = ownsAtRest;
    this.table = new MemoryTable(file, atRest);
    this.connection = connection;
    if (sweepInterval != null) {
      connection.sweepEvery(sweepInterval, "cfn-memory-sweep", this::scheduledSweep);
    }
  }

  /**
   * The values of a file of this kind that are still plain, for {@code cfn keys seal-existing} (see
   * {@link dev.cfn.store.crypto.PlainRecords}).
   */
  public static dev.cfn.store.crypto.PlainRecords plainRecords() {
    return new MemoryPlainRecords();
  }

  /** A builder for the memory file {@code file} (created with its directory when missing). */
  public static Builder builder(Path file) {
    return new Builder(Objects.requireNonNull(file, "file"));
  }

  /**
   * Opens {@code file} with the system clock and no scheduled sweep; see {@link Builder#open()}.
   */
  public static SqliteMemoryStore open(Path file) {
    return builder(file).open();
  }

  /** The memory file, as an absolute path. */
  public Path file() {
    return file;
  }

  /**
   * Stores {@code value} under {@code (namespace, key)} with {@link MemoryWrite#defaults()}: a new
   * entry is PRIVATE to {@code who}, an existing one keeps its level; no expiry.
   */
  @Override
  public MemoryEntry put(MemoryAccessor who, String namespace, String key, String value) {
    return put(who, namespace, key, value, MemoryWrite.defaults());
  }

  /**
   * Creates or replaces the entry {@code (namespace, key)} and returns it as stored, once fsynced.
   *
   * <p>A new entry (or one whose key had expired) belongs to {@code who}: its owner, swarm and
   * project are {@code who}'s. An existing entry is replaced (value, metadata, tags, expiry; see
   * {@link MemoryWrite}) only when {@code who} may write it, and its level changed only by its
   * owner or the operator; otherwise {@link MemoryAccessException} is thrown and nothing changes.
   *
   * @throws IllegalArgumentException for a blank or too long namespace or key, a value and metadata
   *     over {@link Builder#maxValueBytes}, a bad tag, or a SWARM (PROJECT) level for an entry
   *     without a swarm (project)
   * @throws MemoryAccessException when {@code who} may not write the existing entry
   * @throws MemoryException when the file cannot be written or the existing row is damaged
   */
  @Override
  public MemoryEntry put(
      MemoryAccessor who, String namespace, String key, String value, MemoryWrite write) {
    requireEntry(who, namespace, key);
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(write, "write");
    List<String> tags = normalizeTags(write.tags());
    requireMetadata(write.metadata());
    requireSize(namespace, key, value, write.metadata());
    return connection.inWriteTransaction(
        "write memory entry " + namespace + "/" + key,
        c -> {
          Instant now = now();
          Instant expiresAt = write.ttl() == null ? null : now.plus(write.ttl());
          // an expired entry is gone already: its key is free for a new entry, anyone's
          try (PreparedStatement delete =
              c.prepareStatement(
                  "DELETE FROM memory_entries WHERE namespace = ? AND key = ?"
                      + " AND expires_at IS NOT NULL AND expires_at <= ?")) {
            delete.setString(1, namespace);
            delete.setString(2, key);
            delete.setLong(3, now.toEpochMilli());
            delete.executeUpdate();
          }
          Stored existing = selectLive(c, namespace, key, now);
          if (existing == null) {
            MemoryAccessLevel level =
                write.level() == null ? MemoryAccessLevel.PRIVATE : write.level();
            requireScope(level, who.swarm(), who.project(), namespace, key);
            MemoryEntry created =
                new MemoryEntry(
                    namespace,
                    key,
                    value,
                    write.metadata(),
                    tags,
                    level,
                    who.agentId(),
                    who.swarm(),
                    who.project(),
                    now,
                    now,
                    expiresAt);
            try (PreparedStatement insert = c.prepareStatement(MemoryTable.INSERT)) {
              MemoryTable.bind(insert, table.row(created));
              insert.executeUpdate();
            }
            return created;
          }
          MemoryEntry old = existing.entry();
          if (!MemoryPermissions.mayRead(who, old)) {
            // the key is taken, which a put cannot hide; who took it and how stays hidden
            throw new MemoryAccessException(
                who
                    + " may not write memory entry '"
                    + key
                    + "' in namespace '"
                    + namespace
                    + "': the key is taken by an entry it may not read (fix: choose another key);"
                    + " nothing was changed",
                namespace,
                key,
                old.level());
          }
          MemoryPermissions.requireWrite(who, "write", old);
          MemoryAccessLevel level = write.level() == null ? old.level() : write.level();
          if (level != old.level()) {
            MemoryPermissions.requireLevelChange(who, level, old);
          }
          requireScope(level, old.swarm(), old.project(), namespace, key);
          MemoryEntry updated =
              new MemoryEntry(
                  namespace,
                  key,
                  value,
                  write.metadata(),
                  tags,
                  level,
                  old.owner(),
                  old.swarm(),
                  old.project(),
                  old.createdAt(),
                  now,
                  expiresAt);
          try (PreparedStatement update = c.prepareStatement(MemoryTable.UPDATE)) {
            int next = MemoryTable.bind(update, table.row(updated));
            update.setLong(next, existing.id());
            update.executeUpdate();
          }
          return updated;
        });
  }

  /**
   * The entry {@code (namespace, key)}; empty when there is none, it has expired, or {@code who}
   * may not read it: a denied read gives the same answer as a missing entry, so that it reveals
   * neither that the entry exists nor who owns it.
   *
   * @throws MemoryException when its row fails its checksum or the file cannot be read
   */
  @Override
  public Optional<MemoryEntry> get(MemoryAccessor who, String namespace, String key) {
    requireEntry(who, namespace, key);
    return connection.with(
        "read memory entry " + namespace + "/" + key,
        c -> {
          Stored found = selectLive(c, namespace, key, now());
          if (found == null) {
            return Optional.empty();
          }
          MemoryEntry entry = found.entry();
          // an entry the caller may not read is absent to him: no owner, no level, no existence
          return MemoryPermissions.mayRead(who, entry) ? Optional.of(entry) : Optional.empty();
        });
  }

  /**
   * Deletes the entry {@code (namespace, key)}; false when there is none (or it has expired).
   *
   * <p>Deleting needs the same permission as writing; an entry {@code who} may not even read is
   * absent to him (false), one he may read but not change is refused. The operator's delete does
   * not read the row, so it also removes a row that fails its checksum.
   *
   * @throws MemoryAccessException when {@code who} may not delete it (nothing is deleted)
   */
  @Override
  public boolean delete(MemoryAccessor who, String namespace, String key) {
    requireEntry(who, namespace, key);
    return connection.inWriteTransaction(
        "delete memory entry " + namespace + "/" + key,
        c -> {
          long now = now().toEpochMilli();
          if (who.isOperator()) {
            try (PreparedStatement delete =
                c.prepareStatement(
                    "DELETE FROM memory_entries WHERE namespace = ? AND key = ?"
                        + " AND (expires_at IS NULL OR expires_at > ?)")) {
              delete.setString(1, namespace);
              delete.setString(2, key);
              delete.setLong(3, now);
              return delete.executeUpdate() > 0;
            }
          }
          Stored found = selectLive(c, namespace, key, now());
          if (found == null || !MemoryPermissions.mayRead(who, found.entry())) {
            return false; // what the caller may not read is absent to him
          }
          MemoryPermissions.requireWrite(who, "delete", found.entry());
          deleteRow(c, found.id());
          return true;
        });
  }

  /**
   * The live entries of {@code namespace} that {@code who} may read, whose key starts with {@code
   * prefix} ({@code null} or empty for all), in key order, at most {@code limit}.
   */
  @Override
  public List<MemoryEntry> list(MemoryAccessor who, String namespace, String prefix, int limit) {
    Objects.requireNonNull(who, "who");
    requireName(namespace, "namespace");
    requireLimit(limit);
    String start = prefix == null ? "" : prefix;
    MemoryPermissions.Filter filter = MemoryPermissions.readableFilter(who);
    String sql =
        "SELECT "
            + MemoryTable.SELECT_COLUMNS
            + " FROM memory_entries e WHERE e.namespace = ?"
            + " AND e.key >= ? AND substr(e.key, 1, length(?)) = ?"
            + " AND (e.expires_at IS NULL OR e.expires_at > ?) AND "
            + filter.sql()
            + " ORDER BY e.key LIMIT ?";
    return connection.with(
        "list memory namespace " + namespace,
        c -> {
          try (PreparedStatement query = c.prepareStatement(sql)) {
            int i = 1;
            query.setString(i++, namespace);
            query.setString(i++, start);
            query.setString(i++, start);
            query.setString(i++, start);
            query.setLong(i++, now().toEpochMilli());
            for (Object arg : filter.args()) {
              query.setObject(i++, arg);
            }
            query.setInt(i, limit);
            List<MemoryEntry> entries = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
              while (rows.next()) {
                entries.add(table.read(rows));
              }
            }
            return entries;
          }
        });
  }

  /**
   * Full-text search over the keys, values and tags of the live entries {@code who} may read, in
   * {@code namespace} ({@code null} for every namespace), most relevant first, at most {@code
   * limit}.
   *
   * <p>The query is words that must all match; {@code word*} matches a prefix, {@code "two words"}
   * a phrase, {@code a OR b} either. Anything else is searched literally, so no query is a syntax
   * error; a query without letters or digits is refused with {@link IllegalArgumentException}.
   *
   * <p><b>Relevance</b> depends on the entry and the query only, never on other entries: FTS5's
   * {@code bm25()} weighs each term by statistics over the whole file (how many entries contain it,
   * their average length), so another agent's PRIVATE entries would move the scores of the entries
   * a caller sees and tell him which words they contain. Instead each matching entry gets BM25's
   * term-frequency part alone: for each column, {@code tf·(k1+1) / (tf + k1·(1 − b + b·len / 64))}
   * with {@code k1 = 1.2}, {@code b = 0.75}, {@code tf} the matches of the query in that column
   * ({@code highlight()}) and {@code len} its words, weighted 2 for the key and the tags and 1 for
   * the value, and summed. There is no inverse document frequency: a rare word weighs as much as a
   * common one. SQLite finds the matches among the readable entries; ranking and the limit are
   * applied here, over all of them.
   */
  @Override
  public List<MemoryMatch> search(MemoryAccessor who, String query, String namespace, int limit) {
    Objects.requireNonNull(who, "who");
    if (namespace != null) {
      requireName(namespace, "namespace");
    }
    requireLimit(limit);
    String match = MemorySearchQuery.toFts(query);
    MemoryPermissions.Filter filter = MemoryPermissions.readableFilter(who);
    String sql =
        "SELECT "
            + MemoryTable.SELECT_COLUMNS
            + ", highlight(memory_search, 0, ?, ''), highlight(memory_search, 1, ?, ''),"
            + " highlight(memory_search, 2, ?, '')"
            + " FROM memory_search JOIN memory_entries e ON e.id = memory_search.rowid"
            + " WHERE memory_search MATCH ?"
            + (namespace == null ? "" : " AND e.namespace = ?")
            + " AND (e.expires_at IS NULL OR e.expires_at > ?) AND "
            + filter.sql();
    return connection.with(
        "search memory for '" + query + "'",
        c -> {
          try (PreparedStatement statement = c.prepareStatement(sql)) {
            int i = 1;
            for (int column = 0; column < 3; column++) {
              statement.setString(i++, MATCH_MARK);
            }
            statement.setString(i++, match);
            if (namespace != null) {
              statement.setString(i++, namespace);
            }
            statement.setLong(i++, now().toEpochMilli());
            for (Object arg : filter.args()) {
              statement.setObject(i++, arg);
            }
            List<MemoryMatch> matches = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
              int first = MemoryTable.COLUMNS.size() + 2;
              while (rows.next()) {
                MemoryEntry entry = table.read(rows);
                double score = 0;
                for (int column = 0; column < 3; column++) {
                  score +=
                      COLUMN_WEIGHTS[column] * termFrequencyScore(rows.getString(first + column));
                }
                matches.add(new MemoryMatch(entry, score));
              }
            } catch (SQLException e) {
              if (String.valueOf(e.getMessage()).contains("fts5")) {
                throw new IllegalArgumentException(
                    "cannot search memory for '"
                        + query
                        + "': SQLite refused the query ("
                        + e.getMessage()
                        + "); search for plain words",
                    e);
              }
              throw e;
            }
            matches.sort(
                Comparator.comparingDouble(MemoryMatch::relevance)
                    .reversed()
                    .thenComparing(m -> m.entry().namespace())
                    .thenComparing(m -> m.entry().key()));
            return List.copyOf(matches.subList(0, Math.min(limit, matches.size())));
          }
        });
  }

  /** Marks the start of each match in the {@code highlight()} of a column. */
  private static final String MATCH_MARK = "\u0001\u0002cfn-match\u0002\u0001";

  /** The weights of the key, value and tags columns: names and tags count twice the text. */
  private static final double[] COLUMN_WEIGHTS = {2.0, 1.0, 2.0};

  private static final java.util.regex.Pattern WORD =
      java.util.regex.Pattern.compile("[\\p{L}\\p{N}]+");

  /**
   * BM25's term-frequency part for one column, from its {@code highlight()}: matches counted by
   * their marks, length in words, against a fixed reference length of 64 words (not the file's
   * average, which would depend on other entries).
   */
  static double termFrequencyScore(String highlighted) {
    if (highlighted == null || highlighted.isEmpty()) {
      return 0;
    }
    int tf = 0;
    for (int at = highlighted.indexOf(MATCH_MARK);
        at >= 0;
        at = highlighted.indexOf(MATCH_MARK, at + MATCH_MARK.length())) {
      tf++;
    }
    if (tf == 0) {
      return 0;
    }
    long words = WORD.matcher(highlighted.replace(MATCH_MARK, " ")).results().count();
    double k1 = 1.2;
    double b = 0.75;
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * words / 64.0));
  }

  /**
   * Deletes every entry whose time to live has run out and returns how many. Expired entries are
   * already invisible; this reclaims their space. Needs no principal: it removes nothing visible.
   */
  public int sweepExpired() {
    return connection.inWriteTransaction(
        "sweep expired memory entries",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement(
                  "DELETE FROM memory_entries WHERE expires_at IS NOT NULL AND expires_at <= ?")) {
            delete.setLong(1, now().toEpochMilli());
            return delete.executeUpdate();
          }
        });
  }

  /**
   * Verifies the file: that it is a memory file this cfn knows, SQLite's {@code integrity_check},
   * the full-text index against the entries, and the checksum of every row (expired ones too).
   * Problems are listed, never thrown; each names the record and what is wrong.
   */
  public StoreCheck check() {
    return connection.check(
        "check memory",
        (sql, problems) -> {
          try {
            sql.execute("INSERT INTO memory_search(memory_search) VALUES ('integrity-check')");
          } catch (SQLException e) {
            problems.add("memory_search (the full-text index): " + e.getMessage());
          }
          try (ResultSet rows =
              sql.executeQuery(
                  "SELECT "
                      + MemoryTable.SELECT_COLUMNS
                      + " FROM memory_entries e ORDER BY e.namespace, e.key")) {
            while (rows.next()) {
              MemoryTable.problem(
                      MemoryTable.values(rows), rows.getObject(MemoryTable.COLUMNS.size() + 1))
                  .ifPresent(problems::add);
            }
          }
        });
  }

  /**
   * Stops the scheduled sweep and closes the file. Later operations throw; closing twice is fine.
   */
  @Override
  public void close() {
    connection.close();
    if (ownsAtRest) {
      atRest.close();
    }
  }

  private void scheduledSweep() {
    try {
      int swept = sweepExpired();
      if (swept > 0) {
        log.debug("swept {} expired memory entries from {}", swept, file);
      }
    } catch (MemoryException e) {
      if (connection.isOpen()) {
        log.warn("could not sweep expired memory entries: {}", e.getMessage());
      }
    } catch (RuntimeException e) {
      log.warn("could not sweep expired memory entries of {}", file, e);
    }
  }

  /** A row as read, with its id. */
  private record Stored(long id, MemoryEntry entry) {}

  /**
   * The verified row of {@code (namespace, key)} unless it is missing or expired at {@code now}.
   */
  private Stored selectLive(Connection c, String namespace, String key, Instant now)
      throws SQLException {
    try (PreparedStatement query =
        c.prepareStatement(
            "SELECT "
                + MemoryTable.SELECT_COLUMNS
                + ", e.id FROM memory_entries e WHERE e.namespace = ? AND e.key = ?"
                + " AND (e.expires_at IS NULL OR e.expires_at > ?)")) {
      query.setString(1, namespace);
      query.setString(2, key);
      query.setLong(3, now.toEpochMilli());
      try (ResultSet rows = query.executeQuery()) {
        if (!rows.next()) {
          return null;
        }
        MemoryEntry entry = table.read(rows);
        return new Stored(rows.getLong(MemoryTable.COLUMNS.size() + 2), entry);
      }
    }
  }

  private static void deleteRow(Connection c, long id) throws SQLException {
    try (PreparedStatement delete = c.prepareStatement("DELETE FROM memory_entries WHERE id = ?")) {
      delete.setLong(1, id);
      delete.executeUpdate();
    }
  }

  private Instant now() {
    return Instant.ofEpochMilli(clock.millis());
  }

  private static void requireScope(
      MemoryAccessLevel level, String swarm, String project, String namespace, String key) {
    if (level == MemoryAccessLevel.SWARM && swarm == null) {
      throw new IllegalArgumentException(
          "memory entry '"
              + key
              + "' in namespace '"
              + namespace
              + "' cannot be SWARM-level: it belongs to no swarm (its creator had none);"
              + " create it as an agent of a swarm, or choose another level");
    }
    if (level == MemoryAccessLevel.PROJECT && project == null) {
      throw new IllegalArgumentException(
          "memory entry '"
              + key
              + "' in namespace '"
              + namespace
              + "' cannot be PROJECT-level: it belongs to no project (its creator had none);"
              + " create it as an agent of a project, or choose another level");
    }
  }

  private static void requireEntry(MemoryAccessor who, String namespace, String key) {
    Objects.requireNonNull(who, "who");
    requireName(namespace, "namespace");
    requireName(key, "key");
  }

  private static void requireName(String name, String what) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a memory " + what + " must not be empty or blank");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "a memory "
              + what
              + " has at most "
              + MAX_NAME_LENGTH
              + " characters; this one has "
              + name.length());
    }
    if (name.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          "memory " + what + " '" + name.strip() + "' contains a control character; remove it");
    }
  }

  private static void requireLimit(int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "the limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
    }
  }

  private static List<String> normalizeTags(List<String> tags) {
    TreeSet<String> sorted = new TreeSet<>();
    for (String tag : tags) {
      if (tag.isBlank()
          || tag.length() > MAX_TAG_LENGTH
          || tag.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException(
            "memory tag '"
                + tag
                + "' is blank, longer than "
                + MAX_TAG_LENGTH
                + " characters or contains a control character; use a short word");
      }
      sorted.add(tag.strip());
    }
    return List.copyOf(sorted);
  }

  /**
   * Throws {@link IllegalArgumentException} when the value and metadata together exceed {@link
   * #maxValueBytes} in UTF-8: one entry must not fill the disk or the memory of every reader.
   */
  private void requireSize(
      String namespace, String key, String value, Map<String, String> metadata) {
    long bytes = utf8Length(value);
    for (Map.Entry<String, String> pair : metadata.entrySet()) {
      bytes += utf8Length(pair.getKey()) + utf8Length(pair.getValue());
    }
    if (bytes > maxValueBytes) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "memory entry '%s' in namespace '%s' was not stored: its value and metadata are"
                  + " %,d bytes, over the limit of %,d bytes (fix: store less, for example a"
                  + " file path instead of the file, or raise SqliteMemoryStore.Builder.maxValueBytes)",
              key,
              namespace,
              bytes,
              maxValueBytes));
    }
  }

  private static long utf8Length(String text) {
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch < 0x80) {
        bytes += 1;
      } else if (ch < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(ch)) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  private static void requireMetadata(Map<String, String> metadata) {
    for (String name : metadata.keySet()) {
      if (name.isBlank()) {
        throw new IllegalArgumentException("a memory metadata name must not be blank");
      }
    }
  }

  /** Configures and opens a {@link SqliteMemoryStore}. */
  public static final class Builder {
    private final Path file;
    private Clock clock = Clock.systemUTC();
    private Duration sweepInterval;
    private int maxValueBytes = DEFAULT_MAX_VALUE_BYTES;
    private AtRest atRest; // null: AtRest.beside(file) at open

    private Builder(Path file) {
      this.file = file;
    }

    /** The clock for times and expiry (default: the system clock); tests pass their own. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The largest value of one entry, with its metadata, in UTF-8 bytes (default {@link
     * #DEFAULT_MAX_VALUE_BYTES}, 1 MiB); a larger put is refused with {@link
     * IllegalArgumentException} and stores nothing.
     */
    public Builder maxValueBytes(int bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException(
            "the memory value limit must be at least 1 byte, not "
                + bytes
                + " (the default is "
                + DEFAULT_MAX_VALUE_BYTES
                + ")");
      }
      this.maxValueBytes = bytes;
      return this;
    }

    /**
     * Deletes expired entries every {@code interval} on a daemon thread, from one interval after
     * opening until {@link SqliteMemoryStore#close()}. Off by default: call {@link
     * SqliteMemoryStore#sweepExpired()} when convenient, or never (expired entries are invisible
     * anyway).
     */
    public Builder sweepEvery(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.toMillis() < 1) {
        throw new IllegalArgumentException(
            "the memory sweep interval must be at least a millisecond, not " + interval);
      }
      this.sweepInterval = interval;
      return this;
    }

    /**
     * Opens the file (creating it and its directory when missing) in WAL mode with {@code
     * synchronous=FULL}, and creates or migrates its schema. Throws {@link MemoryException} when
     * the file cannot be opened, is not a memory file, or was written by a newer cfn; nothing is
     * changed then.
     */
    public SqliteMemoryStore open() {
      Path path = file.toAbsolutePath().normalize();
      AtRest keys = atRest != null ? atRest : AtRest.beside(path, "memory");
      try {
        StoreConnection connection =
            StoreConnection.open(
                path,
                clock,
                MemorySchema.MIGRATIONS,
                "SqliteMemoryStore.check() lists what is damaged; restore a copy or move the file"
                    + " aside",
                c -> {
                  keys.checkFile(c, path, true);
                  return null;
                });
        return new SqliteMemoryStore(
            connection, clock, sweepInterval, maxValueBytes, keys, atRest == null);
      } catch (RuntimeException e) {
        if (atRest == null) {
          keys.close();
        }
        throw e;
      }
    }

    /**
     * How values are kept at rest: sealed with a keyring's data keys ({@link AtRest#sealedWith}) or
     * plain ({@link AtRest#plain}). By default, {@link AtRest#beside}: the keyring in the folder
     * {@code keys} beside the file ({@code .cfn/keys}) or from {@code CFN_MASTER_KEY}, plain when
     * there is none. Sealed values are not in the full-text index: {@link SqliteMemoryStore#search}
     * then finds entries by their key and tags only.
     */
    public Builder atRest(AtRest atRest) {
      this.atRest = Objects.requireNonNull(atRest, "atRest");
      return this;
    }
  }
}
