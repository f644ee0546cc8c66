package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn dr backup|restore|drill} on real store files and a real killed {@code cfn serve}. */
class DrCommandTest {
  @TempDir Path dir;

  @Test
  void theDrillKillsAServedNodeRestoresItsLatestBackupServesItAgainAndReportsRpoAndRto()
      throws Exception {
    Path json = dir.resolve("dr.json");
    Path work = dir.resolve("work");
    CliRun r =
        CliRun.run(
            "dr",
            "drill",
            "--backup-every",
            "1s",
            "--backups",
            "2",
            "--json",
            json.toString(),
            "--dir",
            work.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains("RPO ")
        .contains("acknowledged writes missing")
        .contains("RTO ")
        .contains("to the first request served")
        .contains("verified: journal ok, memory ok, call log ok");
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("met").asBoolean()).isTrue();
    assertThat(report.get("problems")).isEmpty();
    assertThat(report.get("node").asText()).startsWith("cfn serve");
    long acked = report.get("lastAcknowledgedRecord").asLong();
    long newest = report.get("newestRestoredRecord").asLong();
    assertThat(acked).isPositive();
    assertThat(newest).isBetween(1L, acked);
    assertThat(report.get("acknowledgedMissing").asLong()).isEqualTo(acked - newest);
    assertThat(report.get("rpoMillis").asLong()).isBetween(0L, 60_000L);
    assertThat(report.get("rtoReadyMillis").asLong()).isPositive();
    assertThat(report.get("rtoMillis").asLong())
        .isGreaterThanOrEqualTo(report.get("rtoReadyMillis").asLong());
    assertThat(report.get("verified").get("memory").asBoolean()).isTrue();

    // The restored node served with the set's own token file and certificate.
    assertThat(work.resolve("restored/.cfn/tokens.db")).exists();
    assertThat(work.resolve("restored/.cfn/tls/server.crt")).exists();
    assertThat(dev.cfn.store.backup.StoreBackup.sets(work.resolve("backups")))
        .hasSizeGreaterThanOrEqualTo(2);
    // The restored memory holds every acknowledged write up to its newest, none after the last.
    try (SqliteMemoryStore m = SqliteMemoryStore.open(work.resolve("restored/.cfn/memory.db"))) {
      for (long n = 1; n <= newest; n++) {
        assertThat(m.get(MemoryAccessor.operator(), DrCommand.Drill.NAMESPACE, "rec-" + n))
            .as("rec-" + n)
            .isPresent();
      }
    }
  }

  @Test
  void aDrillOverItsRecoveryTimeTargetSaysSoAndFails() throws Exception {
    Path json = dir.resolve("dr.json");
    Path work = dir.resolve("work");
    CliRun r =
        CliRun.run(
            "dr",
            "drill",
            "--backup-every",
            "1s",
            "--backups",
            "1",
            "--rto-target",
            "1ms", // no JVM starts in a millisecond: the recovery time is over it
            "--json",
            json.toString(),
            "--dir",
            work.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out()).containsPattern("RTO .*\\(target 0\\.001 s\\): NOT met");
    assertThat(r.err()).contains("kept " + work);
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("met").asBoolean()).isFalse();
    assertThat(report.get("rtoTargetMillis").asLong()).isEqualTo(1);
    assertThat(report.get("rtoMillis").asLong()).isGreaterThan(1);
    assertThat(report.get("problems")).as("the restore itself was sound").isEmpty();
  }

  @Test
  void aDrillWithABackupIntervalUnderASecondIsRefusedAndRunsNothing() {
    CliRun r =
        CliRun.run("dr", "drill", "--backup-every", "200ms", "--dir", dir.resolve("w").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--backup-every must be at least 1s").contains("fix");
    assertThat(dir.resolve("w")).doesNotExist();
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
    CliRun backup =
        CliRun.run(
            "dr",
            "backup",
            "--home",
            dir.resolve("node").toString(),
            "--to",
            dir.resolve("sets").toString());
    assertThat(backup.code()).as(backup.err()).isZero();
    assertThat(backup.out()).contains("journal").contains("memory").contains("calls");

    Files.createDirectories(dir.resolve("fresh"));
    CliRun restore =
        CliRun.run(
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
            CliRun.run("store", "check", "--journal", dir.resolve("fresh/.cfn/cfn.db").toString())
                .code())
        .isZero();
  }

  @Test
  void aSetHoldsTokensTlsAndAlertsButTheKeysOnlyWhenAskedAndNeverReplacesThem() throws Exception {
    Path node = dir.resolve("node");
    Path cfn = node.resolve(".cfn");
    Files.createDirectories(cfn.resolve("tls"));
    Files.createDirectories(cfn.resolve("keys"));
    try (SqliteJournal j = SqliteJournal.builder(cfn.resolve("cfn.db")).open()) {
      // an empty journal is a journal
    }
    String secret;
    try (dev.cfn.server.auth.TokenStore t =
        dev.cfn.server.auth.TokenStore.open(node.resolve(".cfn/tokens.db"))) {
      secret =
          t.create(
                  dev.cfn.server.auth.Role.VIEWER,
                  java.util.List.of(dev.cfn.server.auth.Scope.ALL),
                  java.time.Duration.ofDays(1),
                  "kept",
                  "user:test")
              .secret();
    }
    Files.writeString(cfn.resolve("tls/server.crt"), "CERT\n");
    Files.writeString(cfn.resolve("tls/server.key"), "SEALED KEY\n");
    Files.writeString(cfn.resolve("alerts.yaml"), "rules: []\n");
    Files.writeString(cfn.resolve("alert-history.jsonl"), "{}\n");
    Files.writeString(cfn.resolve("keys/master.json"), "{\"key\":\"MASTER\"}\n");

    CliRun plain =
        CliRun.run(
            "dr", "backup", "--home", node.toString(), "--to", dir.resolve("sets").toString());
    assertThat(plain.code()).as(plain.err()).isZero();
    assertThat(plain.out())
        .contains("tokens.db")
        .contains("tls/server.key")
        .contains("alerts.yaml")
        .contains("alert-history.jsonl")
        .doesNotContain("keys/");
    CliRun withKeys =
        CliRun.run(
            "dr",
            "backup",
            "--include-keys",
            "--home",
            node.toString(),
            "--to",
            dir.resolve("vault").toString());
    assertThat(withKeys.code()).as(withKeys.err()).isZero();
    assertThat(withKeys.out()).contains("keys/master.json");
    assertThat(withKeys.err()).contains("holds the master key");

    // into a fresh folder: everything of the set arrives, the token still opens the node
    Path fresh = dir.resolve("fresh");
    Files.createDirectories(fresh);
    CliRun restore =
        CliRun.run(
            "dr", "restore", "--from", dir.resolve("vault").toString(), "--home", fresh.toString());
    assertThat(restore.code()).as(restore.err()).isZero();
    assertRecorded(fresh, "dr.restore", AuditEvent.Outcome.SUCCESS, "cfn-backup-");
    assertThat(fresh.resolve(".cfn/tls/server.key")).hasContent("SEALED KEY");
    assertThat(fresh.resolve(".cfn/keys/master.json")).exists();
    assertThat(fresh.resolve(".cfn/alerts.yaml")).hasContent("rules: []");
    try (dev.cfn.server.auth.TokenStore t =
        dev.cfn.server.auth.TokenStore.open(fresh.resolve(".cfn/tokens.db"))) {
      assertThat(t.authenticate(secret).verdict())
          .isEqualTo(dev.cfn.server.auth.TokenStore.Verdict.ACCEPTED);
    }

    // the keys' half alone, into a folder restored from a set without keys
    Path other = dir.resolve("other");
    Files.createDirectories(other);
    assertThat(
            CliRun.run(
                    "dr",
                    "restore",
                    "--from",
                    dir.resolve("sets").toString(),
                    "--home",
                    other.toString())
                .code())
        .isZero();
    // no keyring came (the folder holds the audit log's signing key only)
    assertThat(other.resolve(".cfn/keys/master.json")).doesNotExist();
    CliRun keys =
        CliRun.run(
            "dr",
            "restore",
            "--keys-only",
            "--from",
            dir.resolve("vault").toString(),
            "--home",
            other.toString());
    assertThat(keys.code()).as(keys.err()).isZero();
    assertThat(keys.out()).contains("keys/master.json").doesNotContain("memory");
    assertThat(other.resolve(".cfn/keys/master.json")).hasContent("{\"key\":\"MASTER\"}");
    CliRun none =
        CliRun.run(
            "dr",
            "restore",
            "--keys-only",
            "--from",
            dir.resolve("sets").toString(),
            "--home",
            other.toString());
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).contains("holds no keyring").contains("--include-keys");
    assertRecorded(other, "dr.restore-keys", AuditEvent.Outcome.FAILURE, "cfn-backup-");
    assertThat(AuditLog.tail(other.resolve(".cfn"), 1).getFirst().event().detail().get("reason"))
        .contains("holds no keyring");

    // in place: the node's own token file, TLS pair and keyring are kept
    Files.writeString(cfn.resolve("keys/master.json"), "{\"key\":\"ROTATED\"}\n");
    CliRun inPlace =
        CliRun.run(
            "dr", "restore", "--from", dir.resolve("vault").toString(), "--home", node.toString());
    assertThat(inPlace.code()).as(inPlace.err()).isZero();
    assertThat(inPlace.out()).contains("kept the node's own keys/master.json");
    assertThat(cfn.resolve("keys/master.json")).hasContent("{\"key\":\"ROTATED\"}");
    assertRecorded(node, "dr.restore", AuditEvent.Outcome.SUCCESS, "cfn-backup-");
  }

  /** A restore is a privileged action: with the node's audit log held (a node runs), none. */
  @Test
  void aRestoreThatCannotBeAuditedDoesNotHappen() throws Exception {
    Path node = dir.resolve("held");
    Path cfn = node.resolve(".cfn");
    Files.createDirectories(cfn);
    try (SqliteJournal j = SqliteJournal.builder(cfn.resolve("cfn.db")).open()) {
      // an empty journal is a journal
    }
    CliRun backup =
        CliRun.run(
            "dr", "backup", "--home", node.toString(), "--to", dir.resolve("held-sets").toString());
    assertThat(backup.code()).as(backup.err()).isZero();
    Path fresh = dir.resolve("held-fresh");
    Files.createDirectories(fresh.resolve(".cfn"));
    try (AuditLog held = AuditLog.open(fresh.resolve(".cfn"))) {
      CliRun refused =
          CliRun.run(
              "dr",
              "restore",
              "--from",
              dir.resolve("held-sets").toString(),
              "--home",
              fresh.toString());
      assertThat(refused.code()).isEqualTo(1);
      assertThat(refused.err())
          .contains("cannot record dr.restore in the audit log")
          .contains("nothing was done");
      assertThat(fresh.resolve(".cfn/cfn.db")).doesNotExist();
    }
  }

  /** The last entry of the audit log under {@code home}: {@code action}, {@code outcome}. */
  static void assertRecorded(Path home, String action, AuditEvent.Outcome outcome, String from) {
    AuditEvent last = AuditLog.tail(home.resolve(".cfn"), 1).getFirst().event();
    assertThat(last.action()).isEqualTo(action);
    assertThat(last.outcome()).isEqualTo(outcome);
    assertThat(last.principal()).startsWith("user:");
    assertThat(last.target())
        .isEqualTo(home.resolve(".cfn").toAbsolutePath().normalize().toString());
    if (outcome == AuditEvent.Outcome.SUCCESS) {
      assertThat(last.detail().get("from")).startsWith(from);
    }
  }
}
