package dev.cfn.store.calls;

import dev.cfn.core.spi.CallLogException;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.Migrations.Migration;
import dev.cfn.store.sqlite.RecordChecksum;
import java.util.List;

/**
 * The schema of a call-log file as an ordered list of migrations, like {@code MemorySchema} and the
 * journal's {@code Schema}, with an application id and a version history of its own: a call log is
 * never a journal or a memory file, and each refuses the others. {@link Migrations} applies them
 * when a store opens. New migrations are appended to {@link #MIGRATIONS}; existing ones are never
 * edited.
 *
 * <p>{@code calls} holds one row per recorded call: its idempotency {@code key}, the {@code result}
 * as the caller gave it (JSON), {@code recorded_at} in epoch milliseconds (what the retention sweep
 * reads), and {@code crc}, the {@link RecordChecksum} of the three other columns.
 */
final class CallLogSchema {

  /** {@code PRAGMA application_id} of a cfn call-log file: "cfnc". */
  static final int APPLICATION_ID = Migrations.CALL_LOG_APPLICATION_ID;

  /** The table of recorded calls, as {@link RecordChecksum} names it. */
  static final String TABLE = "calls";

  /** The call log's history: "not a cfn call log", "has call-log schema version 3". */
  static final Migrations MIGRATIONS =
      new Migrations(
          APPLICATION_ID,
          "call log",
          "call-log",
          "call log",
          CallLogException::new,
          List.of(
              new Migration(
                  1,
                  "calls: recorded results by idempotency key",
                  List.of(
                      """
                  CREATE TABLE calls (
                    key TEXT PRIMARY KEY,
                    result TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    crc INTEGER NOT NULL) WITHOUT ROWID""",
                      "CREATE INDEX calls_by_time ON calls(recorded_at)"))));

  /** The version this code writes. */
  static int latestVersion() {
    return MIGRATIONS.latestVersion();
  }

  private CallLogSchema() {}
}
