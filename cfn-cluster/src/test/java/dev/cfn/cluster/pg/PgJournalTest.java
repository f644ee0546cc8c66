package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.JournalException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** What {@link PgJournal} adds to the contract: configuration, schema, quarantine, metrics. */
class PgJournalTest {

  @Test
  void badConfigurationIsRefusedWithItsFix() {
    assertThatThrownBy(() -> PgJournal.builder("jdbc:mysql://db/cfn?password=secret"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fix: write jdbc:postgresql://")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> PgJournal.builder("jdbc:postgresql://db/cfn").poolSize(5))
        .hasMessageContaining("10 to 100");
    assertThatThrownBy(() -> PgJournal.builder("jdbc:postgresql://db/cfn").poolSize(101))
        .hasMessageContaining("10 to 100");
  }

  @Test
  void aDatabaseOfANewerCfnIsRefusedAndNotChanged() throws Exception {
    String url = PgServer.shared().newSchema("newer");
    PgJournal.builder(url).open().close();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO cfn_schema_version (version) VALUES (99)");
    }
    assertThatThrownBy(() -> PgJournal.builder(url).open())
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("schema version 99")
        .hasMessageContaining("Nothing was changed");
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        var rows = s.executeQuery("SELECT max(version) FROM cfn_schema_version")) {
      rows.next();
      assertThat(rows.getInt(1)).isEqualTo(99);
    }
  }

  @Test
  void aDamagedPendingRecordIsQuarantinedAndTheOthersAreRecovered() throws Exception {
    String url = PgServer.shared().newSchema("damage");
    try (PgJournal journal = PgJournal.builder(url).open()) {
      journal.append(JournalContractTest.message(1, "sound"));
      journal.append(JournalContractTest.message(2, "to be damaged"));
      journal.append(JournalContractTest.message(3, "sound too"));
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("UPDATE cfn_messages SET sender = 'mallory/1' WHERE id = 2");
    }
    try (PgJournal journal = PgJournal.builder(url).open()) {
      assertThat(JournalContractTest.ids(journal.recover())).containsExactly(1L, 3L);
      assertThat(journal.quarantinedCount()).isEqualTo(1);
      assertThat(JournalContractTest.ids(journal.recover())).containsExactly(1L, 3L);
      assertThat(journal.quarantinedCount()).as("moved once").isEqualTo(1);
      assertThat(journal.highestId()).as("a quarantined id stays used").isEqualTo(3);
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        var rows = s.executeQuery("SELECT problem FROM cfn_quarantine WHERE id = 2")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1)).contains("checksum mismatch");
    }
  }

  @Test
  void thePoolsUtilizationIsAGauge() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (PgJournal journal =
        PgJournal.builder(PgServer.shared().newSchema("gauge")).meterRegistry(registry).open()) {
      var gauge = registry.find("cfn.pool.utilization.ratio").tag("pool", "jdbc").gauge();
      assertThat(gauge).isNotNull();
      assertThat(gauge.value())
          .as("the writer holds one of the 10 connections")
          .isBetween(0.1, 1.0);
    }
  }
}
