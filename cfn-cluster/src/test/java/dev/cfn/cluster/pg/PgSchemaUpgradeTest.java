package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A database created at schema version 1 (the journal before the cluster layer), with data in every
 * table, upgraded to the current version (2: the cluster layer; 3: the answers to requests from
 * outside) by opening a {@link PgJournal} on it: the data survives unchanged (pending messages
 * still verify their checksums and are recovered, acknowledgements, state, idempotency keys, call
 * records, dead letters, leases), the new id sequence starts above every id used, and opening again
 * (or migrating again) changes nothing.
 */
class PgSchemaUpgradeTest {

  /** The columns migration 1 created in each table: what a version-1 cfn wrote. */
  private static final List<String[]> V1_TABLES =
      List.of(
          new String[] {
            "cfn_messages",
            "id, type, sender, recipient, topic_type, topic_source, correlation_id, priority,"
                + " delivery, headers, payload_class, payload, created_at, created_nanos, crc,"
                + " part, attempts, last_error"
          },
          new String[] {
            "cfn_dead_letters",
            "id, type, sender, recipient, topic_type, topic_source, correlation_id, priority,"
                + " delivery, headers, payload_class, payload, created_at, created_nanos, crc,"
                + " part, attempts, cause, dead_at"
          },
          new String[] {"cfn_attempts", "message_id, attempt, at, error"},
          new String[] {"cfn_acked", "id, acked_at"},
          new String[] {"cfn_state", "namespace, key, value, message_id"},
          new String[] {"cfn_idempotency", "key, message_id, created_at"},
          new String[] {"cfn_calls", "key, result, recorded_at, crc"},
          new String[] {"cfn_meta", "key, value"},
          new String[] {"cfn_leases", "part, owner, epoch, expires_at"});

  @Test
  void aVersionOneDatabaseWithDataIsUpgradedOnceAndKeepsItsData() throws Exception {
    // data written through the journal's own code, in a schema of its own
    String source = PgServer.shared().newSchema("upgrade_src");
    String ns = JournalContractTest.NS;
    try (PgJournal journal = PgJournal.builder(source).open()) {
      journal.append(JournalContractTest.message(1, "pending one"));
      journal.append(JournalContractTest.message(2, "pending two"));
      journal.appendOnce(JournalContractTest.keyed(3, "order-42"));
      Envelope acked = JournalContractTest.message(4, "to acknowledge");
      journal.append(acked);
      assertThat(
              journal
                  .acknowledge(
                      acked,
                      List.of(
                          new Effect.Put(ns, "owner", "alice"),
                          new Effect.Increment(ns, "count", 7),
                          new Effect.RecordCall("model-call-1", "{\"answer\":42}")))
                  .join())
          .isTrue();
      Envelope dead = JournalContractTest.message(5, "to dead-letter");
      journal.append(dead);
      journal.recordFailure(dead, 1, "boom").join();
      journal.deadLetter(dead, 1, "gave up").join();
      journal.append(JournalContractTest.message(900, "a high id"));
      assertThat(journal.leases().acquire(7, "node-a", java.time.Duration.ofMinutes(5)))
          .isPresent();
    }

    // the same rows in a version-1 database: migration 1 only, and its version row
    String v1 = PgServer.shared().newSchema("upgrade_v1");
    try (Connection c = DriverManager.getConnection(v1);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE cfn_schema_version (version integer PRIMARY KEY,"
              + " applied_at timestamptz NOT NULL DEFAULT now())");
      for (String statement : PgSchema.MIGRATIONS.get(0)) {
        s.execute(statement);
      }
      s.execute("INSERT INTO cfn_schema_version (version) VALUES (1)");
      String from = schemaOf(source);
      for (String[] table : V1_TABLES) {
        s.execute(
            "INSERT INTO "
                + table[0]
                + " ("
                + table[1]
                + ") SELECT "
                + table[1]
                + " FROM "
                + from
                + "."
                + table[0]);
      }
      assertThat(columns(s, "cfn_messages")).doesNotContain("published_at", "stream_seq");
    }
    List<String> before = dump(v1);
    assertThat(before).anyMatch(row -> row.startsWith("cfn_messages|1|"));

    try (PgJournal journal = PgJournal.builder(v1).stateCacheKeys(0).open()) {
      assertThat(versions(v1)).containsExactly(1, 2, 3);
      assertThat(JournalContractTest.ids(journal.recover()))
          .as("pending messages recovered, their checksums intact")
          .containsExactly(1L, 2L, 3L, 900L);
      assertThat(journal.quarantinedCount()).isZero();
      assertThat(journal.isAcknowledged(4)).isTrue();
      assertThat(journal.isAcknowledged(1)).isFalse();
      assertThat(journal.state(ns, "owner")).contains("alice");
      assertThat(journal.state(ns, "count")).contains("7");
      assertThat(journal.idempotencyKeyId("order-42")).contains(3L);
      assertThat(journal.findCall("model-call-1")).contains("{\"answer\":42}");
      assertThat(journal.leases().holder(7).map(Lease::owner)).isEqualTo(Optional.of("node-a"));
      long block = journal.nextIdBlock();
      assertThat(block)
          .as("ids from the new sequence start above every id used")
          .isGreaterThan(900);
      assertThat(journal.replayDeadLetter(5)).map(Envelope::payload).contains("to dead-letter");
      assertThat(journal.answers().find(1)).as("the answers table, empty").isEmpty();
    }
    List<String> upgraded = dump(v1);

    // opening again migrates nothing and changes nothing
    try (PgJournal journal = PgJournal.builder(v1).open()) {
      assertThat(versions(v1)).containsExactly(1, 2, 3);
      assertThat(journal.nextIdBlock()).isGreaterThan(900);
    }
    try (Connection c = DriverManager.getConnection(v1)) {
      PgSchema.migrate(c, "the upgraded schema");
    }
    assertThat(versions(v1)).containsExactly(1, 2, 3);
    assertThat(dump(v1)).as("a second migration changes no row").isEqualTo(upgraded);
  }

  private static String schemaOf(String url) {
    return url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
  }

  private static List<Integer> versions(String url) throws SQLException {
    List<Integer> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT version FROM cfn_schema_version ORDER BY version")) {
      while (r.next()) {
        out.add(r.getInt(1));
      }
    }
    return out;
  }

  private static List<String> columns(Statement s, String table) throws SQLException {
    List<String> out = new ArrayList<>();
    try (ResultSet r =
        s.executeQuery(
            "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                + " current_schema() AND table_name = '"
                + table
                + "'")) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }

  /** Every row of the version-1 tables (their version-1 columns), as text, in order. */
  private static List<String> dump(String url) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      for (String[] table : V1_TABLES) {
        if (table[0].equals("cfn_leases")) {
          continue; // a lease's expiry is compared, not dumped: it is a timestamp of the database
        }
        try (ResultSet r =
            s.executeQuery("SELECT " + table[1] + " FROM " + table[0] + " ORDER BY 1, 2")) {
          int n = r.getMetaData().getColumnCount();
          while (r.next()) {
            StringBuilder row = new StringBuilder(table[0]);
            for (int i = 1; i <= n; i++) {
              Object v = r.getObject(i);
              row.append('|')
                  .append(v instanceof byte[] b ? java.util.HexFormat.of().formatHex(b) : v);
            }
            out.add(row.toString());
          }
        }
      }
    }
    return out;
  }
}
