package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.fixture.DamagedTokenFile;
import dev.cfn.server.tls.ClientIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn cert issue|trust|list|revoke} with a real {@code cfn serve --client-certs}: an issued
 * certificate (one 0600 PEM with its key) lets {@code dlq list --server URL --client-cert FILE}
 * work without any token, as its principal; a revoked one is refused (exit 3, saying it was the
 * certificate); a trusted one from elsewhere gets its role and no more.
 */
class CertCommandTest {
  @TempDir static Path home;
  @TempDir Path out;
  static CfnServer server;

  @BeforeAll
  static void start() throws Exception {
    server = CfnServer.builder(home).port(0).clientCertificates(true).start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void environmentBack() {
    ServerOptions.environment = System.getenv();
  }

  static CliRun withCertificate(Path pem, String... args) {
    ServerOptions.environment = Map.of(); // no CFN_TOKEN: the certificate alone
    String[] all = new String[args.length + 6];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--server";
    all[args.length + 1] = server.url();
    all[args.length + 2] = "--fingerprint";
    all[args.length + 3] = server.fingerprint().orElseThrow();
    all[args.length + 4] = "--client-cert";
    all[args.length + 5] = pem.toString();
    return CliRun.run(all);
  }

  @Test
  void anIssuedCertificateAuthenticatesTheCliUntilItIsRevoked() throws Exception {
    Path pem = out.resolve("ops.pem");
    CliRun issued =
        CliRun.run(
            "cert",
            "issue",
            "--role",
            "operator",
            "--out",
            pem.toString(),
            "--name",
            "ops",
            "--home",
            home.toString());
    assertThat(issued.code()).as(issued.err()).isZero();
    assertThat(issued.out()).contains("issued client certificate crt_", "role operator", "SHA-256");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pem)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(pem)).contains("BEGIN CERTIFICATE", "BEGIN PRIVATE KEY");
    String id = issued.out().replaceAll("(?s).*(crt_[0-9a-f]{12}).*", "$1");

    CliRun list = withCertificate(pem, "dlq", "list");
    assertThat(list.code()).as(list.err()).isZero();

    CliRun listed = CliRun.run("cert", "list", "--json", "--home", home.toString());
    assertThat(listed.out()).contains(id, "\"state\" : \"active\"", "CN=ops");

    assertThat(CliRun.run("cert", "revoke", id, "--home", home.toString()).code()).isZero();
    // a revocation by another process takes effect once the server's cached record is older than
    // TokenStore.CACHE_FOR (the documented bound); wait that bound out, then it must be refused
    Thread.sleep(dev.cfn.server.auth.TokenStore.CACHE_FOR.toMillis() + 100);
    CliRun refused = withCertificate(pem, "dlq", "list");
    assertThat(refused.code()).isEqualTo(ExitCode.DENIED);
    assertThat(refused.err()).contains("refused the client certificate", "was revoked");
  }

  @Test
  void aTrustedCertificateGetsItsRoleAndNoMore() throws Exception {
    Instant now = Instant.now();
    ClientIdentity mine =
        ClientIdentity.generate("from-my-ca", now.minusSeconds(60), now.plus(Duration.ofDays(2)));
    Path pem = out.resolve("mine.pem");
    mine.writePem(pem);
    Path crt = out.resolve("mine.crt");
    Files.writeString(
        crt,
        Files.readString(pem).substring(0, Files.readString(pem).indexOf("-----BEGIN PRIVATE")));
    CliRun trusted =
        CliRun.run("cert", "trust", crt.toString(), "--role", "viewer", "--home", home.toString());
    assertThat(trusted.code()).as(trusted.err()).isZero();
    assertThat(trusted.out()).contains("trusted client certificate crt_", "role viewer");
    assertThat(withCertificate(pem, "dlq", "list").code()).isZero();
    CliRun purge = withCertificate(pem, "dlq", "purge", "--all");
    assertThat(purge.code()).isEqualTo(ExitCode.DENIED);
    assertThat(purge.err()).contains("needs the role admin");
    // trusting it twice is refused, and changes nothing
    CliRun again =
        CliRun.run("cert", "trust", crt.toString(), "--role", "admin", "--home", home.toString());
    assertThat(again.code()).isEqualTo(ExitCode.USAGE);
    assertThat(again.err()).contains("trusted already");
  }

  @Test
  void listMarksDamagedRecordsAndNeverPrintsAKey() throws Exception {
    Path mine = out.resolve("home");
    Files.createDirectories(mine);
    String h = mine.toString();
    java.util.Map<String, String> ids = new java.util.HashMap<>();
    List<String> pems = new java.util.ArrayList<>();
    for (String note : List.of("intact", DamagedTokenFile.CERT_NOTE, "unreadable")) {
      Path pem = out.resolve(note + ".pem");
      CliRun issued =
          CliRun.run(
              "cert",
              "issue",
              "--role",
              "viewer",
              "--note",
              note,
              "--out",
              pem.toString(),
              "--home",
              h);
      assertThat(issued.code()).as(issued.err()).isZero();
      ids.put(note, issued.out().replaceAll("(?s).*(crt_[0-9a-f]{12}).*", "$1"));
      pems.add(Files.readString(pem));
    }
    Path file = mine.resolve(TokenStore.DEFAULT_FILE);
    DamagedTokenFile.damage(file, DamagedTokenFile.CERT_NOTE);
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
        java.sql.Statement sql = c.createStatement()) {
      assertThat(
              sql.executeUpdate("UPDATE client_certs SET role = 'root' WHERE note = 'unreadable'"))
          .isEqualTo(1);
    }

    DamagedListing listed =
        DamagedListing.of(
            "cert", h, ids, DamagedTokenFile.CERT_NOTE, "3 client certificate(s), 2 DAMAGED");
    assertThat(listed.rows().get(ids.get(DamagedTokenFile.CERT_NOTE))).contains("CN=cfn client");
    assertThat(listed.byId().get(ids.get("unreadable")).path("fingerprint").isNull()).isTrue();

    String printed = listed.printed();
    assertThat(printed).doesNotContain("PRIVATE KEY").doesNotContain("BEGIN CERTIFICATE");
    for (String pem : pems) {
      String key = pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY-----") + 28);
      for (String line : key.lines().limit(2).toList()) {
        assertThat(printed).doesNotContain(line);
      }
    }
  }
}
