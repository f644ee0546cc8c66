package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.server.auth.IssuedToken;
import dev.cfn.server.auth.Role;
import dev.cfn.server.fixture.DamagedTokenFile;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import dev.cfn.testkit.file.FileDamage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal commands against real journal files. */
class StoreCommandsTest {
  @TempDir Path dir;
  Path db;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
    try {
      var cl = Main.commandLine();
      cl.setErr(new java.io.PrintWriter(System.err, true));
      int code = cl.execute(args);
      return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  static Envelope message(long id, String payload) {
    return new Envelope(
        id,
        "test",
        AgentRuntime.EXTERNAL,
        AgentId.of("worker", "1"),
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        payload,
        System.nanoTime());
  }

  @BeforeEach
  void journalWithOneDeadLetter() {
    db = dir.resolve("cfn.db");
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      Envelope dead = message(7, "poison");
      j.append(dead);
      j.recordFailure(dead, 1, "boom 1").join();
      j.deadLetter(dead, 1, "gave up: boom 1").join();
      j.append(message(8, "fine"));
    }
  }

  @Test
  void dlqListsShowsReplaysAndPurges() {
    Run list = run("dlq", "list", "--db", db.toString());
    assertThat(list.code()).isZero();
    assertThat(list.out()).contains("7").contains("worker/1").contains("gave up: boom 1");

    Run show = run("dlq", "show", "7", "--db", db.toString());
    assertThat(show.code()).isZero();
    assertThat(show.out()).contains("poison").contains("attempt 1").contains("boom 1");

    assertThat(run("dlq", "show", "99", "--db", db.toString()).code()).isEqualTo(1);

    Run replay = run("dlq", "replay", "7", "--db", db.toString());
    assertThat(replay.code()).isZero();
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      List<Journal.JournalEntry> pending = j.recover();
      assertThat(pending).extracting(e -> e.envelope().id()).containsExactlyInAnyOrder(7L, 8L);
      j.deadLetter(message(9, "x"), 3, "again").join();
    }

    assertThat(run("dlq", "purge", "--db", db.toString()).code()).isEqualTo(2);
    Run purge = run("dlq", "purge", "--all", "--db", db.toString());
    assertThat(purge.code()).isZero();
    assertThat(purge.out()).contains("deleted 1");
  }

  @Test
  void localReplayAndPurgeAreAuditedUnderTheActionsTheNodesApiRecords() {
    assertThat(run("dlq", "replay", "7", "--db", db.toString()).code()).isZero();
    AuditEvent replayed = AuditLog.tail(dir, 1).getFirst().event();
    assertThat(replayed.action()).isEqualTo("POST /v1/dead-letters/{id}/replay");
    assertThat(replayed.target()).isEqualTo("dead-letter:7");
    assertThat(replayed.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    assertThat(replayed.principal()).startsWith("user:");

    assertThat(run("dlq", "purge", "99", "--db", db.toString()).code()).isEqualTo(1);
    AuditEvent missing = AuditLog.tail(dir, 1).getFirst().event();
    assertThat(missing.action()).isEqualTo("DELETE /v1/dead-letters/{id}");
    assertThat(missing.target()).isEqualTo("dead-letter:99");
    assertThat(missing.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);

    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      j.deadLetter(message(9, "x"), 3, "again").join();
    }
    assertThat(run("dlq", "purge", "9", "--db", db.toString()).code()).isZero();
    assertThat(AuditLog.tail(dir, 1).getFirst().event().target()).isEqualTo("dead-letter:9");
    assertThat(run("dlq", "purge", "--all", "--db", db.toString()).code()).isZero();
    AuditEvent purged = AuditLog.tail(dir, 1).getFirst().event();
    assertThat(purged.action()).isEqualTo("DELETE /v1/dead-letters");
    assertThat(purged.target()).isEqualTo("*");
    assertThat(purged.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    assertThat(AuditLog.tail(dir, 10)).hasSize(4);
  }

  @Test
  void aLocalPurgeIsRefusedWhenItCannotBeAudited() {
    try (AuditLog held = AuditLog.open(dir)) {
      Run purge = run("dlq", "purge", "--all", "--db", db.toString());
      assertThat(purge.code()).isEqualTo(ExitCode.FAILED);
      assertThat(purge.err()).contains("cannot record DELETE /v1/dead-letters in the audit log");
    }
    assertThat(run("dlq", "list", "--db", db.toString()).out()).contains("1 dead letter(s)");
  }

  @Test
  void storeCheckBackupAndRestore() throws Exception {
    Run check = run("store", "check", "--db", db.toString());
    assertThat(check.code()).isZero();
    assertThat(check.out()).startsWith("ok");

    Path backup = dir.resolve("backup.db");
    Run b = run("backup", "--to", backup.toString(), "--db", db.toString());
    assertThat(b.code()).isZero();
    assertThat(backup).exists();
    assertThat(b.out())
        .startsWith("backed up " + db + " to " + backup)
        .contains("pending")
        .contains("dead letters")
        .doesNotContain("BackupInfo[");

    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      j.acknowledge(message(8, "fine"), List.of()).join(); // after the backup
    }
    Run r = run("restore", "--from", backup.toString(), "--journal", db.toString());
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .startsWith("restored " + backup)
        .contains("moved aside to")
        .doesNotContain("RestoreInfo[");
    // a privileged action: recorded in the audit log of the journal's folder
    dev.cfn.store.audit.AuditEvent audited =
        dev.cfn.store.audit.AuditLog.tail(db.toAbsolutePath().getParent(), 1).getFirst().event();
    assertThat(audited.action()).isEqualTo("store.restore");
    assertThat(audited.outcome()).isEqualTo(dev.cfn.store.audit.AuditEvent.Outcome.SUCCESS);
    assertThat(audited.target()).isEqualTo(db.toAbsolutePath().normalize().toString());
    assertThat(audited.detail().get("from")).isEqualTo("backup.db");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith("cfn.db.before-restore-"));
    }
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      assertThat(j.recover()).extracting(e -> e.envelope().id()).containsExactly(8L);
    }
  }

  @Test
  void storeCheckAlsoChecksMemoryAndTheCallLog() throws Exception {
    Path memory = dir.resolve("memory.db");
    Path calls = dir.resolve("calls.db");
    try (SqliteMemoryStore m = SqliteMemoryStore.open(memory);
        SqliteCallLogStore c = SqliteCallLogStore.open(calls)) {
      m.put(MemoryAccessor.operator(), "notes", "k", "v");
      c.record("agent|m:1|t:x|1|model", "{\"text\":\"hi\"}");
    }
    Run ok =
        run(
            "store",
            "check",
            "--db",
            db.toString(),
            "--memory",
            memory.toString(),
            "--calls",
            calls.toString());
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("ok: " + memory).contains("ok: " + calls);

    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + memory);
        var sql = c.createStatement()) {
      sql.executeUpdate("UPDATE memory_entries SET value = 'tampered'");
    }
    Run bad = run("store", "check", "--db", db.toString(), "--memory", memory.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.out()).contains("problem(s) in " + memory).contains("notes/k");
    assertThat(bad.err().lines()).hasSize(1);

    Run asJson =
        run("store", "check", "--json", "--journal", db.toString(), "--memory", memory.toString());
    assertThat(asJson.code()).isEqualTo(1);
    var result = new com.fasterxml.jackson.databind.ObjectMapper().readTree(asJson.out());
    assertThat(result.get("ok").asBoolean()).isFalse();
    assertThat(result.at("/files/0/kind").asText()).isEqualTo("journal");
    assertThat(result.at("/files/0/ok").asBoolean()).isTrue();
    assertThat(result.at("/files/1/kind").asText()).isEqualTo("memory");
    assertThat(result.at("/files/1/problems/0").asText()).contains("notes/k");

    Run missing =
        run("store", "check", "--db", db.toString(), "--calls", dir.resolve("no.db").toString());
    assertThat(missing.code()).isEqualTo(2);
  }

  @Test
  void storeCheckAlsoChecksTheTokenFileAndNamesADamagedRecordByItsId() throws Exception {
    Path tokens = dir.resolve("tokens.db");
    IssuedToken kept = DamagedTokenFile.token(tokens, Role.ADMIN, "kept");
    IssuedToken damaged = DamagedTokenFile.token(tokens, Role.VIEWER, DamagedTokenFile.NOTE);
    Run ok = run("store", "check", "--journal", db.toString(), "--tokens", tokens.toString());
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("ok: " + tokens);

    DamagedTokenFile.damage(tokens, DamagedTokenFile.NOTE);
    Run bad = run("store", "check", "--journal", db.toString(), "--tokens", tokens.toString());
    assertThat(bad.code()).isEqualTo(ExitCode.FAILED);
    assertThat(bad.out())
        .contains("ok: " + db)
        .contains("1 problem(s) in " + tokens)
        .contains("api_tokens: record '" + damaged.token().id() + "' fails its checksum");
    assertThat(bad.out() + bad.err())
        .doesNotContain(damaged.secret())
        .doesNotContain(kept.secret());

    Run asJson =
        run("store", "check", "--json", "--journal", db.toString(), "--tokens", tokens.toString());
    assertThat(asJson.code()).isEqualTo(ExitCode.FAILED);
    var result = new com.fasterxml.jackson.databind.ObjectMapper().readTree(asJson.out());
    assertThat(result.get("ok").asBoolean()).isFalse();
    assertThat(result.at("/files/1/kind").asText()).isEqualTo("tokens");
    assertThat(result.at("/files/1/ok").asBoolean()).isFalse();
    assertThat(result.at("/files/1/problems/0").asText())
        .startsWith("api_tokens: record '" + damaged.token().id() + "' fails its checksum");

    Path notTokens = dir.resolve("not-tokens.db");
    Files.writeString(notTokens, "not a database at all, just some text that is long enough");
    Run garbage =
        run("store", "check", "--journal", db.toString(), "--tokens", notTokens.toString());
    assertThat(garbage.code()).isEqualTo(ExitCode.FAILED);
    assertThat(garbage.out()).contains("1 problem(s) in " + notTokens);
  }

  @Test
  void storeCheckNamesADamagedClientCertificateRecordByItsId() throws Exception {
    Path tokens = dir.resolve("tokens.db");
    DamagedTokenFile.token(tokens, Role.ADMIN, "kept");
    String damaged =
        DamagedTokenFile.certificate(tokens, Role.VIEWER, DamagedTokenFile.CERT_NOTE)
            .principal()
            .id();
    DamagedTokenFile.damage(tokens, DamagedTokenFile.CERT_NOTE);
    Run bad = run("store", "check", "--journal", db.toString(), "--tokens", tokens.toString());
    assertThat(bad.code()).isEqualTo(ExitCode.FAILED);
    assertThat(bad.out())
        .contains("1 problem(s) in " + tokens)
        .contains("client_certs: record '" + damaged + "' fails its checksum");
    Run asJson =
        run("store", "check", "--json", "--journal", db.toString(), "--tokens", tokens.toString());
    assertThat(asJson.code()).isEqualTo(ExitCode.FAILED);
    var result = new com.fasterxml.jackson.databind.ObjectMapper().readTree(asJson.out());
    assertThat(result.at("/files/1/problems/0").asText())
        .startsWith("client_certs: record '" + damaged + "' fails its checksum");
  }

  @Test
  void aMissingJournalIsNamedAndNothingIsCreated() {
    Path missing = dir.resolve("nope.db");
    Run r = run("dlq", "list", "--db", missing.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("no journal at").contains("--journal FILE");
    assertThat(missing).doesNotExist();
    assertThat(run("store", "check", "--db", missing.toString()).code()).isEqualTo(2);
  }

  @Test
  void dlqListAndShowWorkBesideARunningWriter() {
    try (SqliteJournal owner = SqliteJournal.builder(db).open()) {
      Run list = run("dlq", "list", "--journal", db.toString());
      assertThat(list.code()).as(list.err()).isZero();
      assertThat(list.out()).contains("gave up: boom 1").contains("1 dead letter(s)");
      Run show = run("dlq", "show", "7", "--journal", db.toString());
      assertThat(show.code()).as(show.err()).isZero();
      assertThat(show.out()).contains("poison");
      // the owner still writes, and the next look sees it
      owner.deadLetter(message(8, "fine"), 2, "second").join();
      assertThat(run("dlq", "list", "--journal", db.toString()).out()).contains("2 dead letter(s)");
      assertThat(run("store", "quarantine", "list", "--journal", db.toString()).code()).isZero();
      // writing commands still need the runtime stopped
      Run purge = run("dlq", "purge", "--all", "--journal", db.toString());
      assertThat(purge.code()).isEqualTo(2);
      assertThat(purge.err()).contains("in use");
    }
  }

  @Test
  void quarantineListsShowsAndPurgesADamagedPendingRecord() throws Exception {
    String marker = "DAMAGE-ME-0123456789";
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      j.append(message(20, marker));
    }
    FileDamage.flipByteOf(db, marker, 3); // DAMAGE becomes DAM@GE: the checksum no longer matches
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      assertThat(j.recover()).extracting(e -> e.envelope().id()).containsExactly(8L);
    }

    Run list = run("store", "quarantine", "list", "--journal", db.toString());
    assertThat(list.code()).as(list.err()).isZero();
    assertThat(list.out())
        .contains("20")
        .contains("worker/1")
        .contains("checksum mismatch")
        .contains("1 quarantined record(s)");
    Run show = run("store", "quarantine", "show", "20", "--journal", db.toString());
    assertThat(show.code()).as(show.err()).isZero();
    assertThat(show.out()).contains("from table:      messages").contains("DAM@GE-ME");
    Run json = run("store", "quarantine", "show", "20", "--json", "--journal", db.toString());
    assertThat(json.out()).contains("\"problem\"").contains("\"columns\"").contains("20");
    assertThat(run("store", "quarantine", "show", "21", "--journal", db.toString()).code())
        .isEqualTo(1);

    Run purge = run("store", "quarantine", "purge", "20", "--journal", db.toString());
    assertThat(purge.code()).as(purge.err()).isZero();
    assertThat(purge.out()).contains("deleted quarantined record 20");
    assertThat(run("store", "quarantine", "purge", "20", "--journal", db.toString()).code())
        .isEqualTo(1);
    assertThat(run("store", "quarantine", "list", "--journal", db.toString()).out())
        .contains("0 quarantined record(s)");
    assertThat(run("store", "check", "--journal", db.toString()).code()).isZero();
  }
}
