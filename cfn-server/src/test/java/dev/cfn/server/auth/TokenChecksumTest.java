package dev.cfn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.MovingClock;
import dev.cfn.server.fixture.DamagedTokenFile;
import dev.cfn.server.tls.ClientIdentity;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.StoreConnection;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every token record carries a checksum: {@link TokenStore#check()} lists a record that was edited
 * behind the store's back or whose bytes were damaged, and {@link TokenStore#authenticate} refuses
 * it ({@link TokenStore.Verdict#DAMAGED}) whatever it says; a revocation keeps the record valid; a
 * file written before checksums existed gets them once, on its upgrade.
 */
class TokenChecksumTest {
  static final String ACTOR = "user:test";

  @TempDir Path dir;

  private static final MovingClock CLOCK = new MovingClock();

  private static void sql(Path file, String statement, Object... args) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        PreparedStatement s = c.prepareStatement(statement)) {
      for (int i = 0; i < args.length; i++) {
        s.setObject(i + 1, args[i]);
      }
      assertThat(s.executeUpdate()).as(statement).isEqualTo(1);
    }
  }

  @Test
  void anIntactFileChecksCleanAfterCreatesAndARevocation() {
    try (TokenStore store = TokenStore.open(dir.resolve("tokens.db"), CLOCK)) {
      IssuedToken a = store.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "a", ACTOR);
      IssuedToken b = store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "b", ACTOR);
      assertThat(store.revoke(b.token().id(), ACTOR)).isTrue();
      assertThat(store.check()).isEqualTo(new StoreCheck(true, List.of()));
      assertThat(store.authenticate(a.secret()).verdict()).isEqualTo(TokenStore.Verdict.ACCEPTED);
      assertThat(store.authenticate(b.secret()).verdict()).isEqualTo(TokenStore.Verdict.REVOKED);
    }
  }

  @Test
  void aRecordEditedBehindTheStoresBackIsListedAndRefused() throws Exception {
    Path file = dir.resolve("tokens.db");
    IssuedToken viewer;
    IssuedToken other;
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      viewer = store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "low", ACTOR);
      other = store.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "other", ACTOR);
    }
    sql(file, "UPDATE api_tokens SET role = 'admin' WHERE id = ?", viewer.token().id());
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      StoreCheck check = store.check();
      assertThat(check.ok()).isFalse();
      assertThat(check.problems())
          .singleElement()
          .asString()
          .startsWith("api_tokens: record '" + viewer.token().id() + "' fails its checksum")
          .doesNotContain(viewer.secret());
      TokenStore.Check refused = store.authenticate(viewer.secret());
      assertThat(refused.verdict()).isEqualTo(TokenStore.Verdict.DAMAGED);
      assertThat(refused.token()).as("the edited role is never handed out").isNull();
      assertThat(store.authenticate(other.secret()).verdict())
          .isEqualTo(TokenStore.Verdict.ACCEPTED);
      // revoking the damaged record still revokes it, and it keeps failing its checksum
      assertThat(store.revoke(viewer.token().id(), ACTOR)).isTrue();
      assertThat(store.check().problems()).hasSize(1);
      assertThat(store.authenticate(viewer.secret()).verdict())
          .isEqualTo(TokenStore.Verdict.DAMAGED);
    }
  }

  @Test
  void aFlippedByteInTheFileIsListedAndRefused() throws Exception {
    Path file = dir.resolve("tokens.db");
    IssuedToken t;
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      t =
          store.create(
              Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), DamagedTokenFile.NOTE, ACTOR);
    }
    DamagedTokenFile.damage(file, DamagedTokenFile.NOTE);
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      assertThat(store.check().problems())
          .singleElement()
          .asString()
          .contains(t.token().id())
          .contains("fails its checksum");
      assertThat(store.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.DAMAGED);
      // listed, marked, with what the record says; not hidden and not thrown
      TokenStore.Listed listed = store.list().getFirst();
      assertThat(listed.id()).isEqualTo(t.token().id());
      assertThat(listed.damaged()).isTrue();
      assertThat(listed.damage()).startsWith("fails its checksum");
      assertThat(listed.token().role()).isEqualTo(Role.AGENT);
    }
  }

  @Test
  void aFileFromBeforeChecksumsGetsThemOnItsUpgradeAndNeverAgain() throws Exception {
    Path file = dir.resolve("tokens.db");
    Migrations v2 = v2();
    String secret = "cfn_" + "A".repeat(43);
    try (StoreConnection old = StoreConnection.open(file, CLOCK, v2, "move it away")) {
      old.inWriteTransaction(
          "an old token",
          c -> {
            try (PreparedStatement insert =
                c.prepareStatement(
                    "INSERT INTO api_tokens (id, hash, role, scopes, created_at, expires_at,"
                        + " revoked_at, note) VALUES ('tok_000000000001', ?, 'agent', '*', ?, ?,"
                        + " NULL, 'old')")) {
              insert.setBytes(1, TokenStore.hash(secret));
              insert.setLong(2, CLOCK.millis());
              insert.setLong(3, CLOCK.millis() + Duration.ofDays(1).toMillis());
              insert.executeUpdate();
            }
            return null;
          });
    }
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      assertThat(store.check().problems()).isEmpty();
      assertThat(store.authenticate(secret).verdict()).isEqualTo(TokenStore.Verdict.ACCEPTED);
    }
    // once upgraded, a record whose checksum is gone is a problem, not filled in again
    sql(file, "UPDATE api_tokens SET crc = NULL WHERE id = 'tok_000000000001'");
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      assertThat(store.check().problems())
          .containsExactly("api_tokens: record 'tok_000000000001' has no checksum");
      assertThat(store.authenticate(secret).verdict()).isEqualTo(TokenStore.Verdict.DAMAGED);
    }
  }

  private static X509Certificate certificate(String name) {
    Instant now = CLOCK.instant();
    return ClientIdentity.generate(name, now.minusSeconds(60), now.plus(Duration.ofDays(2)))
        .certificate();
  }

  @Test
  void aFlippedByteInAClientCertificateRecordIsListedMarkedAndRefused() throws Exception {
    Path file = dir.resolve("tokens.db");
    X509Certificate damaged = certificate("damaged");
    X509Certificate intact = certificate("intact");
    String id;
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      id =
          store
              .trustCertificate(
                  damaged,
                  Role.AGENT,
                  List.of(Scope.ALL),
                  Duration.ofDays(1),
                  DamagedTokenFile.CERT_NOTE,
                  ACTOR,
                  "cert.trust")
              .principal()
              .id();
      store.trustCertificate(
          intact, Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "ok", ACTOR, "cert.trust");
      assertThat(store.certificates()).noneMatch(TokenStore.ListedCertificate::damaged);
    }
    DamagedTokenFile.damage(file, DamagedTokenFile.CERT_NOTE);
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      assertThat(store.check().problems()) // one problem, worded as for tokens
          .singleElement()
          .asString()
          .startsWith("client_certs: record '" + id + "' fails its checksum");
      assertThat(store.authenticateCertificate(damaged).verdict())
          .isEqualTo(TokenStore.Verdict.DAMAGED);
      assertThat(store.authenticateCertificate(intact).verdict())
          .isEqualTo(TokenStore.Verdict.ACCEPTED);
      // listed, marked, with what the record says; not hidden and not thrown
      List<TokenStore.ListedCertificate> all = store.certificates();
      assertThat(all).hasSize(2);
      TokenStore.ListedCertificate listed =
          all.stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
      assertThat(listed.damaged()).isTrue();
      assertThat(listed.damage()).startsWith("fails its checksum");
      assertThat(listed.certificate().principal().role()).isEqualTo(Role.AGENT);
      assertThat(listed.certificate().fingerprint())
          .isEqualTo(ClientCertificate.fingerprintOf(damaged));
    }
    // a record no cfn could have written (an unknown role) is still listed, by its id
    sql(file, "UPDATE client_certs SET role = 'root' WHERE id = ?", id);
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      TokenStore.ListedCertificate listed =
          store.certificates().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
      assertThat(listed.damaged()).isTrue();
      assertThat(listed.certificate()).isNull();
    }
  }

  @Test
  void aClientCertificateFromBeforeChecksumsGetsOneOnTheUpgrade() throws Exception {
    Path file = dir.resolve("tokens.db");
    X509Certificate cert = certificate("old");
    try (StoreConnection old = StoreConnection.open(file, CLOCK, v2(), "move it away")) {
      old.inWriteTransaction(
          "an old client certificate",
          c -> {
            try (PreparedStatement insert =
                c.prepareStatement(
                    "INSERT INTO client_certs (id, fingerprint, subject, not_after, role, scopes,"
                        + " created_at, expires_at, revoked_at, note) VALUES ('crt_000000000001',"
                        + " ?, 'CN=old', ?, 'viewer', '*', ?, ?, NULL, 'old')")) {
              insert.setBytes(1, ClientCertificate.sha256(cert));
              insert.setLong(2, cert.getNotAfter().getTime());
              insert.setLong(3, CLOCK.millis());
              insert.setLong(4, CLOCK.millis() + Duration.ofDays(1).toMillis());
              insert.executeUpdate();
            }
            return null;
          });
    }
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      assertThat(store.check().problems()).isEmpty();
      assertThat(store.certificates()).singleElement().matches(c -> !c.damaged());
      assertThat(store.authenticateCertificate(cert).verdict())
          .isEqualTo(TokenStore.Verdict.ACCEPTED);
    }
    sql(file, "UPDATE client_certs SET crc = NULL WHERE id = 'crt_000000000001'");
    try (TokenStore store = TokenStore.open(file, CLOCK)) {
      assertThat(store.check().problems())
          .containsExactly("client_certs: record 'crt_000000000001' has no checksum");
      assertThat(store.certificates().getFirst().damage()).isEqualTo("has no checksum");
      assertThat(store.authenticateCertificate(cert).verdict())
          .isEqualTo(TokenStore.Verdict.DAMAGED);
    }
  }

  /** The token file's schema before records had checksums. */
  private static Migrations v2() {
    return new Migrations(
        TokenStore.APPLICATION_ID,
        "token file",
        "tokens",
        "token store",
        TokenStoreException::new,
        TokenStore.SCHEMA.list().subList(0, 2));
  }
}
