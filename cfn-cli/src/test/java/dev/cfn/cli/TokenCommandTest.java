package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.fixture.DamagedTokenFile;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn token create|list|revoke}: the token alone on the last line of stdout, shown once and
 * never stored (no file under .cfn holds it), listed by id, refused by the store once revoked.
 */
class TokenCommandTest {
  @TempDir Path home;

  @Test
  void tokenCreateAndCertIssueShareTheirGrantOptionsEachNamingItsOwnList() {
    CliRun token = CliRun.run("token", "create", "--help");
    CliRun cert = CliRun.run("cert", "issue", "--help");
    assertThat(token.code()).isZero();
    assertThat(cert.code()).isZero();
    for (CliRun help : List.of(token, cert)) {
      assertThat(help.out()).contains("--role=ROLE", "--scope=SCOPE", "--expires=DURATION");
    }
    assertThat(token.out()).contains("A label for cfn token list.");
    assertThat(cert.out()).contains("A label for cfn cert list.");
  }

  @Test
  void createPrintsTheTokenOnceAndStoresOnlyItsHash() throws Exception {
    CliRun created =
        CliRun.run(
            "token",
            "create",
            "--role",
            "operator",
            "--scope",
            "agent:planner",
            "--expires",
            "7d",
            "--home",
            home.toString());
    assertThat(created.code()).as(created.err()).isZero();
    List<String> lines = created.out().lines().toList();
    String secret = lines.getLast();
    assertThat(secret).matches("cfn_[A-Za-z0-9_-]{43}");
    assertThat(lines.getFirst()).contains("role operator", "agent:planner").doesNotContain(secret);
    try (Stream<Path> files = Files.walk(home.resolve(".cfn"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1))
            .as(f.toString())
            .doesNotContain(secret.substring(4));
      }
    }
    CliRun list = CliRun.run("token", "list", "--json", "--home", home.toString());
    assertThat(list.code()).isZero();
    assertThat(list.out()).contains("\"state\" : \"active\"").doesNotContain(secret);
    String id = list.out().replaceAll("(?s).*\"id\" : \"(tok_[0-9a-f]{12})\".*", "$1");
    assertThat(CliRun.run("token", "revoke", id, "--home", home.toString()).code()).isZero();
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      assertThat(store.authenticate(secret).verdict()).isEqualTo(TokenStore.Verdict.REVOKED);
    }
    assertThat(CliRun.run("token", "list", "--home", home.toString()).out()).contains("revoked");
  }

  /**
   * {@code cfn token check}: clean after create and revoke; names a record edited behind its back.
   */
  @Test
  void checkPassesACleanFileAndNamesAnEditedRecord() throws Exception {
    String h = home.toString();
    assertThat(CliRun.run("token", "check", "--home", h).code())
        .as("no token file yet")
        .isEqualTo(ExitCode.USAGE);
    CliRun created =
        CliRun.run("token", "create", "--role", "viewer", "--expires", "7d", "--home", h);
    assertThat(created.code()).as(created.err()).isZero();
    String secret = created.out().lines().toList().getLast();
    String id;
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      id = store.list().getFirst().id();
    }
    CliRun clean = CliRun.run("token", "check", "--home", h);
    assertThat(clean.code()).as(clean.err()).isZero();
    assertThat(clean.out()).contains("passed the integrity check and every checksum");

    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(
                "jdbc:sqlite:" + home.resolve(TokenStore.DEFAULT_FILE));
        java.sql.Statement sql = c.createStatement()) {
      assertThat(sql.executeUpdate("UPDATE api_tokens SET role = 'admin'")).isEqualTo(1);
    }
    CliRun damaged = CliRun.run("token", "check", "--home", h);
    assertThat(damaged.code()).isEqualTo(ExitCode.FAILED);
    assertThat(damaged.out())
        .contains("api_tokens: record '" + id + "' fails its checksum")
        .doesNotContain(secret);
    assertThat(damaged.err()).contains("cfn token revoke");
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      assertThat(store.authenticate(secret).verdict()).isEqualTo(TokenStore.Verdict.DAMAGED);
    }
  }

  /**
   * {@code cfn token list} marks a record that fails its checksum (a flipped byte, or a role no cfn
   * knows) as DAMAGED, in the table and in the JSON, lists the intact ones as before, exits 0 and
   * never prints a secret.
   */
  @Test
  void listMarksDamagedRecordsAndNeverPrintsASecret() throws Exception {
    String h = home.toString();
    List<String> secrets = new java.util.ArrayList<>();
    for (String note : List.of("intact", DamagedTokenFile.NOTE, "unreadable")) {
      CliRun created =
          CliRun.run("token", "create", "--role", "viewer", "--note", note, "--home", h);
      assertThat(created.code()).as(created.err()).isZero();
      secrets.add(created.out().lines().toList().getLast());
    }
    java.util.Map<String, String> ids = new java.util.HashMap<>();
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      for (TokenStore.Listed t : store.list()) {
        assertThat(t.damaged()).isFalse();
        ids.put(t.token().note(), t.id());
      }
    }
    Path file = home.resolve(TokenStore.DEFAULT_FILE);
    DamagedTokenFile.damage(file, DamagedTokenFile.NOTE);
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
        java.sql.Statement sql = c.createStatement()) {
      assertThat(sql.executeUpdate("UPDATE api_tokens SET role = 'root' WHERE note = 'unreadable'"))
          .isEqualTo(1);
    }

    DamagedListing listed =
        DamagedListing.of("token", h, ids, DamagedTokenFile.NOTE, "3 token(s), 2 DAMAGED");

    for (String secret : secrets) {
      assertThat(listed.printed()).doesNotContain(secret);
    }
  }

  @Test
  void refusedInputCreatesNoTokenFile() {
    assertThat(CliRun.run("token", "create", "--role", "root", "--home", home.toString()).code())
        .isEqualTo(ExitCode.USAGE);
    assertThat(home.resolve(".cfn")).doesNotExist();
  }

  @Test
  void creatingAndRevokingATokenAreAuditedWithItsIdNeverItsSecret() throws Exception {
    CliRun created = CliRun.run("token", "create", "--role", "viewer", "--home", home.toString());
    assertThat(created.code()).as(created.err()).isZero();
    String id = created.out().lines().findFirst().orElseThrow().split("[ ,]")[1];
    assertThat(id).startsWith("tok_");
    AuditEvent made = AuditLog.tail(home.resolve(".cfn"), 1).getFirst().event();
    assertThat(made.action()).isEqualTo("token.create");
    assertThat(made.target()).isEqualTo("token:" + id);
    assertThat(made.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    assertThat(made.detail()).containsEntry("role", "viewer");
    assertThat(made.principal()).startsWith("user:");

    CliRun revoked = CliRun.run("token", "revoke", id, "--home", home.toString());
    assertThat(revoked.code()).as(revoked.err()).isZero();
    AuditEvent gone = AuditLog.tail(home.resolve(".cfn"), 1).getFirst().event();
    assertThat(gone.action()).isEqualTo("token.revoke");
    assertThat(gone.target()).isEqualTo("token:" + id);
    assertThat(CliRun.run("audit", "verify", "--home", home.toString()).code()).isZero();
  }

  @Test
  void aTokenCreatedAndRevokedWhileANodeHoldsTheAuditLogIsRecordedByTheNodeOnce() throws Exception {
    Path cfn = home.resolve(".cfn");
    try (CfnServer node = CfnServer.builder(home).port(0).start()) {
      CliRun created = CliRun.run("token", "create", "--role", "viewer", "--home", home.toString());
      assertThat(created.code()).as(created.err()).isZero();
      assertThat(created.out().lines().toList().getLast()).startsWith("cfn_");
      assertThat(created.err()).contains("cfn token create: token.create is queued in tokens.db");
      String id = created.out().lines().findFirst().orElseThrow().split("[ ,]")[1];
      CliRun revoked = CliRun.run("token", "revoke", id, "--home", home.toString());
      assertThat(revoked.code()).as(revoked.err()).isZero();
      // the node moves the queued events in as often as it re-reads tokens
      List<AuditEvent> moved = List.of();
      for (int i = 0; i < 200 && moved.size() < 2; i++) {
        Thread.sleep(50);
        moved = tokenEvents(cfn);
      }
      assertThat(moved)
          .extracting(AuditEvent::action)
          .containsExactly("token.create", "token.revoke");
      assertThat(moved).extracting(AuditEvent::target).containsOnly("token:" + id);
      assertThat(moved.getFirst().detail()).containsEntry("role", "viewer");
      assertThat(moved.getFirst().principal()).startsWith("user:");
      try (TokenStore tokens = TokenStore.open(cfn.resolve("tokens.db"))) {
        assertThat(tokens.queuedAuditEvents()).isZero();
      }
    }
    // once, also after a later command that can open the log drains again
    CliRun list = CliRun.run("token", "create", "--role", "agent", "--home", home.toString());
    assertThat(list.code()).as(list.err()).isZero();
    assertThat(list.err()).isEmpty();
    assertThat(tokenEvents(cfn))
        .extracting(AuditEvent::action)
        .containsExactly("token.create", "token.revoke", "token.create");
    assertThat(CliRun.run("audit", "verify", "--home", home.toString()).code()).isZero();
  }

  @Test
  void eventsQueuedWhileTheLogWasHeldAreMovedInOnceByTheNextCommandThatCanOpenIt()
      throws Exception {
    Path cfn = home.resolve(".cfn");
    Files.createDirectories(cfn);
    try (AuditLog held = AuditLog.open(cfn)) {
      held.append(
          AuditEvent.now(
              "cfn", "server.start", "", AuditEvent.Outcome.SUCCESS, java.util.Map.of()));
      CliRun created = CliRun.run("token", "create", "--role", "viewer", "--home", home.toString());
      assertThat(created.code()).as(created.err()).isZero();
      assertThat(created.err()).contains("token.create is queued in tokens.db");
    }
    assertThat(tokenEvents(cfn)).isEmpty();
    CliRun second = CliRun.run("token", "create", "--role", "admin", "--home", home.toString());
    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.err()).isEmpty();
    assertThat(tokenEvents(cfn))
        .extracting(e -> e.detail().get("role"))
        .containsExactly("viewer", "admin");
  }

  private static List<AuditEvent> tokenEvents(Path cfn) {
    if (!Files.exists(cfn.resolve(AuditLog.FOLDER).resolve(AuditLog.FILE))) {
      return List.of();
    }
    return AuditLog.tail(cfn, 100).stream()
        .map(dev.cfn.store.audit.AuditEntry::event)
        .filter(e -> e.action().startsWith("token."))
        .toList();
  }

  @Test
  void issuingTrustingAndRevokingACertificateAreAuditedWithItsFingerprintNeverItsKey()
      throws Exception {
    Path pem = home.resolve("client.pem");
    CliRun issued =
        CliRun.run(
            "cert",
            "issue",
            "--role",
            "operator",
            "--scope",
            "agent:planner",
            "--out",
            pem.toString(),
            "--home",
            home.toString());
    assertThat(issued.code()).as(issued.err()).isZero();
    String id = issued.out().replaceAll("(?s).*(crt_[0-9a-f]{12}).*", "$1");
    String fingerprint = issued.out().replaceAll("(?s).*SHA-256 (\\S+).*", "$1");
    AuditEvent made = AuditLog.tail(home.resolve(".cfn"), 1).getFirst().event();
    assertThat(made.action()).isEqualTo("cert.issue");
    assertThat(made.target()).isEqualTo("cert:" + id);
    assertThat(made.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    assertThat(made.detail())
        .containsEntry("role", "operator")
        .containsEntry("scopes", "agent:planner")
        .containsEntry("fingerprint", fingerprint)
        .containsKey("expires");
    String key =
        Files.readString(pem).replaceAll("(?s).*-----BEGIN PRIVATE KEY-----\\s*(\\S{40}).*", "$1");
    try (Stream<Path> files = Files.walk(home.resolve(".cfn"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1))
            .as(f.toString())
            .doesNotContain(key);
      }
    }

    CliRun revoked = CliRun.run("cert", "revoke", id, "--home", home.toString());
    assertThat(revoked.code()).as(revoked.err()).isZero();
    AuditEvent gone = AuditLog.tail(home.resolve(".cfn"), 1).getFirst().event();
    assertThat(gone.action()).isEqualTo("cert.revoke");
    assertThat(gone.target()).isEqualTo("cert:" + id);

    Path other = home.resolve("other.pem");
    java.time.Instant now = java.time.Instant.now();
    dev.cfn.server.tls.ClientIdentity.generate(
            "other", now.minusSeconds(60), now.plus(java.time.Duration.ofDays(2)))
        .writePem(other);
    CliRun trusted =
        CliRun.run(
            "cert", "trust", other.toString(), "--role", "viewer", "--home", home.toString());
    assertThat(trusted.code()).as(trusted.err()).isZero();
    AuditEvent trust = AuditLog.tail(home.resolve(".cfn"), 1).getFirst().event();
    assertThat(trust.action()).isEqualTo("cert.trust");
    assertThat(trust.detail()).containsEntry("role", "viewer").containsKey("fingerprint");
    assertThat(CliRun.run("audit", "verify", "--home", home.toString()).code()).isZero();
  }
}
