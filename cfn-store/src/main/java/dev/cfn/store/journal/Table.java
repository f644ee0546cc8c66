package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.sqlite.ColumnText;
import dev.cfn.store.sqlite.RecordChecksum;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The checksummed tables, their columns in canonical order (the order {@link RecordChecksum} reads
 * them in) and their keys. Every row is handled as an {@code Object[]} in that order, so one piece
 * of code builds the SQL, computes the checksum on write and verifies it on every read.
 */
enum Table {
  /** Pending reliable messages: appended, neither acknowledged nor dead-lettered. */
  MESSAGES("messages", concat(Columns.MESSAGE, "attempts", "last_error"), 1),
  /** Ids acknowledged within the retention period, for deduplication. */
  ACKED("acked", List.of("id", "acked_at"), 1),
  /** Messages that used up their attempts, with the cause. */
  DEAD_LETTERS("dead_letters", concat(Columns.MESSAGE, "attempts", "cause", "dead_at"), 1),
  /** The history of failed attempts of pending and dead-lettered messages. */
  ATTEMPTS("attempts", List.of("message_id", "attempt", "at", "error"), 2),
  /** Agent state written by acknowledgement effects. */
  STATE("state", List.of("namespace", "key", "value", "message_id"), 2),
  /** Journal-wide values, such as the highest id ever removed. */
  META("meta", List.of("key", "value"), 1),
  /**
   * Producers' idempotency keys within the retention period, with the message stored under each.
   */
  IDEMPOTENCY("idempotency", List.of("key", "message_id", "created_at"), 1),
  /**
   * Call results committed with the acknowledgement of the message whose handler made the call
   * (schema version 4), by idempotency key, within the retention period.
   */
  CALLS("calls", List.of("key", "result", "recorded_at"), 1),
  /**
   * Damaged pending records set aside by recovery (schema version 3): the message columns as found,
   * then {@code attempts}, {@code last_error}, the checksum they carried, the table they came from,
   * the problem and the time.
   */
  QUARANTINE(
      "quarantine",
      concat(
          Columns.MESSAGE,
          "attempts",
          "last_error",
          "stored_crc",
          "source",
          "problem",
          "quarantined_at"),
      1);

  /** Column positions shared by {@link #MESSAGES} and {@link #DEAD_LETTERS}. */
  static final class Columns {
    static final List<String> MESSAGE =
        List.of(
            "id",
            "type",
            "sender",
            "recipient",
            "topic_type",
            "topic_source",
            "correlation_id",
            "priority",
            "delivery",
            "headers",
            "payload_class",
            "payload",
            "created_at",
            "created_nanos");
    static final int ID = 0;
    static final int TYPE = 1;
    static final int SENDER = 2;
    static final int RECIPIENT = 3;
    static final int TOPIC_TYPE = 4;
    static final int TOPIC_SOURCE = 5;
    static final int CORRELATION_ID = 6;
    static final int PRIORITY = 7;
    static final int DELIVERY = 8;
    static final int HEADERS = 9;
    static final int PAYLOAD_CLASS = 10;
    static final int PAYLOAD = 11;
    static final int CREATED_AT = 12;
    static final int CREATED_NANOS = 13;

    /** Columns after the message content: {@code attempts} in both tables. */
    static final int ATTEMPTS = 14;

    /** {@code last_error} in messages. */
    static final int LAST_ERROR = 15;

    /** {@code cause} in dead_letters. */
    static final int CAUSE = 15;

    /** {@code dead_at} in dead_letters. */
    static final int DEAD_AT = 16;

    /** {@code stored_crc} in quarantine: the checksum the damaged record carried. */
    static final int STORED_CRC = 16;

    /** {@code source} in quarantine: the table the record was taken from. */
    static final int SOURCE = 17;

    /** {@code problem} in quarantine. */
    static final int PROBLEM = 18;

    /** {@code quarantined_at} in quarantine. */
    static final int QUARANTINED_AT = 19;

    private Columns() {}
  }

  private final String sqlName;
  private final List<String> columns;
  private final int keyColumns;
  private final String select;
  private final String insert;

  Table(String sqlName, List<String> columns, int keyColumns) {
    this.sqlName = sqlName;
    this.columns = columns;
    this.keyColumns = keyColumns;
    this.select = "SELECT " + String.join(", ", columns) + ", crc FROM " + sqlName;
    this.insert =
        "INSERT INTO "
            + sqlName
            + "("
            + String.join(", ", columns)
            + ", crc) VALUES ("
            + "?, ".repeat(columns.size())
            + "?)";
  }

  /** The table's name in SQL. */
  String sqlName() {
    return sqlName;
  }

  /** {@code SELECT <columns>, crc FROM <table>}; append a WHERE or ORDER BY clause. */
  String select() {
    return select;
  }

  /** {@code INSERT INTO <table>(<columns>, crc) VALUES (...)}, bound by {@link #bind}. */
  String insert() {
    return insert;
  }

  /** An INSERT of {@code rows} rows in one statement (values and checksum per row). */
  String insertRows(int rows) {
    StringBuilder sql = new StringBuilder(insert);
    String tuple = insert.substring(insert.lastIndexOf('('));
    for (int i = 1; i < rows; i++) {
      sql.append(", ").append(tuple);
    }
    return sql.toString();
  }

  void bindRow(PreparedStatement statement, int row, Object[] values) throws SQLException {
    bindRow(statement, row, values, checksum(values));
  }

  /** Binds {@code values} and their precomputed {@code checksum} as row {@code row}. */
  void bindRow(PreparedStatement statement, int row, Object[] values, long checksum)
      throws SQLException {
    int base = row * (values.length + 1);
    for (int i = 0; i < values.length; i++) {
      bindValue(statement, base + i + 1, values[i]);
    }
    statement.setLong(base + values.length + 1, checksum);
  }

  /** The key columns, comma-separated, for ORDER BY. */
  /** Binds with the typed setter for the column types the journal stores (setObject is slower). */
  static void bindValue(PreparedStatement statement, int index, Object value) throws SQLException {
    switch (value) {
      case null -> statement.setNull(index, java.sql.Types.NULL);
      case Long l -> statement.setLong(index, l);
      case Integer i -> statement.setInt(index, i);
      case String s -> statement.setString(index, s);
      case byte[] b -> statement.setBytes(index, b);
      default -> statement.setObject(index, value);
    }
  }

  String keyOrder() {
    return String.join(", ", columns.subList(0, keyColumns));
  }

  int columnCount() {
    return columns.size();
  }

  /** The checksum of {@code values} as a row of this table. */
  long checksum(Object[] values) {
    return RecordChecksum.of(sqlName, values);
  }

  /** Binds {@code values} and their checksum to a statement prepared from {@link #insert()}. */
  void bind(PreparedStatement statement, Object[] values) throws SQLException {
    for (int i = 0; i < values.length; i++) {
      statement.setObject(i + 1, values[i]);
    }
    statement.setLong(values.length + 1, checksum(values));
  }

  /**
   * Reads the current row of a query built on {@link #select()} and verifies its checksum; a
   * mismatch throws {@link JournalException} naming the table and the key, never returning the bad
   * values.
   */
  Object[] read(ResultSet rows) throws SQLException {
    Object[] values = values(rows);
    Optional<String> problem = problem(values, rows.getObject(values.length + 1));
    if (problem.isPresent()) {
      throw new JournalException(
          problem.get()
              + ": the record was changed outside cfn or damaged on disk, so it is not used."
              + " `cfn store check` (SqliteJournal.check()) lists every damaged record; restore"
              + " the file from a backup (`cfn restore`, JournalFiles.restore); a damaged pending"
              + " message is moved to the quarantine when a runtime next starts on the journal"
              + " (`cfn store quarantine list`)");
    }
    return values;
  }

  /** The column names, in canonical order. */
  List<String> columns() {
    return columns;
  }

  /** The column values of the current row, unverified (for {@code check()}). */
  Object[] values(ResultSet rows) throws SQLException {
    Object[] values = new Object[columns.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = rows.getObject(i + 1);
    }
    return values;
  }

  /** What is wrong with a row and its stored checksum, naming the table and key; empty if ok. */
  Optional<String> problem(Object[] values, Object storedCrc) {
    long computed;
    try {
      computed = checksum(values);
    } catch (IllegalArgumentException e) {
      return Optional.of(describe(values) + ": " + e.getMessage());
    }
    if (!(storedCrc instanceof Number stored)) {
      return Optional.of(describe(values) + ": checksum is missing or not a number");
    }
    if (stored.longValue() != computed) {
      return Optional.of(
          String.format(
              "%s: checksum mismatch (stored %08x, computed %08x)",
              describe(values), stored.longValue(), computed));
    }
    return Optional.empty();
  }

  /** The table and the key of a row, e.g. {@code messages id 42}. */
  String describe(Object[] values) {
    String key =
        IntStream.range(0, keyColumns)
            .mapToObj(i -> columns.get(i) + " " + ColumnText.quote(values[i]))
            .collect(Collectors.joining(", "));
    return sqlName + " " + key;
  }

  private static List<String> concat(List<String> head, String... tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(Stream.of(tail).toList());
    return List.copyOf(all);
  }
}
