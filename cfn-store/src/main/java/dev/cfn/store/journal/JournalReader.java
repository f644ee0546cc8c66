package dev.cfn.store.journal;

import dev.cfn.core.AgentId;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.sqlite.SqliteErrors;
import dev.cfn.store.sqlite.SqliteLibrary;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;

/**
 * A read-only look at a journal file, safe beside the runtime that owns it: opened with {@link
 * SqliteJournal#openReadOnly(Path)} by tools such as {@code cfn dlq list} and {@code cfn store
 * quarantine list}.
 *
 * <p>It does not take the journal's lock and never writes the database file: its one connection is
 * opened {@code SQLITE_OPEN_READONLY} (see {@code StoreFile}; SQLite may create the {@code -wal}
 * and {@code -shm} files beside a WAL database, as for any reader). Each call runs in a read
 * transaction of its own, so it sees one committed state of the journal, the latest at the time of
 * the call, and never blocks the owner's writer (WAL). Records are verified against their checksums
 * as {@link SqliteJournal} verifies them; payloads whose class is not built in come back as {@link
 * RawPayload}s (nothing is registered with a reader, and a file never makes it load a class).
 * Thread-safe (one lock); close it when done.
 */
public final class JournalReader implements AutoCloseable {
  private final Path file;
  private final MessageCodec codec;
  private final Object lock = new Object();
  private Connection connection; // guarded by lock; null once closed

  private final AtRest atRest;
  private final boolean ownsAtRest;

  private JournalReader(Path file, Connection connection, AtRest atRest, boolean ownsAtRest) {
    this.file = file;
    this.connection = connection;
    this.atRest = atRest;
    this.ownsAtRest = ownsAtRest;
    com.fasterxml.jackson.databind.ObjectMapper mapper = PayloadCodec.newMapper();
    this.codec = new MessageCodec(mapper, new PayloadCodec(mapper, Set.of()), atRest);
  }

  /**
   * See {@link SqliteJournal#openReadOnly(Path)}; payloads are opened with {@code atRest}, or with
   * the keyring beside the file ({@link AtRest#beside}) when it is null.
   */
  static JournalReader open(Path database, AtRest given) {
    Path file = Backups.normalize(Objects.requireNonNull(database, "database"));
    StoreFile.requireFile(file, "journal");
    Connection c = null;
    AtRest keys = null;
    try {
      keys = given != null ? given : AtRest.beside(file, "journal");
      c = StoreFile.openReadOnly(file);
      Optional<String> problem = StoreFile.schemaProblem(c, file);
      if (problem.isPresent()) {
        throw new JournalException("cannot read " + file + ": " + problem.get());
      }
      keys.checkFile(c, file, false);
      JournalReader reader = new JournalReader(file, c, keys, given == null);
      c = null;
      keys = null;
      return reader;
    } catch (SQLException e) {
      throw new JournalException(
          "cannot open " + file + " to read it: " + SqliteErrors.describe(e, file), e);
    } finally {
      if (keys != null && given == null) {
        keys.close();
      }
      if (c != null) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // already failing
        }
      }
    }
  }

  /** The journal file read. */
  public Path file() {
    return file;
  }

  /** The committed value of {@code key} in {@code namespace}'s state (an agent id as text). */
  public Optional<String> state(String namespace, String key) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    return read(
        "state " + namespace + " " + key,
        c ->
            SqliteJournal.select(
                    c, Table.STATE, "WHERE namespace = ? AND key = ?", List.of(namespace, key))
                .stream()
                .findFirst()
                .map(row -> (String) row[2]));
  }

  /** The committed value of {@code key} in {@code agent}'s state. */
  public Optional<String> state(AgentId agent, String key) {
    return state(agent.toString(), key);
  }

  /**
   * At most {@code limit} committed entries of {@code namespace} whose keys start with {@code
   * prefix}, smallest keys first, as {@link Journal#stateByPrefix} defines.
   */
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(prefix, "prefix");
    Journal.checkPrefixLimit(limit);
    return read(
        "state of " + namespace, c -> SqliteJournal.selectByPrefix(c, namespace, prefix, limit));
  }

  /** {@link #stateByPrefix(String, String, int)} in {@code agent}'s namespace. */
  public SortedMap<String, String> stateByPrefix(AgentId agent, String prefix, int limit) {
    return stateByPrefix(agent.toString(), prefix, limit);
  }

  /** Messages appended and neither acknowledged, dead-lettered nor quarantined. */
  public long pendingCount() {
    return read(
        "the pending messages",
        c -> {
          try (Statement sql = c.createStatement();
              ResultSet rows = sql.executeQuery("SELECT count(*) FROM messages")) {
            return rows.next() ? rows.getLong(1) : 0L;
          }
        });
  }

  /** Every dead letter, oldest id first, with its attempt history. */
  public List<DeadLetterRecord> deadLetters() {
    return read("the dead letters", c -> DeadLetterQueue.read(c, codec, null));
  }

  /** Dead letter {@code id}, if there is one. */
  public Optional<DeadLetterRecord> deadLetter(long id) {
    return read("dead letter " + id, c -> DeadLetterQueue.read(c, codec, id)).stream().findFirst();
  }

  /** Every quarantined record, by id (see {@link JournalQuarantine}). */
  public List<QuarantinedRecord> quarantined() {
    return read("the quarantine", c -> JournalQuarantine.read(c, null));
  }

  /** Quarantined record {@code id}, if there is one. */
  public Optional<QuarantinedRecord> quarantined(long id) {
    return read("quarantined record " + id, c -> JournalQuarantine.read(c, id)).stream()
        .findFirst();
  }

  /** Like {@link SqliteJournal#check()}: integrity check and every record's checksum. */
  public StoreCheck check() {
    return read("the journal for a check", c -> StoreFile.check(c, file));
  }

  /** Closes the connection; later calls throw {@link JournalException}. */
  @Override
  public void close() {
    synchronized (lock) {
      if (connection == null) {
        return;
      }
      try {
        connection.close();
      } catch (SQLException e) {
        // nothing was written through it; the OS releases what is left
      }
      connection = null;
      if (ownsAtRest) {
        atRest.close();
      }
    }
  }

  private <T> T read(String what, SqliteJournal.Read<T> body) {
    synchronized (lock) {
      if (connection == null) {
        throw new JournalException(
            "cannot read " + what + ": the reader of " + file + " is closed; open it again");
      }
      try (Statement sql = connection.createStatement()) {
        sql.execute("BEGIN");
        try {
          return body.apply(connection);
        } finally {
          SqliteLibrary.endRead(sql);
        }
      } catch (SQLException e) {
        throw SqliteErrors.read(e, file, what);
      }
    }
  }
}
