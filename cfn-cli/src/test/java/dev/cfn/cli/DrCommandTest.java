package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn dr backup|restore|drill} on real store files and a real killed worker JVM. */
class DrCommandTest {
  @TempDir Path dir;

  @Test
  void theDrillKillsALoadedNodeRestoresItsLatestBackupAndReportsRpoAndRto() throws Exception {
    Path json = dir.resolve("dr.json");
    BadInputTest.Result r =
        BadInputTest.run(
            "dr",
            "drill",
            "--backup-every",
            "1s",
            "--backups",
            "2",
            "--json",
            json.toString(),
            "--dir",
            dir.resolve("work").toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains("RPO ")
        .contains("RTO ")
        .contains("verified: journal ok, memory ok, call log ok");
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("met").asBoolean()).isTrue();
    assertThat(report.get("problems")).isEmpty();
    long acked = report.get("lastAcknowledgedRecord").asLong();
    assertThat(acked).isPositive();
    for (String f : new String[] {"journal", "memory", "calls"}) {
      JsonNode part = report.get("rpoByFile").get(f);
      assertThat(part.get("newestRecord").asLong()).as(f).isBetween(1L, acked + 1);
      assertThat(part.get("rpoMillis").asLong()).as(f).isBetween(0L, 60_000L);
    }
    assertThat(report.get("rtoMillis").asLong()).isPositive();
    assertThat(report.get("verified").get("calls").asBoolean()).isTrue();
  }

  @Test
  void aBackupSetHoldsTheThreeFilesAndRestoresIntoAFreshFolder() throws Exception {
    Path cfn = dir.resolve("node/.cfn");
    Files.createDirectories(cfn);
    try (SqliteJournal j = SqliteJournal.builder(cfn.resolve("cfn.db")).open()) {
      // an empty journal is a journal
    }
    try (SqliteMemoryStore m = SqliteMemoryStore.open(cfn.resolve("memory.db"))) {
      m.put(MemoryAccessor.operator(), "ns", "k", "remembered");
    }
    try (SqliteCallLogStore c = SqliteCallLogStore.open(cfn.resolve("calls.db"))) {
      c.record("call-1", "{\"answer\":42}");
    }
    BadInputTest.Result backup =
        BadInputTest.run(
            "dr",
            "backup",
            "--home",
            dir.resolve("node").toString(),
            "--to",
            dir.resolve("sets").toString());
    assertThat(backup.code()).as(backup.err()).isZero();
    assertThat(backup.out()).contains("journal").contains("memory").contains("calls");

    Files.createDirectories(dir.resolve("fresh"));
    BadInputTest.Result restore =
        BadInputTest.run(
            "dr",
            "restore",
            "--from",
            dir.resolve("sets").toString(),
            "--home",
            dir.resolve("fresh").toString());
    assertThat(restore.code()).as(restore.err()).isZero();
    try (SqliteMemoryStore m = SqliteMemoryStore.open(dir.resolve("fresh/.cfn/memory.db"))) {
      assertThat(m.get(MemoryAccessor.operator(), "ns", "k").orElseThrow().value())
          .isEqualTo("remembered");
    }
    try (SqliteCallLogStore c = SqliteCallLogStore.open(dir.resolve("fresh/.cfn/calls.db"))) {
      assertThat(c.find("call-1")).contains("{\"answer\":42}");
    }
    assertThat(
            BadInputTest.run(
                    "store", "check", "--journal", dir.resolve("fresh/.cfn/cfn.db").toString())
                .code())
        .isZero();
  }
}
