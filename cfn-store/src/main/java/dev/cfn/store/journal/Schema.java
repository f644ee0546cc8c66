package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.Migrations.Migration;
import java.util.List;

/**
 * The journal's schema as an ordered list of migrations, versioned from the first table; {@link
 * Migrations} applies them when a journal opens and refuses a file from a newer cfn or of another
 * kind. New migrations are appended to {@link #MIGRATIONS}; existing ones are never edited.
 *
 * <p>All timestamps are epoch milliseconds (UTC). {@code created_nanos} is the sender's {@link
 * System#nanoTime()} reading (see {@code MessageCodec}).
 */
final class Schema {

  /** {@code PRAGMA application_id} of a cfn journal: "cfnj". */
  static final int APPLICATION_ID = Migrations.JOURNAL_APPLICATION_ID;

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

  /**
   * Damaged pending records moved out of {@code messages} by recovery: the stored columns as they
   * were found (any type: a damaged value may not fit the original column), the checksum they
   * carried, what was wrong and when it was set aside; {@code crc} covers this row as stored.
   */
  private static final String QUARANTINE_TABLE =
      "CREATE TABLE quarantine (id INTEGER PRIMARY KEY, type, sender, recipient, topic_type,"
          + " topic_source, correlation_id, priority, delivery, headers, payload_class, payload,"
          + " created_at, created_nanos, attempts, last_error, stored_crc, source TEXT NOT NULL,"
          + " problem TEXT NOT NULL, quarantined_at INTEGER NOT NULL, crc INTEGER NOT NULL)";

  /** The journal's history: "not a cfn journal", "has journal schema version 3". */
  static final Migrations MIGRATIONS =
      new Migrations(
          APPLICATION_ID,
          "journal",
          "journal",
          "journal",
          JournalException::new,
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
                          + " crc INTEGER NOT NULL)")),
              // Producer-side exactly-once: a RELIABLE send's idempotency key and the id of the
              // message first stored under it, kept for the retention period (created_at drives
              // the sweep). Its own migration, so it can be renumbered beside others.
              new Migration(
                  2,
                  "idempotency keys of producers",
                  List.of(
                      "CREATE TABLE idempotency (key TEXT PRIMARY KEY, message_id INTEGER NOT NULL,"
                          + " created_at INTEGER NOT NULL, crc INTEGER NOT NULL)",
                      "CREATE INDEX idempotency_by_time ON idempotency(created_at)")),
              // Its own migration so that an integrator may renumber it beside others.
              new Migration(
                  3,
                  "quarantine: pending records that failed their checksum, set aside on recovery",
                  List.of(QUARANTINE_TABLE)),
              // Results of calls (model answers) committed with the acknowledgement of the
              // RELIABLE message that made them (Effect.RecordCall), by idempotency key, kept for
              // the retention period (recorded_at drives the sweep). Its own migration, so that an
              // integrator may renumber it beside others.
              new Migration(
                  4,
                  "calls: call results recorded with the acknowledgement of their message",
                  List.of(
                      "CREATE TABLE calls (key TEXT PRIMARY KEY, result TEXT NOT NULL,"
                          + " recorded_at INTEGER NOT NULL, crc INTEGER NOT NULL) WITHOUT ROWID",
                      "CREATE INDEX calls_by_time ON calls(recorded_at)"))));

  /** The version this code writes. */
  static int latestVersion() {
    return MIGRATIONS.latestVersion();
  }

  private Schema() {}
}
