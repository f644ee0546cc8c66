package dev.cfn.cluster.pg;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.EnvelopeRecords;
import dev.cfn.store.journal.StateCache;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write operations of {@link PgJournal}, each run by the {@link PgWriter} inside a batch
 * transaction. Whatever needs the caller's context (encoding and sealing payloads, checksums) is
 * done before an operation is queued, so a refused write never reaches the database. They mirror
 * cfn-store's {@code Writes} for SQLite, statement for statement where PostgreSQL allows it.
 */
final class PgWrites {
  private static final Logger log = LoggerFactory.getLogger(PgWrites.class);

  /** The {@code cfn_meta} key of the highest id ever deleted from the journal's tables. */
  static final String RETIRED_HIGH_ID = "retired_high_id";

  /** The longest error text kept per attempt; longer ones are cut. */
  static final int MAX_ERROR_CHARS = 8_192;

  static final int CONTENT = EnvelopeRecords.COLUMNS.size();
  static final String CONTENT_COLUMNS = String.join(", ", EnvelopeRecords.COLUMNS);
  private static final String CONTENT_PARAMS = "?, ".repeat(CONTENT);
  static final String INSERT_MESSAGE =
      "INSERT INTO cfn_messages ("
          + CONTENT_COLUMNS
          + ", crc, part, attempts) VALUES ("
          + CONTENT_PARAMS
          + "?, ?, 0)";

  static final String INSERT_ANSWER =
      "INSERT INTO cfn_answers ("
          + CONTENT_COLUMNS
          + ", crc, part, answered_at) VALUES ("
          + CONTENT_PARAMS
          + "?, ?, ?) ON CONFLICT (correlation_id) DO NOTHING";

  static final String PUT =
      "INSERT INTO cfn_state (namespace, key, value, message_id) VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
          + " message_id = excluded.message_id";

  static final String INSERT_CALL =
      "INSERT INTO cfn_calls (key, result, recorded_at, crc) VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (key) DO NOTHING";

  private PgWrites() {}

  static void bindPut(PreparedStatement s, String namespace, String key, String value, long id)
      throws SQLException {
    s.setString(1, namespace);
    s.setString(2, key);
    s.setString(3, value);
    s.setLong(4, id);
  }

  static void bindCall(PreparedStatement s, Change.RecordCall call, long at) throws SQLException {
    s.setString(1, call.key());
    s.setString(2, call.result());
    s.setLong(3, at);
    s.setLong(
        4,
        EnvelopeRecords.checksum(
            PgSchema.CALL_CHECKSUM, new Object[] {call.key(), call.result(), at}));
  }

  /** A message record ready to store: content, checksum and partition (null: none). */
  record Row(Object[] content, long crc, Integer part) {
    static Row of(EnvelopeRecords records, Envelope envelope, Integer part) {
      Object[] content = records.encode(envelope);
      return new Row(content, EnvelopeRecords.checksum(PgSchema.MESSAGE_CHECKSUM, content), part);
    }

    long id() {
      return ((Number) content[0]).longValue();
    }
  }

  static void bindContent(PreparedStatement s, Row row) throws SQLException {
    for (int i = 0; i < CONTENT; i++) {
      bind(s, i + 1, row.content()[i]);
    }
    s.setLong(CONTENT + 1, row.crc());
    if (row.part() == null) {
      s.setNull(CONTENT + 2, Types.INTEGER);
    } else {
      s.setInt(CONTENT + 2, row.part());
    }
  }

  static void bind(PreparedStatement s, int index, Object value) throws SQLException {
    switch (value) {
      case null -> s.setNull(index, Types.NULL);
      case Long l -> s.setLong(index, l);
      case Integer i -> s.setInt(index, i);
      case String t -> s.setString(index, t);
      case byte[] b -> s.setBytes(index, b);
      default -> s.setObject(index, value);
    }
  }

  static void insertMessage(Connection c, Row row) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(INSERT_MESSAGE)) {
      bindContent(s, row);
      s.executeUpdate();
    }
  }

  /** Stores a new pending message; fails (nothing stored) when its id is already pending. */
  static final class Append extends PgOp<Void> {
    @Override
    boolean storesMessages() {
      return true;
    }

    private final Row row;

    Append(Row row, Fence fence) {
      super(fence);
      this.row = row;
    }

    @Override
    Void apply(Connection c, Instant now) throws SQLException {
      insertMessage(c, row);
      return null;
    }

    @Override
    String notDone() {
      return "message " + row.id() + " was not stored";
    }

    /**
     * Stores {@code appends} in one pipelined JDBC batch (one round trip); on an exception none is
     * marked done and the writer redoes them one by one.
     */
    static void applyAll(Connection c, List<Append> appends) throws SQLException {
      try (PreparedStatement s = c.prepareStatement(INSERT_MESSAGE)) {
        for (Append a : appends) {
          bindContent(s, a.row);
          s.addBatch();
        }
        s.executeBatch();
      }
      for (Append a : appends) {
        a.markDone(null);
      }
    }
  }

  /**
   * Stores a message with its producer's idempotency key unless the key is stored and younger than
   * the retention: then nothing is stored and the result is the id first stored under the key.
   */
  static final class KeyedAppend extends PgOp<Long> {
    @Override
    boolean storesMessages() {
      return true;
    }

    private final Row row;
    private final String key;
    private final Duration retention;

    KeyedAppend(Row row, String key, Duration retention, Fence fence) {
      super(fence);
      this.row = row;
      this.key = key;
      this.retention = retention;
    }

    @Override
    Long apply(Connection c, Instant now) throws SQLException {
      // Takes the key when it is new or expired (one statement); otherwise the row stays.
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO cfn_idempotency (key, message_id, created_at) VALUES (?, ?, ?)"
                  + " ON CONFLICT (key) DO UPDATE SET message_id = excluded.message_id,"
                  + " created_at = excluded.created_at WHERE cfn_idempotency.created_at < ?"
                  + " RETURNING message_id")) {
        s.setString(1, key);
        s.setLong(2, row.id());
        s.setLong(3, now.toEpochMilli());
        s.setLong(4, now.minus(retention).toEpochMilli());
        try (ResultSet rows = s.executeQuery()) {
          if (rows.next()) {
            insertMessage(c, row);
            return row.id();
          }
        }
      }
      try (PreparedStatement s =
          c.prepareStatement("SELECT message_id FROM cfn_idempotency WHERE key = ?")) {
        s.setString(1, key);
        try (ResultSet rows = s.executeQuery()) {
          rows.next();
          return rows.getLong(1);
        }
      }
    }

    @Override
    String notDone() {
      return "message " + row.id() + " and its idempotency key were not stored";
    }
  }

  /** A change an acknowledgement applies, prepared on the caller's thread. */
  sealed interface Change {
    record Put(String namespace, String key, String value) implements Change {}

    record Delete(String namespace, String key) implements Change {}

    record Send(Row row) implements Change {}

    /** An answer to a request from outside the cluster: kept in {@code cfn_answers}, not sent. */
    record Answer(Row row) implements Change {}

    record Increment(String namespace, String key, long delta) implements Change {}

    record CompareAndSet(String namespace, String key, String expected, String value)
        implements Change {}

    record RecordCall(String key, String result) implements Change {}
  }

  /**
   * Acknowledges {@code together} then {@code id} and applies the changes, unless acknowledged
   * before: false for one message, refused as a whole for several.
   */
  static final class Acknowledge extends PgOp<Boolean> {
    private static final String ACK =
        "WITH a AS (INSERT INTO cfn_acked (id, acked_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING"
            + " RETURNING id),"
            + " m AS (DELETE FROM cfn_messages WHERE id IN (SELECT id FROM a)),"
            + " t AS (DELETE FROM cfn_attempts WHERE message_id IN (SELECT id FROM a))"
            + " SELECT count(*) FROM a";

    private final long[] together;
    private final long id;
    private final List<Change> changes;
    private final StateCache cache; // null: nothing to publish
    private final List<StateCache.Write> written = new ArrayList<>(0);

    @Override
    boolean storesMessages() {
      for (Change change : changes) {
        if (change instanceof Change.Send) {
          return true;
        }
      }
      return false;
    }

    Acknowledge(long[] together, long id, List<Change> changes, StateCache cache, Fence fence) {
      super(fence);
      this.together = together;
      this.id = id;
      this.changes = changes;
      this.cache = cache;
    }

    @Override
    Boolean apply(Connection c, Instant now) throws SQLException {
      written.clear(); // a batch redone one operation at a time runs this again
      for (long other : together) {
        if (!ack(c, other, now)) {
          throw refused("message " + other + " of them was acknowledged before");
        }
      }
      if (!ack(c, id, now)) {
        if (together.length > 0) {
          throw refused("message " + id + " of them was acknowledged before");
        }
        return false;
      }
      for (Change change : changes) {
        switch (change) {
          case Change.Put p -> put(c, p.namespace(), p.key(), p.value());
          case Change.Delete d -> {
            try (PreparedStatement s =
                c.prepareStatement("DELETE FROM cfn_state WHERE namespace = ? AND key = ?")) {
              s.setString(1, d.namespace());
              s.setString(2, d.key());
              s.executeUpdate();
            }
            written.add(new StateCache.Write(d.namespace(), d.key(), null));
          }
          case Change.Send send -> insertMessage(c, send.row());
          case Change.Answer answer -> {
            try (PreparedStatement s = c.prepareStatement(INSERT_ANSWER)) {
              bindContent(s, answer.row());
              s.setLong(CONTENT + 3, now.toEpochMilli());
              s.executeUpdate(); // the first answer to a request wins
            }
          }
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
            put(c, inc.namespace(), inc.key(), Long.toString(next));
          }
          case Change.CompareAndSet cas -> {
            String current = stateValue(c, cas.namespace(), cas.key());
            if (!Objects.equals(current, cas.expected())) {
              throw refused(
                  "compare-and-set of state key '"
                      + cas.key()
                      + "' of "
                      + cas.namespace()
                      + " found another value than the handler expected (it changed since the"
                      + " handler read it); the message is handled again and sees the new value");
            }
            put(c, cas.namespace(), cas.key(), cas.value());
          }
          case Change.RecordCall call -> {
            try (PreparedStatement s = c.prepareStatement(INSERT_CALL)) {
              bindCall(s, call, now.toEpochMilli());
              s.executeUpdate();
            }
          }
        }
      }
      return true;
    }

    /**
     * True when this acknowledgement acknowledges one message and its changes are only puts, sends
     * and call records: it can share the statements of {@link #applyAll}.
     */
    boolean plain() {
      if (together.length > 0) {
        return false;
      }
      for (Change change : changes) {
        if (!(change instanceof Change.Put
            || change instanceof Change.Send
            || change instanceof Change.RecordCall)) {
          return false;
        }
      }
      return true;
    }

    /**
     * Acknowledges {@code acks} (all {@link #plain()}) in a few pipelined statements: one insert of
     * all their ids into {@code cfn_acked} that returns those it added (the others were
     * acknowledged before: false, nothing applied), one delete each from the pending messages and
     * attempts, then one batch each of the new ones' puts, outgoing messages and call records, in
     * the order of {@code acks}, so the last put of a key and the first record of a call win, as
     * one by one.
     */
    static void applyAll(Connection c, List<Acknowledge> acks, Instant now) throws SQLException {
      long at = now.toEpochMilli();
      Long[] ids = new Long[acks.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = acks.get(i).id;
      }
      java.util.Set<Long> added = new java.util.HashSet<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO cfn_acked (id, acked_at) SELECT unnest(?::bigint[]), ?"
                  + " ON CONFLICT (id) DO NOTHING RETURNING id")) {
        s.setArray(1, c.createArrayOf("bigint", ids));
        s.setLong(2, at);
        try (ResultSet rows = s.executeQuery()) {
          while (rows.next()) {
            added.add(rows.getLong(1));
          }
        }
      }
      if (!added.isEmpty()) {
        java.sql.Array addedIds = c.createArrayOf("bigint", added.toArray(Long[]::new));
        for (String sql :
            List.of(
                "DELETE FROM cfn_messages WHERE id = ANY(?)",
                "DELETE FROM cfn_attempts WHERE message_id = ANY(?)")) {
          try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setArray(1, addedIds);
            s.executeUpdate();
          }
        }
      }
      try (PreparedStatement puts = c.prepareStatement(PUT);
          PreparedStatement sends = c.prepareStatement(INSERT_MESSAGE);
          PreparedStatement calls = c.prepareStatement(INSERT_CALL)) {
        int p = 0;
        int m = 0;
        int r = 0;
        for (Acknowledge a : acks) {
          a.written.clear();
          boolean applied = added.remove(a.id); // the same id twice: the first is new
          a.markDone(applied);
          if (!applied) {
            continue;
          }
          for (Change change : a.changes) {
            switch (change) {
              case Change.Put put -> {
                bindPut(puts, put.namespace(), put.key(), put.value(), a.id);
                puts.addBatch();
                a.written.add(new StateCache.Write(put.namespace(), put.key(), put.value()));
                p++;
              }
              case Change.Send send -> {
                bindContent(sends, send.row());
                sends.addBatch();
                m++;
              }
              case Change.RecordCall call -> {
                bindCall(calls, call, at);
                calls.addBatch();
                r++;
              }
              default -> throw new IllegalStateException("not a plain change: " + change);
            }
          }
        }
        if (p > 0) {
          puts.executeBatch();
        }
        if (m > 0) {
          sends.executeBatch();
        }
        if (r > 0) {
          calls.executeBatch();
        }
      }
    }

    private static boolean ack(Connection c, long id, Instant now) throws SQLException {
      try (PreparedStatement s = c.prepareStatement(ACK)) {
        s.setLong(1, id);
        s.setLong(2, now.toEpochMilli());
        try (ResultSet rows = s.executeQuery()) {
          rows.next();
          return rows.getLong(1) == 1;
        }
      }
    }

    private void put(Connection c, String namespace, String key, String value) throws SQLException {
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO cfn_state (namespace, key, value, message_id) VALUES (?, ?, ?, ?)"
                  + " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
                  + " message_id = excluded.message_id")) {
        s.setString(1, namespace);
        s.setString(2, key);
        s.setString(3, value);
        s.setLong(4, id);
        s.executeUpdate();
      }
      written.add(new StateCache.Write(namespace, key, value));
    }

    private static String stateValue(Connection c, String namespace, String key)
        throws SQLException {
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT value FROM cfn_state WHERE namespace = ? AND key = ? FOR UPDATE")) {
        s.setString(1, namespace);
        s.setString(2, key);
        try (ResultSet rows = s.executeQuery()) {
          return rows.next() ? rows.getString(1) : null;
        }
      }
    }

    private JournalException refused(String why) {
      return new JournalException(notDone() + ": " + why);
    }

    @Override
    void afterCommit(Boolean applied) {
      if (cache != null && Boolean.TRUE.equals(applied) && !written.isEmpty()) {
        cache.publish(written);
      }
    }

    @Override
    void afterBatchFailed() {
      if (cache != null) {
        cache.clear();
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
          + " was not acknowledged and stays pending; none of its effects were"
          + " applied";
    }
  }

  /** Records a failed attempt of a pending message; nothing when it is no longer pending. */
  static final class RecordFailure extends PgOp<Void> {
    private final long id;
    private final int attempt;
    private final String error;

    RecordFailure(long id, int attempt, String error, Fence fence) {
      super(fence);
      this.id = id;
      this.attempt = attempt;
      this.error = cut(error);
    }

    @Override
    Void apply(Connection c, Instant now) throws SQLException {
      try (PreparedStatement s =
          c.prepareStatement("UPDATE cfn_messages SET attempts = ?, last_error = ? WHERE id = ?")) {
        s.setInt(1, attempt);
        s.setString(2, error);
        s.setLong(3, id);
        if (s.executeUpdate() == 0) {
          log.debug("failure of message {} not recorded: it is no longer pending", id);
          return null;
        }
      }
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO cfn_attempts (message_id, attempt, at, error) VALUES (?, ?, ?, ?)"
                  + " ON CONFLICT (message_id, attempt) DO UPDATE SET at = excluded.at,"
                  + " error = excluded.error")) {
        s.setLong(1, id);
        s.setInt(2, attempt);
        s.setLong(3, now.toEpochMilli());
        s.setString(4, error);
        s.executeUpdate();
      }
      return null;
    }

    @Override
    String notDone() {
      return "attempt " + attempt + " of message " + id + " was not recorded";
    }
  }

  /**
   * Moves a message to the dead letters (the stored record; one never journaled as given); nothing
   * when it is dead-lettered already or was acknowledged.
   */
  static final class DeadLetter extends PgOp<Void> {
    private final Row given;
    private final int attempts;
    private final String cause;

    DeadLetter(Row given, int attempts, String cause, Fence fence) {
      super(fence);
      this.given = given;
      this.attempts = attempts;
      this.cause = cut(cause);
    }

    @Override
    Void apply(Connection c, Instant now) throws SQLException {
      long id = given.id();
      if (exists(c, "SELECT 1 FROM cfn_dead_letters WHERE id = ?", id)) {
        return null;
      }
      try (PreparedStatement s =
          c.prepareStatement(
              "WITH m AS (DELETE FROM cfn_messages WHERE id = ? RETURNING *)"
                  + " INSERT INTO cfn_dead_letters ("
                  + CONTENT_COLUMNS
                  + ", crc, part, attempts, cause, dead_at) SELECT "
                  + CONTENT_COLUMNS
                  + ", crc, part, ?, ?, ? FROM m")) {
        s.setLong(1, id);
        s.setInt(2, attempts);
        s.setString(3, cause);
        s.setLong(4, now.toEpochMilli());
        if (s.executeUpdate() == 1) {
          return null;
        }
      }
      if (exists(c, "SELECT 1 FROM cfn_acked WHERE id = ?", id)) {
        log.warn("message {} was already acknowledged; not dead-lettering it", id);
        return null;
      }
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO cfn_dead_letters ("
                  + CONTENT_COLUMNS
                  + ", crc, part, attempts, cause, dead_at) VALUES ("
                  + CONTENT_PARAMS
                  + "?, ?, ?, ?, ?)")) {
        bindContent(s, given);
        s.setInt(CONTENT + 3, attempts);
        s.setString(CONTENT + 4, cause);
        s.setLong(CONTENT + 5, now.toEpochMilli());
        s.executeUpdate();
      }
      return null;
    }

    @Override
    String notDone() {
      return "message " + given.id() + " was not dead-lettered";
    }
  }

  /** Moves a dead letter back to the pending messages, attempts reset; its record, or empty. */
  static final class Replay extends PgOp<Optional<Object[]>> {
    @Override
    boolean storesMessages() {
      return true;
    }

    private final long id;

    Replay(long id, Fence fence) {
      super(fence);
      this.id = id;
    }

    @Override
    Optional<Object[]> apply(Connection c, Instant now) throws SQLException {
      Object[] found = null;
      try (PreparedStatement s =
          c.prepareStatement(
              "WITH d AS (DELETE FROM cfn_dead_letters WHERE id = ? RETURNING *)"
                  + " INSERT INTO cfn_messages ("
                  + CONTENT_COLUMNS
                  + ", crc, part, attempts) SELECT "
                  + CONTENT_COLUMNS
                  + ", crc, part, 0 FROM d RETURNING "
                  + CONTENT_COLUMNS
                  + ", crc")) {
        s.setLong(1, id);
        try (ResultSet rows = s.executeQuery()) {
          if (rows.next()) {
            found = new Object[CONTENT + 1];
            for (int i = 0; i <= CONTENT; i++) {
              found[i] = rows.getObject(i + 1);
            }
          }
        }
      }
      if (found == null) {
        return Optional.empty();
      }
      try (PreparedStatement s =
          c.prepareStatement("DELETE FROM cfn_attempts WHERE message_id = ?")) {
        s.setLong(1, id);
        s.executeUpdate();
      }
      return Optional.of(found);
    }

    @Override
    String notDone() {
      return "dead letter " + id + " was not replayed";
    }
  }

  /**
   * Moves pending record {@code id}, found damaged, to {@code cfn_quarantine} as text; false when
   * it is gone or now passes its checksum.
   */
  static final class Quarantine extends PgOp<Boolean> {
    private final long id;

    Quarantine(long id) {
      super(null);
      this.id = id;
    }

    @Override
    Boolean apply(Connection c, Instant now) throws SQLException {
      Object[] found = new Object[CONTENT];
      Object storedCrc;
      Integer part;
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT "
                  + CONTENT_COLUMNS
                  + ", crc, part FROM cfn_messages WHERE id = ? FOR UPDATE")) {
        s.setLong(1, id);
        try (ResultSet rows = s.executeQuery()) {
          if (!rows.next()) {
            return false;
          }
          for (int i = 0; i < CONTENT; i++) {
            found[i] = rows.getObject(i + 1);
          }
          storedCrc = rows.getObject(CONTENT + 1);
          part = (Integer) rows.getObject(CONTENT + 2);
        }
      }
      Optional<String> problem =
          EnvelopeRecords.problem(PgSchema.MESSAGE_CHECKSUM, found, storedCrc);
      if (problem.isEmpty()) {
        return false;
      }
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO cfn_quarantine (id, record, stored_crc, part, problem, quarantined_at)"
                  + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
        s.setLong(1, id);
        s.setString(2, render(found));
        bind(s, 3, storedCrc == null ? null : ((Number) storedCrc).longValue());
        bind(s, 4, part);
        s.setString(5, problem.get());
        s.setLong(6, now.toEpochMilli());
        s.executeUpdate();
      }
      for (String sql :
          List.of(
              "DELETE FROM cfn_messages WHERE id = ?",
              "DELETE FROM cfn_attempts WHERE message_id = ?")) {
        try (PreparedStatement s = c.prepareStatement(sql)) {
          s.setLong(1, id);
          s.executeUpdate();
        }
      }
      return true;
    }

    /** The columns as {@code name=value} lines, binary values in Base64. */
    private static String render(Object[] values) {
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < values.length; i++) {
        Object v = values[i];
        out.append(EnvelopeRecords.COLUMNS.get(i))
            .append('=')
            .append(v instanceof byte[] b ? "base64:" + Base64.getEncoder().encodeToString(b) : v)
            .append('\n');
      }
      return out.toString();
    }

    @Override
    String notDone() {
      return "damaged message " + id + " was not moved to the quarantine";
    }
  }

  /**
   * Forgets acknowledged ids, idempotency keys, call records and answers older than the retention.
   */
  static final class Sweep extends PgOp<Integer> {
    private final Duration retention;

    Sweep(Duration retention) {
      super(null);
      this.retention = retention;
    }

    @Override
    Integer apply(Connection c, Instant now) throws SQLException {
      long cutoff = now.minus(retention).toEpochMilli();
      update(c, "DELETE FROM cfn_idempotency WHERE created_at < ?", cutoff);
      update(c, "DELETE FROM cfn_calls WHERE recorded_at < ?", cutoff);
      update(c, "DELETE FROM cfn_answers WHERE answered_at < ?", cutoff);
      try (PreparedStatement s =
          c.prepareStatement(
              "WITH gone AS (DELETE FROM cfn_acked WHERE acked_at < ? RETURNING id),"
                  + " high AS (SELECT max(id) AS id FROM gone)"
                  + " INSERT INTO cfn_meta (key, value) SELECT ?, id FROM high WHERE id IS NOT NULL"
                  + " ON CONFLICT (key) DO UPDATE SET value = greatest(cfn_meta.value,"
                  + " excluded.value)")) {
        s.setLong(1, cutoff);
        s.setString(2, RETIRED_HIGH_ID);
        return s.executeUpdate();
      }
    }

    @Override
    String notDone() {
      return "old acknowledged ids were not swept";
    }
  }

  static int update(Connection c, String sql, long arg) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setLong(1, arg);
      return s.executeUpdate();
    }
  }

  private static boolean exists(Connection c, String sql, long id) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setLong(1, id);
      try (ResultSet rows = s.executeQuery()) {
        return rows.next();
      }
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
