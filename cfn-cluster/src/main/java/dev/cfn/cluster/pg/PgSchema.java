package dev.cfn.cluster.pg;

import dev.cfn.core.spi.JournalException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The tables of {@link PgJournal} and their versioned migrations.
 *
 * <p>{@code cfn_schema_version} lists the versions applied, one row each. Opening a journal runs
 * the missing migrations in one transaction under a transaction-scoped advisory lock, so nodes
 * starting together migrate once, and refuses a database whose version is newer than this cfn
 * knows. Every table is prefixed {@code cfn_}, so the journal can share a database (or schema: put
 * {@code currentSchema=...} in the JDBC URL) with other applications.
 *
 * <p>Message records ({@code cfn_messages}, {@code cfn_dead_letters}) have cfn-store's journal
 * columns ({@code dev.cfn.store.journal.EnvelopeRecords#COLUMNS}) with a CRC32C ({@code crc}) over
 * them, computed under the name {@value #MESSAGE_CHECKSUM}, so a record moves between the two
 * tables verbatim; then {@code part} (the partition of the lease it was written under, null when
 * none), the attempt count and the last error or cause. {@code cfn_answers} holds the same columns
 * for the answers to requests from outside the cluster ({@link PgAnswers}), keyed by the request's
 * id (their {@code correlation_id}).
 */
final class PgSchema {
  /** The table name message checksums are computed under, in both message tables. */
  static final String MESSAGE_CHECKSUM = "cfn_messages";

  /** The table name call-record checksums are computed under. */
  static final String CALL_CHECKSUM = "cfn_calls";

  /** The advisory lock key of migrations ("cfn-pg" in ASCII). */
  private static final long MIGRATION_LOCK = 0x63666e2d7067L;

  private static final String MESSAGE_COLUMNS =
      "id bigint NOT NULL, type text NOT NULL, sender text NOT NULL, recipient text,"
          + " topic_type text, topic_source text, correlation_id bigint NOT NULL,"
          + " priority text NOT NULL, delivery text NOT NULL, headers text NOT NULL,"
          + " payload_class text NOT NULL, payload bytea NOT NULL, created_at bigint NOT NULL,"
          + " created_nanos bigint NOT NULL, crc bigint NOT NULL, part integer";

  /** Migration {@code i} takes the schema from version {@code i} to {@code i + 1}. */
  static final List<List<String>> MIGRATIONS =
      List.of(
          List.of(
              "CREATE TABLE cfn_messages ("
                  + MESSAGE_COLUMNS
                  + ", attempts integer NOT NULL DEFAULT 0, last_error text, PRIMARY KEY (id))",
              "CREATE INDEX cfn_messages_part ON cfn_messages (part, id)",
              "CREATE TABLE cfn_dead_letters ("
                  + MESSAGE_COLUMNS
                  + ", attempts integer NOT NULL, cause text NOT NULL, dead_at bigint NOT NULL,"
                  + " PRIMARY KEY (id))",
              "CREATE TABLE cfn_attempts (message_id bigint NOT NULL, attempt integer NOT NULL,"
                  + " at bigint NOT NULL, error text NOT NULL, PRIMARY KEY (message_id, attempt))",
              "CREATE TABLE cfn_acked (id bigint PRIMARY KEY, acked_at bigint NOT NULL)",
              "CREATE INDEX cfn_acked_at ON cfn_acked (acked_at)",
              "CREATE TABLE cfn_state (namespace text COLLATE \"C\" NOT NULL,"
                  + " key text COLLATE \"C\" NOT NULL, value text NOT NULL,"
                  + " message_id bigint NOT NULL, PRIMARY KEY (namespace, key))",
              "CREATE TABLE cfn_idempotency (key text PRIMARY KEY, message_id bigint NOT NULL,"
                  + " created_at bigint NOT NULL)",
              "CREATE INDEX cfn_idempotency_at ON cfn_idempotency (created_at)",
              "CREATE TABLE cfn_calls (key text PRIMARY KEY, result text NOT NULL,"
                  + " recorded_at bigint NOT NULL, crc bigint NOT NULL)",
              "CREATE INDEX cfn_calls_at ON cfn_calls (recorded_at)",
              "CREATE TABLE cfn_quarantine (id bigint PRIMARY KEY, record text NOT NULL,"
                  + " stored_crc bigint, part integer, problem text NOT NULL,"
                  + " quarantined_at bigint NOT NULL)",
              "CREATE TABLE cfn_meta (key text PRIMARY KEY, value bigint NOT NULL)",
              "CREATE TABLE cfn_leases (part integer PRIMARY KEY, owner text NOT NULL,"
                  + " epoch bigint NOT NULL, expires_at timestamptz NOT NULL)"),
          // 2: the cluster layer: node heartbeats, the outbox relay's marks, cluster-wide ids
          List.of(
              "CREATE TABLE cfn_nodes (node text PRIMARY KEY, expires_at timestamptz NOT NULL,"
                  + " joined_at timestamptz NOT NULL DEFAULT clock_timestamp())",
              "ALTER TABLE cfn_messages ADD COLUMN published_at bigint",
              "ALTER TABLE cfn_messages ADD COLUMN stream_seq bigint",
              "CREATE INDEX cfn_messages_unpublished ON cfn_messages (id)"
                  + " WHERE published_at IS NULL",
              "CREATE SEQUENCE cfn_message_ids INCREMENT BY " + PgJournal.ID_BLOCK,
              "SELECT setval('cfn_message_ids', greatest(1, (SELECT coalesce(max(id), 0) FROM"
                  + " cfn_messages), (SELECT coalesce(max(id), 0) FROM cfn_acked),"
                  + " (SELECT coalesce(max(id), 0) FROM cfn_dead_letters),"
                  + " (SELECT coalesce(max(id), 0) FROM cfn_quarantine),"
                  + " (SELECT coalesce(max(value), 0) FROM cfn_meta WHERE key = '"
                  + PgWrites.RETIRED_HIGH_ID
                  + "')))"),
          // 3: answers to requests from outside the cluster (PgAnswers), one per request
          List.of(
              "CREATE TABLE cfn_answers ("
                  + MESSAGE_COLUMNS
                  + ", answered_at bigint NOT NULL, PRIMARY KEY (correlation_id))",
              "CREATE INDEX cfn_answers_at ON cfn_answers (answered_at)"));

  /** The version this cfn writes. */
  static final int VERSION = MIGRATIONS.size();

  private PgSchema() {}

  /** Brings the database on {@code c} to {@link #VERSION}; {@code where} names it for errors. */
  static void migrate(Connection c, String where) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement sql = c.createStatement()) {
      sql.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
      sql.execute(
          "CREATE TABLE IF NOT EXISTS cfn_schema_version (version integer PRIMARY KEY,"
              + " applied_at timestamptz NOT NULL DEFAULT now())");
      int current = 0;
      try (ResultSet rows = sql.executeQuery("SELECT max(version) FROM cfn_schema_version")) {
        if (rows.next()) {
          current = rows.getInt(1);
        }
      }
      if (current > VERSION) {
        throw new JournalException(
            where
                + " has cfn schema version "
                + current
                + ", written by a newer cfn; this one knows versions up to "
                + VERSION
                + ". Nothing was changed (fix: run the newer cfn, or point this node at another"
                + " database)");
      }
      for (int v = current; v < VERSION; v++) {
        for (String statement : MIGRATIONS.get(v)) {
          sql.execute(statement);
        }
        sql.execute("INSERT INTO cfn_schema_version (version) VALUES (" + (v + 1) + ")");
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }
}
