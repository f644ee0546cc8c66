package dev.cfn.store.journal;

import static dev.cfn.store.journal.MessageCodec.number;

import dev.cfn.core.Envelope;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write operations of the journal, each run by the writer thread inside a batch transaction
 * (see {@link JournalWriter}). Whatever needs the caller's context (encoding payloads, checking the
 * allow-list) is done before an operation is queued, so a refused write never reaches the file.
 */
final class Writes {
  private static final Logger log = LoggerFactory.getLogger(Writes.class);

  /** The {@code meta} key of the highest id ever deleted from messages, acked or dead_letters. */
  static final String RETIRED_HIGH_ID = "retired_high_id";

  /** The longest error text kept per attempt; longer ones are cut. */
  static final int MAX_ERROR_CHARS = 8_192;

  private Writes() {}

  /** Stores a new pending message. */
  static final class Append extends WriteOp<Void> {
    private final Object[] row;
    private final long checksum; // computed on the caller's thread, not the writer's
    private final Runnable onCommit; // null: nothing to do

    Append(Object[] content) {
      this(content, null);
    }

    /** An append that runs {@code onCommit} on the writer thread once its batch committed. */
    Append(Object[] content, Runnable onCommit) {
      this.row = MessageCodec.pending(content, 0, null);
      this.checksum = Table.MESSAGES.checksum(row);
      this.onCommit = onCommit;
    }

    @Override
    void afterCommit(Void value) {
      if (onCommit != null) {
        onCommit.run();
      }
    }

    @Override
    Void apply(WriteConnection c, Instant now) throws SQLException {
      insert(c, Table.MESSAGES, "", row);
      return null;
    }

    @Override
    String notDone() {
      return "message " + row[Table.Columns.ID] + " was not stored";
    }

    /**
     * Stores {@code appends} with as few statements as possible: multi-row INSERTs of up to {@link
     * #ROWS_PER_INSERT} rows (one JDBC call per row costs several times SQLite's own work). Each op
     * is marked done; on an exception none is, and the caller falls back to one by one.
     */
    static void applyAll(WriteConnection c, List<Append> appends) throws SQLException {
      int i = 0;
      while (i < appends.size()) {
        int n = rowsPerStatement(appends.size() - i);
        PreparedStatement statement = c.prepare("append", n, Table.MESSAGES::insertRows);
        for (int r = 0; r < n; r++) {
          Append a = appends.get(i + r);
          Table.MESSAGES.bindRow(statement, r, a.row, a.checksum);
        }
        statement.executeUpdate();
        i += n;
      }
      for (Append a : appends) {
        a.markDone(null);
      }
    }
  }

  /**
   * Stores a new pending message with its producer's idempotency key, unless the key is already
   * stored and younger than the retention period: then nothing is stored and the result is the id
   * of the message first stored under the key. Not batched with the plain appends, so two appends
   * of one key in one batch run in order and the second sees the first.
   */
  static final class KeyedAppend extends WriteOp<Long> {
    private final Object[] row;
    private final String key;
    private final Duration retention;

    KeyedAppend(Object[] content, String key, Duration retention) {
      this.row = MessageCodec.pending(content, 0, null);
      this.key = key;
      this.retention = retention;
    }

    @Override
    Long apply(WriteConnection c, Instant now) throws SQLException {
      long id = number(row[Table.Columns.ID]);
      Object[] first = selectOne(c, Table.IDEMPOTENCY, "key = ?", key);
      long cutoff = now.minus(retention).toEpochMilli();
      if (first != null && number(first[2]) >= cutoff) {
        return number(first[1]);
      }
      insert(
          c,
          Table.IDEMPOTENCY,
          " ON CONFLICT(key) DO UPDATE SET message_id = excluded.message_id,"
              + " created_at = excluded.created_at, crc = excluded.crc",
          key,
          id,
          now.toEpochMilli());
      insert(c, Table.MESSAGES, "", row);
      return id;
    }

    @Override
    String notDone() {
      return "message " + row[Table.Columns.ID] + " and its idempotency key were not stored";
    }
  }

  /** Rows per multi-row INSERT (19 values a row, well under SQLite's variable limit). */
  static final int ROWS_PER_INSERT = 256;

  /**
   * Up to this many rows, a multi-row statement has exactly as many rows as are left (one statement
   * shape per count, all cached); above it, shapes are powers of two, so the cached shapes stay
   * few. The small batches of a lightly loaded journal (a few appends and acknowledgements per
   * commit) so take one statement per table where powers of two took up to five (15 rows: 8 + 4 + 2
   * + 1), and a JDBC call costs more than SQLite's own work for a row.
   */
  static final int EXACT_ROWS = 16;

  /** Rows for the next multi-row statement when {@code remaining} rows are left to write. */
  static int rowsPerStatement(int remaining) {
    if (remaining >= ROWS_PER_INSERT) {
      return ROWS_PER_INSERT;
    }
    return remaining <= EXACT_ROWS ? remaining : Integer.highestOneBit(remaining);
  }

  /** A change an acknowledgement applies, prepared on the caller's thread. */
  sealed interface Change {
    /** Upserts a state key. */
    record Put(String namespace, String key, String value) implements Change {}

    /** Removes a state key. */
    record Delete(String namespace, String key) implements Change {}

    /**
     * Journals an outgoing message: its pending {@link Table#MESSAGES} row and the row's checksum,
     * both computed on the caller's thread ({@link #of}), not the writer's.
     */
    record Send(Object[] row, long checksum) implements Change {
      /** The send of a message whose encoded content is {@code content}. */
      static Send of(Object[] content) {
        Object[] row = MessageCodec.pending(content, 0, null);
        return new Send(row, Table.MESSAGES.checksum(row));
      }
    }

    /** Adds to a counter (a decimal long; absent is 0). */
    record Increment(String namespace, String key, long delta) implements Change {}

    /** Sets a key only if it holds {@code expected} (null: absent). */
    record CompareAndSet(String namespace, String key, String expected, String value)
        implements Change {}

    /** Stores a call's result under its key, unless the key has one already. */
    record RecordCall(String key, String result) implements Change {}
  }

  /** Acknowledges a message and applies its changes, unless it was acknowledged before. */
  static final class Acknowledge extends WriteOp<Boolean> {
    private final long id;
    // Messages acknowledged together with this one (before it), all or nothing; usually none.
    private final long[] together;
    private final List<Change> changes;
    private final StateCache cache; // null: nothing to publish to
    private final List<StateCache.Write> written = new java.util.ArrayList<>(0);
    private final boolean outboxOnly; // no state change: only sends and call records
    // Its messages were delivered while their appends were queued (SqliteJournal.appendQueued):
    // each must be pending, else its append failed and this acknowledgement is refused.
    private final boolean mustBePending;

    Acknowledge(long id, List<Change> changes, StateCache cache) {
      this(new long[0], id, changes, cache, false);
    }

    /**
     * Acknowledges {@code together} and then {@code id} in this one operation, applying {@code
     * changes} (stamped with {@code id}); fails as a whole when any of them was acknowledged
     * before.
     */
    Acknowledge(
        long[] together, long id, List<Change> changes, StateCache cache, boolean mustBePending) {
      this.mustBePending = mustBePending;
      this.id = id;
      this.together = together;
      this.changes = changes;
      this.cache = cache;
      boolean onlyOutbox = together.length == 0;
      for (Change change : changes) {
        onlyOutbox &= change instanceof Change.Send || change instanceof Change.RecordCall;
      }
      this.outboxOnly = onlyOutbox;
    }

    @Override
    Boolean apply(WriteConnection c, Instant now) throws SQLException {
      written.clear(); // a batch redone one operation at a time runs this again
      for (long other : together) {
        if (insert(c, Table.ACKED, " ON CONFLICT(id) DO NOTHING", other, now.toEpochMilli()) == 0) {
          throw refused("message " + other + " of them was acknowledged before");
        }
        if (update(c, "DELETE FROM messages WHERE id = ?", other) == 0 && mustBePending) {
          throw neverStored(other);
        }
        update(c, "DELETE FROM attempts WHERE message_id = ?", other);
        c.attempted().remove(other);
      }
      if (insert(c, Table.ACKED, " ON CONFLICT(id) DO NOTHING", id, now.toEpochMilli()) == 0) {
        if (together.length > 0) {
          throw refused("message " + id + " of them was acknowledged before");
        }
        return false;
      }
      if (update(c, "DELETE FROM messages WHERE id = ?", id) == 0 && mustBePending) {
        throw neverStored(id);
      }
      // As in applyAll: a message that never failed has no attempt rows to delete. (A rollback
      // makes the writer reload the set, so an id removed here by a rolled-back run is back.)
      if (c.attempted().remove(id)) {
        update(c, "DELETE FROM attempts WHERE message_id = ?", id);
      }
      for (Change change : changes) {
        switch (change) {
          case Change.Put put -> putState(c, put.namespace(), put.key(), put.value());
          case Change.Delete delete -> {
            update(
                c,
                "DELETE FROM state WHERE namespace = ? AND key = ?",
                delete.namespace(),
                delete.key());
            written.add(new StateCache.Write(delete.namespace(), delete.key(), null));
          }
          case Change.Send send -> insert(c, Table.MESSAGES, "", send.row());
          case Change.Increment inc -> {
            String current = stateValue(c, inc.namespace(), inc.key());
            long base;
            try {
              base = current == null ? 0 : Long.parseLong(current);
            } catch (NumberFormatException e) {
              throw refused(
                  "state key '"
                      + inc.key()
                      + "' of "
                      + inc.namespace()
                      + " holds text that is not a whole number, so it cannot be incremented");
            }
            long next;
            try {
              next = Math.addExact(base, inc.delta());
            } catch (ArithmeticException e) {
              throw refused(
                  "incrementing state key '"
                      + inc.key()
                      + "' of "
                      + inc.namespace()
                      + " by "
                      + inc.delta()
                      + " overflows a long");
            }
            putState(c, inc.namespace(), inc.key(), Long.toString(next));
          }
          case Change.CompareAndSet cas -> {
            String current = stateValue(c, cas.namespace(), cas.key());
            if (!java.util.Objects.equals(current, cas.expected())) {
              throw refused(
                  "compare-and-set of state key '"
                      + cas.key()
                      + "' of "
                      + cas.namespace()
                      + " found another value than the handler expected (it changed since the"
                      + " handler read it); the message is handled again and sees the new value");
            }
            putState(c, cas.namespace(), cas.key(), cas.value());
          }
          case Change.RecordCall call ->
              insert(
                  c,
                  Table.CALLS,
                  " ON CONFLICT(key) DO NOTHING",
                  call.key(),
                  call.result(),
                  now.toEpochMilli());
        }
      }
      return true;
    }

    private void putState(WriteConnection c, String namespace, String key, String value)
        throws SQLException {
      insert(
          c,
          Table.STATE,
          " ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value,"
              + " message_id = excluded.message_id, crc = excluded.crc",
          namespace,
          key,
          value,
          id);
      written.add(new StateCache.Write(namespace, key, value));
    }

    private static String stateValue(WriteConnection c, String namespace, String key)
        throws SQLException {
      Object[] row = selectOne(c, Table.STATE, "namespace = ? AND key = ?", namespace, key);
      return row == null ? null : (String) row[2];
    }

    private dev.cfn.core.spi.JournalException refused(String why) {
      return new dev.cfn.core.spi.JournalException(notDone() + ": " + why);
    }

    private dev.cfn.core.spi.JournalException neverStored(long message) {
      return refused(
          "message "
              + message
              + " is not pending: its append failed, so it was never stored and its sender was"
              + " told so");
    }

    /** The commit may have reached the file after all: forget what may now be stale. */
    @Override
    void afterBatchFailed() {
      if (cache != null) {
        cache.clear();
      }
    }

    @Override
    void afterCommit(Boolean applied) {
      if (cache != null && Boolean.TRUE.equals(applied) && !written.isEmpty()) {
        cache.publish(written);
      }
    }

    @Override
    String notDone() {
      if (together.length > 0) {
        return (together.length + 1)
            + " messages acknowledged together (the last "
            + id
            + ") were not acknowledged and stay pending; none of their effects were applied";
      }
      return "message "
          + id
          + " was not acknowledged and stays pending; none of its effects"
          + " were applied";
    }

    /**
     * True when this acknowledgement changes no state and acknowledges one message: it has no
     * effects, or only sends (the outbox, such as the reply to a request) and call records, so it
     * can join the batched statements of {@link #applyAll}.
     */
    boolean plain() {
      return outboxOnly;
    }

    /**
     * Acknowledges {@code acks} (all {@link #plain()}) in a few statements per chunk: one multi-row
     * insert into {@code acked} that returns the ids it added (the others were already
     * acknowledged: their result is false, and their sends and records are not applied), one delete
     * each from {@code messages} and {@code attempts} for those ids, then one multi-row insert of
     * the new ones' outgoing messages and one of their call records (in the order of {@code acks},
     * so the first record of a key wins).
     */
    static void applyAll(WriteConnection c, List<Acknowledge> acks, Instant now)
        throws SQLException {
      long at = now.toEpochMilli();
      int i = 0;
      while (i < acks.size()) {
        int n = rowsPerStatement(acks.size() - i);
        PreparedStatement insert =
            c.prepare(
                "acknowledge",
                n,
                rows -> Table.ACKED.insertRows(rows) + " ON CONFLICT(id) DO NOTHING RETURNING id");
        for (int r = 0; r < n; r++) {
          Table.ACKED.bindRow(insert, r, new Object[] {acks.get(i + r).id, at});
        }
        java.util.Set<Long> added = new java.util.HashSet<>();
        try (java.sql.ResultSet rows = insert.executeQuery()) {
          while (rows.next()) {
            added.add(rows.getLong(1));
          }
        }
        if (!added.isEmpty()) {
          boolean check = false;
          for (int r = 0; r < n; r++) {
            check |= acks.get(i + r).mustBePending;
          }
          if (check) {
            // Some were delivered while their appends were queued: each must have been pending,
            // else its append failed; then the batch is redone one operation at a time, where
            // that acknowledgement alone is refused.
            java.util.Set<Long> deleted =
                deleteIdsReturning(c, "DELETE FROM messages WHERE id IN ", added);
            for (int r = 0; r < n; r++) {
              Acknowledge a = acks.get(i + r);
              if (a.mustBePending && added.contains(a.id) && !deleted.contains(a.id)) {
                throw a.neverStored(a.id);
              }
            }
          } else {
            deleteIds(c, "DELETE FROM messages WHERE id IN ", added);
          }
          java.util.Set<Long> attempted = c.attempted();
          if (!attempted.isEmpty()) {
            java.util.Set<Long> failed = new java.util.HashSet<>();
            for (long id : added) {
              if (attempted.contains(id)) {
                failed.add(id);
              }
            }
            if (!failed.isEmpty()) {
              deleteIds(c, "DELETE FROM attempts WHERE message_id IN ", failed);
              // if this transaction rolls back, the one-by-one redo deletes unconditionally, and
              // a failed commit reopens the connection, which reloads the set
              attempted.removeAll(failed);
            }
          }
        }
        List<Change.Send> sends = new java.util.ArrayList<>();
        List<Object[]> calls = new java.util.ArrayList<>();
        for (int r = 0; r < n; r++) {
          Acknowledge a = acks.get(i + r);
          boolean applied = added.remove(a.id); // the same id twice in a chunk: the first is new
          a.markDone(applied);
          if (applied) {
            for (Change change : a.changes) {
              switch (change) {
                case Change.Send send -> sends.add(send);
                case Change.RecordCall call ->
                    calls.add(new Object[] {call.key(), call.result(), at});
                default -> throw new IllegalStateException("not an outbox change: " + change);
              }
            }
          }
        }
        insertSends(c, sends);
        insertAll(c, "calls", Table.CALLS, " ON CONFLICT(key) DO NOTHING", calls);
        i += n;
      }
    }

    /** Inserts {@code rows} into {@code table} in multi-row statements of a few cached shapes. */
    private static void insertAll(
        WriteConnection c, String family, Table table, String conflict, List<Object[]> rows)
        throws SQLException {
      int i = 0;
      while (i < rows.size()) {
        int n = rowsPerStatement(rows.size() - i);
        PreparedStatement statement =
            c.prepare(family, n, count -> table.insertRows(count) + conflict);
        for (int r = 0; r < n; r++) {
          table.bindRow(statement, r, rows.get(i + r));
        }
        statement.executeUpdate();
        i += n;
      }
    }

    /** Inserts the outbox's rows with their precomputed checksums, as {@link #insertAll} does. */
    private static void insertSends(WriteConnection c, List<Change.Send> sends)
        throws SQLException {
      int i = 0;
      while (i < sends.size()) {
        int n = rowsPerStatement(sends.size() - i);
        PreparedStatement statement = c.prepare("outbox", n, Table.MESSAGES::insertRows);
        for (int r = 0; r < n; r++) {
          Change.Send send = sends.get(i + r);
          Table.MESSAGES.bindRow(statement, r, send.row(), send.checksum());
        }
        statement.executeUpdate();
        i += n;
      }
    }

    /** {@link #deleteIds} that returns the ids it deleted. */
    private static java.util.Set<Long> deleteIdsReturning(
        WriteConnection c, String sql, java.util.Set<Long> ids) throws SQLException {
      int size = Integer.highestOneBit(ids.size());
      if (size < ids.size()) {
        size <<= 1;
      }
      String returning = sql + "RETURNING";
      PreparedStatement statement =
          c.prepare(returning, size, n -> sql + "(" + "?,".repeat(n - 1) + "?) RETURNING id");
      int p = 1;
      long first = ids.iterator().next();
      for (long id : ids) {
        statement.setLong(p++, id);
      }
      while (p <= size) {
        statement.setLong(p++, first);
      }
      java.util.Set<Long> deleted = new java.util.HashSet<>();
      try (java.sql.ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          deleted.add(rows.getLong(1));
        }
      }
      return deleted;
    }

    private static void deleteIds(WriteConnection c, String sql, java.util.Set<Long> ids)
        throws SQLException {
      // One statement shape per power-of-two size, padded with the first id (deleting twice is
      // harmless), so that the prepared statements stay few and cached.
      int size = Integer.highestOneBit(ids.size());
      if (size < ids.size()) {
        size <<= 1;
      }
      PreparedStatement statement =
          c.prepare(sql, size, n -> sql + "(" + "?,".repeat(n - 1) + "?)");
      int p = 1;
      long first = ids.iterator().next();
      for (long id : ids) {
        statement.setLong(p++, id);
      }
      while (p <= size) {
        statement.setLong(p++, first);
      }
      statement.executeUpdate();
    }
  }

  /** Records a failed attempt of a pending message. */
  static final class RecordFailure extends WriteOp<Void> {
    private final long id;
    private final int attempt;
    private final String error;

    RecordFailure(long id, int attempt, String error) {
      this.id = id;
      this.attempt = attempt;
      this.error = cut(error);
    }

    @Override
    Void apply(WriteConnection c, Instant now) throws SQLException {
      Object[] row = selectOne(c, Table.MESSAGES, "id = ?", id);
      if (row == null) {
        log.debug("failure of message {} not recorded: it is no longer pending", id);
        return null;
      }
      Object[] updated = MessageCodec.pending(row, attempt, error);
      update(
          c,
          "UPDATE messages SET attempts = ?, last_error = ?, crc = ? WHERE id = ?",
          (long) attempt,
          error,
          Table.MESSAGES.checksum(updated),
          id);
      insert(
          c,
          Table.ATTEMPTS,
          " ON CONFLICT(message_id, attempt) DO UPDATE SET at = excluded.at,"
              + " error = excluded.error, crc = excluded.crc",
          id,
          (long) attempt,
          now.toEpochMilli(),
          error);
      c.attempted().add(id);
      return null;
    }

    @Override
    String notDone() {
      return "attempt " + attempt + " of message " + id + " was not recorded";
    }
  }

  /** Moves a message to the dead letters, keeping its attempt history. */
  static final class DeadLetter extends WriteOp<Void> {
    private final Envelope message;
    private final MessageCodec codec;
    private final int attempts;
    private final String cause;

    DeadLetter(Envelope message, MessageCodec codec, int attempts, String cause) {
      this.message = message;
      this.codec = codec;
      this.attempts = attempts;
      this.cause = cut(cause);
    }

    @Override
    Void apply(WriteConnection c, Instant now) throws SQLException {
      long id = message.id();
      if (exists(c, "SELECT 1 FROM dead_letters WHERE id = ?", id)) {
        return null;
      }
      Object[] row = selectOne(c, Table.MESSAGES, "id = ?", id);
      if (row == null) {
        if (exists(c, "SELECT 1 FROM acked WHERE id = ?", id)) {
          log.warn("message {} was already acknowledged; not dead-lettering it", id);
          return null;
        }
        row = codec.content(message); // never journaled: store it as given
      }
      insert(
          c,
          Table.DEAD_LETTERS,
          "",
          MessageCodec.deadLetter(row, attempts, cause, now.toEpochMilli()));
      update(c, "DELETE FROM messages WHERE id = ?", id);
      return null;
    }

    @Override
    String notDone() {
      return "message " + message.id() + " was not dead-lettered";
    }
  }

  /** Moves a dead letter back to the pending messages with its attempts reset. */
  static final class Replay extends WriteOp<Optional<Envelope>> {
    private final long id;
    private final MessageCodec codec;

    Replay(long id, MessageCodec codec) {
      this.id = id;
      this.codec = codec;
    }

    @Override
    Optional<Envelope> apply(WriteConnection c, Instant now) throws SQLException {
      Object[] row = selectOne(c, Table.DEAD_LETTERS, "id = ?", id);
      if (row == null) {
        return Optional.empty();
      }
      Object[] pending = MessageCodec.pending(row, 0, null);
      insert(c, Table.MESSAGES, "", pending);
      update(c, "DELETE FROM dead_letters WHERE id = ?", id);
      update(c, "DELETE FROM attempts WHERE message_id = ?", id);
      return Optional.of(codec.envelope(Table.MESSAGES, pending, true));
    }

    @Override
    String notDone() {
      return "dead letter " + id + " was not replayed";
    }
  }

  /** Deletes one dead letter (or all of them, for a null id) and its attempt history. */
  static final class RemoveDeadLetters extends WriteOp<Integer> {
    private final Long id;

    RemoveDeadLetters(Long id) {
      this.id = id;
    }

    @Override
    Integer apply(WriteConnection c, Instant now) throws SQLException {
      String where = id == null ? "" : " WHERE id = ?";
      Object[] args = id == null ? new Object[0] : new Object[] {id};
      Long highest = queryLong(c, "SELECT max(id) FROM dead_letters" + where, args);
      if (highest == null) {
        return 0;
      }
      retire(c, highest);
      update(
          c,
          "DELETE FROM attempts WHERE message_id IN (SELECT id FROM dead_letters" + where + ")",
          args);
      return update(c, "DELETE FROM dead_letters" + where, args);
    }

    @Override
    String notDone() {
      return id == null ? "no dead letter was removed" : "dead letter " + id + " was not removed";
    }
  }

  /**
   * Moves the pending record {@code id}, found damaged by recovery, to the quarantine table as it
   * is stored (unverified), and deletes it and its attempt history from the pending messages.
   * Yields false, changing nothing, when the record is gone or now passes its checksum.
   */
  static final class Quarantine extends WriteOp<Boolean> {
    private final long id;

    Quarantine(long id) {
      this.id = id;
    }

    @Override
    Boolean apply(WriteConnection c, Instant now) throws SQLException {
      PreparedStatement statement = c.prepare(Table.MESSAGES.select() + " WHERE id = ?");
      statement.setLong(1, id);
      Object[] found;
      Object storedCrc;
      try (ResultSet rows = statement.executeQuery()) {
        if (!rows.next()) {
          return false;
        }
        found = Table.MESSAGES.values(rows);
        storedCrc = rows.getObject(Table.MESSAGES.columnCount() + 1);
      }
      Optional<String> problem = Table.MESSAGES.problem(found, storedCrc);
      if (problem.isEmpty()) {
        return false;
      }
      Object[] row = java.util.Arrays.copyOf(found, Table.QUARANTINE.columnCount());
      for (int i = 0; i < found.length; i++) {
        row[i] = storable(found[i]);
      }
      row[Table.Columns.STORED_CRC] = storable(storedCrc);
      row[Table.Columns.SOURCE] = Table.MESSAGES.sqlName();
      row[Table.Columns.PROBLEM] = problem.get();
      row[Table.Columns.QUARANTINED_AT] = now.toEpochMilli();
      insert(c, Table.QUARANTINE, " ON CONFLICT(id) DO NOTHING", row);
      update(c, "DELETE FROM messages WHERE id = ?", id);
      update(c, "DELETE FROM attempts WHERE message_id = ?", id);
      c.attempted().remove(id);
      return true;
    }

    /** A value the checksum can cover: a damaged column may come back as a REAL. */
    private static Object storable(Object value) {
      return switch (value) {
        case null -> null;
        case Long l -> l;
        case Integer i -> (long) i;
        case String s -> s;
        case byte[] b -> b;
        default -> String.valueOf(value);
      };
    }

    @Override
    String notDone() {
      return "damaged message " + id + " was not moved to the quarantine";
    }
  }

  /** Deletes quarantined record {@code id}, remembering its id as used. */
  static final class RemoveQuarantined extends WriteOp<Boolean> {
    private final long id;

    RemoveQuarantined(long id) {
      this.id = id;
    }

    @Override
    Boolean apply(WriteConnection c, Instant now) throws SQLException {
      if (!exists(c, "SELECT 1 FROM quarantine WHERE id = ?", id)) {
        return false;
      }
      retire(c, id);
      update(c, "DELETE FROM quarantine WHERE id = ?", id);
      return true;
    }

    @Override
    String notDone() {
      return "quarantined record " + id + " was not purged";
    }
  }

  /**
   * Forgets acknowledged ids, idempotency keys and call records older than the retention period.
   */
  static final class Sweep extends WriteOp<Integer> {
    private final Duration retention;

    Sweep(Duration retention) {
      this.retention = retention;
    }

    @Override
    Integer apply(WriteConnection c, Instant now) throws SQLException {
      long cutoff = now.minus(retention).toEpochMilli();
      int keys = update(c, "DELETE FROM idempotency WHERE created_at < ?", cutoff);
      if (keys > 0) {
        log.debug("forgot {} idempotency keys older than {}", keys, retention);
      }
      int calls = update(c, "DELETE FROM calls WHERE recorded_at < ?", cutoff);
      if (calls > 0) {
        log.debug("forgot {} call records older than {}", calls, retention);
      }
      Long highest = queryLong(c, "SELECT max(id) FROM acked WHERE acked_at < ?", cutoff);
      if (highest == null) {
        return 0;
      }
      retire(c, highest);
      int removed = update(c, "DELETE FROM acked WHERE acked_at < ?", cutoff);
      log.debug("forgot {} acknowledged ids older than {}", removed, retention);
      return removed;
    }

    @Override
    String notDone() {
      return "old acknowledged ids were not swept";
    }
  }

  /**
   * Remembers {@code id} as removed, so that {@code highestId()} never goes down when rows are
   * deleted and new ids cannot collide with ids stored in state rows or logs.
   */
  static void retire(WriteConnection c, long id) throws SQLException {
    Object[] row = selectOne(c, Table.META, "key = ?", RETIRED_HIGH_ID);
    if (row != null && number(row[1]) >= id) {
      return;
    }
    insert(
        c,
        Table.META,
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value, crc = excluded.crc",
        RETIRED_HIGH_ID,
        id);
  }

  static int insert(WriteConnection c, Table table, String conflict, Object... values)
      throws SQLException {
    PreparedStatement statement = c.prepare(table.insert() + conflict);
    table.bind(statement, values);
    return statement.executeUpdate();
  }

  static int update(WriteConnection c, String sql, Object... args) throws SQLException {
    PreparedStatement statement = c.prepare(sql);
    bindArgs(statement, args);
    return statement.executeUpdate();
  }

  /** The verified row of {@code table} matching {@code where}, or null. */
  static Object[] selectOne(WriteConnection c, Table table, String where, Object... args)
      throws SQLException {
    PreparedStatement statement = c.prepare(table.select() + " WHERE " + where);
    bindArgs(statement, args);
    try (ResultSet rows = statement.executeQuery()) {
      return rows.next() ? table.read(rows) : null;
    }
  }

  private static boolean exists(WriteConnection c, String sql, Object... args) throws SQLException {
    PreparedStatement statement = c.prepare(sql);
    bindArgs(statement, args);
    try (ResultSet rows = statement.executeQuery()) {
      return rows.next();
    }
  }

  private static Long queryLong(WriteConnection c, String sql, Object... args) throws SQLException {
    PreparedStatement statement = c.prepare(sql);
    bindArgs(statement, args);
    try (ResultSet rows = statement.executeQuery()) {
      if (!rows.next()) {
        return null;
      }
      long value = rows.getLong(1);
      return rows.wasNull() ? null : value;
    }
  }

  private static void bindArgs(PreparedStatement statement, Object[] args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      statement.setObject(i + 1, args[i]);
    }
  }

  static String cut(String text) {
    if (text == null) {
      return "(no message)";
    }
    return text.length() <= MAX_ERROR_CHARS
        ? text
        : text.substring(0, MAX_ERROR_CHARS) + "... (" + text.length() + " characters)";
  }
}
