package dev.cfn.server.auth;

import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.StoreConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The API tokens of a node, in an SQLite file of their own ({@code .cfn/tokens.db}, owner-only
 * {@code 0600}, opened through cfn-store's {@link StoreConnection} and versioned by its {@link
 * Migrations}; {@code cfn token} may use it while {@code cfn serve} runs).
 *
 * <p>A token is 256 bits from {@link SecureRandom}, written {@code cfn_} and 43 base64url
 * characters. It is shown once, at {@link #create}, and the file keeps only its SHA-256. A plain
 * hash is enough here: slow password hashes (bcrypt, Argon2) exist to make guessing a low-entropy
 * human password expensive, but no one can enumerate 2^256 candidates at any hash speed, and a fast
 * hash lets every request be checked in microseconds. A copy of the file therefore lets no one call
 * the API. The lookup is by hash, so the comparison itself never runs over the secret.
 */
public final class TokenStore implements AutoCloseable {
  /** Where a node keeps its tokens, under its home folder. */
  public static final Path DEFAULT_FILE = Path.of(".cfn", "tokens.db");

  /** {@code PRAGMA application_id} of a token file: "cfnt". */
  static final int APPLICATION_ID = 0x63666e74;

  /** The longest note accepted. */
  public static final int MAX_NOTE_CHARS = 200;

  /** The longest life a token may be given. */
  public static final Duration MAX_LIFETIME = Duration.ofDays(3650);

  private static final String PREFIX = "cfn_";
  private static final int SECRET_BYTES = 32;

  static final Migrations SCHEMA =
      new Migrations(
          APPLICATION_ID,
          "token file",
          "tokens",
          "token store",
          TokenStoreException::new,
          List.of(
              new Migrations.Migration(
                  1,
                  "api_tokens: SHA-256 of each token, its role, scopes and expiry",
                  List.of(
                      """
                      CREATE TABLE api_tokens (
                        id TEXT PRIMARY KEY,
                        hash BLOB NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        scopes TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER,
                        note TEXT NOT NULL
                      )
                      """)),
              new Migrations.Migration(
                  2,
                  "client_certs: SHA-256 of each trusted client certificate (mTLS), its role,"
                      + " scopes and expiry",
                  List.of(
                      """
                      CREATE TABLE client_certs (
                        id TEXT PRIMARY KEY,
                        fingerprint BLOB NOT NULL UNIQUE,
                        subject TEXT NOT NULL,
                        not_after INTEGER NOT NULL,
                        role TEXT NOT NULL,
                        scopes TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER,
                        note TEXT NOT NULL
                      )
                      """))));

  /**
   * How long {@link #authenticate} may answer from a token's cached record before it reads the file
   * again: the bound on how late a revocation made by another process (a {@code cfn token revoke}
   * while {@code cfn serve} runs) takes effect. A revocation through this store is immediate.
   */
  public static final Duration CACHE_FOR = Duration.ofSeconds(1);

  /** At most this many tokens are cached; past it the cache starts over. */
  static final int CACHE_MAX = 10_000;

  private final StoreConnection db;
  private final Clock clock;

  /**
   * Known tokens by the hex of their hash, with when they were read: the hot path of every request
   * is a map lookup instead of a query on the one connection. Unknown tokens are never cached (a
   * new token works at once; floods of wrong ones are throttled by the server per address).
   */
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(ApiToken token, long readAtMillis) {}

  private final SecureRandom random = new SecureRandom();

  private TokenStore(StoreConnection db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Opens (creating it when missing) the token file {@code file}. */
  public static TokenStore open(Path file) {
    return open(file, Clock.systemUTC());
  }

  /** Opens {@code file} with {@code clock} for creation and expiry times (tests move it). */
  public static TokenStore open(Path file, Clock clock) {
    Objects.requireNonNull(file, "file");
    return new TokenStore(
        StoreConnection.open(
            file, clock, SCHEMA, "move it away and create new tokens with cfn token create"),
        clock);
  }

  /** The file. */
  public Path file() {
    return db.file();
  }

  /**
   * Issues a token.
   *
   * @param role what it may do
   * @param scopes what it may act for; at least one
   * @param lifetime how long it is valid, from now; positive, at most {@link #MAX_LIFETIME}
   * @param note a label for {@code cfn token list}, at most {@link #MAX_NOTE_CHARS} characters
   * @throws IllegalArgumentException for an empty scope list, a bad lifetime or note
   */
  public IssuedToken create(Role role, List<Scope> scopes, Duration lifetime, String note) {
    String label = checkGrant(role, scopes, lifetime, note, "token");
    byte[] secret = new byte[SECRET_BYTES];
    random.nextBytes(secret);
    String text = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Arrays.fill(secret, (byte) 0);
    byte[] idBytes = new byte[6];
    random.nextBytes(idBytes);
    Instant now = clock.instant();
    ApiToken token =
        new ApiToken(
            "tok_" + HexFormat.of().formatHex(idBytes),
            role,
            scopes,
            now,
            now.plus(lifetime),
            null,
            label);
    db.inWriteTransaction(
        "store the new token",
        c -> {
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO api_tokens (id, hash, role, scopes, created_at, expires_at,"
                      + " revoked_at, note) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)")) {
            insert.setString(1, token.id());
            insert.setBytes(2, hash(text));
            insert.setString(3, role.label());
            insert.setString(4, joinScopes(token.scopes()));
            insert.setLong(5, token.createdAt().toEpochMilli());
            insert.setLong(6, token.expiresAt().toEpochMilli());
            insert.setString(7, label);
            insert.executeUpdate();
          }
          return null;
        });
    return new IssuedToken(text, token);
  }

  private static String checkGrant(
      Role role, List<Scope> scopes, Duration lifetime, String note, String what) {
    Objects.requireNonNull(role, "role");
    if (scopes == null || scopes.isEmpty()) {
      throw new IllegalArgumentException(
          "a "
              + what
              + " needs at least one scope (fix: --scope '*' for everything its role allows)");
    }
    if (lifetime == null || lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException(
          "the " + what + "'s lifetime must be positive, was " + lifetime + " (fix: such as 30d)");
    }
    if (lifetime.compareTo(MAX_LIFETIME) > 0) {
      throw new IllegalArgumentException(
          "the "
              + what
              + "'s lifetime is longer than 3650 days (fix: give a shorter one, such as 365d)");
    }
    String label = note == null ? "" : note;
    if (label.length() > MAX_NOTE_CHARS || label.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          "the note must be one line of at most " + MAX_NOTE_CHARS + " characters");
    }
    return label;
  }

  /** The prefix of the id of a principal that authenticates with a client certificate. */
  public static final String CERTIFICATE_PREFIX = "crt_";

  /**
   * Trusts the client certificate {@code cert} (mutual TLS): from now on a client that presents it
   * in the TLS handshake (which proves it holds the certificate's private key) is the principal
   * returned, with {@code role} and {@code scopes}, until it expires or is revoked ({@link
   * #revoke}). The file keeps the certificate's SHA-256 fingerprint, subject and end of validity;
   * the certificate is matched by its fingerprint alone, so trust is this registration and nothing
   * else (no CA is consulted, and two certificates with one subject are two strangers).
   *
   * @param lifetime how long the principal is valid, from now; it ends earlier when the certificate
   *     itself does
   * @throws IllegalArgumentException for a certificate that is not valid now or is trusted already,
   *     an empty scope list, a bad lifetime or note
   */
  public ClientCertificate trustCertificate(
      X509Certificate cert, Role role, List<Scope> scopes, Duration lifetime, String note) {
    Objects.requireNonNull(cert, "cert");
    String label = checkGrant(role, scopes, lifetime, note, "client certificate");
    Instant now = clock.instant();
    Instant notAfter = cert.getNotAfter().toInstant();
    if (!now.isBefore(notAfter) || now.isBefore(cert.getNotBefore().toInstant())) {
      throw new IllegalArgumentException(
          "the certificate is not valid now (valid from "
              + cert.getNotBefore().toInstant()
              + " to "
              + notAfter
              + ") (fix: trust a certificate that is valid now, or issue one with cfn cert issue)");
    }
    byte[] fingerprint = ClientCertificate.sha256(cert);
    Optional<ClientCertificate> known =
        db.with(
            "read a client certificate",
            c ->
                first(
                    c,
                    "SELECT * FROM client_certs WHERE fingerprint = ?",
                    fingerprint,
                    TokenStore::readCertificate));
    if (known.isPresent()) {
      throw new IllegalArgumentException(
          "this certificate is trusted already as "
              + known.get().principal().id()
              + " (fix: cfn cert list shows it; revoke it and issue a new certificate to change"
              + " its role)");
    }
    byte[] idBytes = new byte[6];
    random.nextBytes(idBytes);
    Instant expires = now.plus(lifetime);
    if (notAfter.isBefore(expires)) {
      expires = notAfter;
    }
    ApiToken principal =
        new ApiToken(
            CERTIFICATE_PREFIX + HexFormat.of().formatHex(idBytes),
            role,
            scopes,
            now,
            expires,
            null,
            label);
    String subject = cert.getSubjectX500Principal().getName();
    ClientCertificate trusted =
        new ClientCertificate(principal, ClientCertificate.fingerprintOf(cert), subject, notAfter);
    db.inWriteTransaction(
        "store the trusted client certificate",
        c -> {
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO client_certs (id, fingerprint, subject, not_after, role, scopes,"
                      + " created_at, expires_at, revoked_at, note)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)")) {
            insert.setString(1, principal.id());
            insert.setBytes(2, fingerprint);
            insert.setString(3, subject);
            insert.setLong(4, notAfter.toEpochMilli());
            insert.setString(5, role.label());
            insert.setString(6, joinScopes(principal.scopes()));
            insert.setLong(7, principal.createdAt().toEpochMilli());
            insert.setLong(8, principal.expiresAt().toEpochMilli());
            insert.setString(9, label);
            insert.executeUpdate();
          }
          return null;
        });
    return trusted;
  }

  /** Every trusted client certificate, newest first, revoked and expired ones included. */
  public List<ClientCertificate> certificates() {
    return all(
        "list the client certificates",
        "SELECT * FROM client_certs ORDER BY created_at DESC, id",
        TokenStore::readCertificate);
  }

  /**
   * Says whether a client presenting {@code cert} (its handshake proved it holds the key) may be
   * served now, and as whom: {@link Verdict#UNKNOWN} for a certificate no one trusted, else as for
   * a token ({@link Verdict#EXPIRED} also when the certificate itself is outside its validity).
   * Cached like {@link #authenticate}, with the same bound on revocations by another process.
   */
  public Check authenticateCertificate(X509Certificate cert) {
    byte[] fingerprint = ClientCertificate.sha256(cert);
    String key = "crt:" + HexFormat.of().formatHex(fingerprint);
    Optional<ApiToken> found =
        cachedOrRead(
            key,
            () ->
                db.with(
                        "check a client certificate",
                        c ->
                            first(
                                c,
                                "SELECT * FROM client_certs WHERE fingerprint = ?",
                                fingerprint,
                                TokenStore::readCertificate))
                    .map(ClientCertificate::principal));
    if (found.isEmpty()) {
      return new Check(Verdict.UNKNOWN, null);
    }
    ApiToken principal = found.get();
    Instant at = clock.instant();
    if (principal.revokedAt() == null
        && (at.isBefore(cert.getNotBefore().toInstant())
            || !at.isBefore(cert.getNotAfter().toInstant()))) {
      return new Check(Verdict.EXPIRED, principal);
    }
    return verdict(principal);
  }

  /** Every token, newest first, revoked and expired ones included. */
  public List<ApiToken> list() {
    return all(
        "list the tokens",
        "SELECT * FROM api_tokens ORDER BY created_at DESC, id",
        TokenStore::read);
  }

  /** The token with this id, if any. */
  public Optional<ApiToken> find(String id) {
    return db.with(
        "read a token",
        c -> first(c, "SELECT * FROM api_tokens WHERE id = ?", id, TokenStore::read));
  }

  /**
   * Revokes the token {@code id}: from now on it is refused. False when there is no such token;
   * revoking a revoked token changes nothing and returns true.
   */
  public boolean revoke(String id) {
    long now = clock.millis();
    boolean certificate = id != null && id.startsWith(CERTIFICATE_PREFIX);
    boolean found =
        db.inWriteTransaction(
            "revoke the token",
            c -> {
              try (PreparedStatement update =
                  certificate
                      ? c.prepareStatement(
                          "UPDATE client_certs SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?")
                      : c.prepareStatement(
                          "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?")) {
                update.setLong(1, now);
                update.setString(2, id);
                return update.executeUpdate() == 1;
              }
            });
    cache.values().removeIf(c -> c.token().id().equals(id)); // after the write: not re-read stale
    return found;
  }

  /** Why a presented token was refused, or that it was accepted. */
  public enum Verdict {
    ACCEPTED,
    MALFORMED,
    UNKNOWN,
    EXPIRED,
    REVOKED
  }

  /** What {@link #authenticate} found: the verdict, and the token when it is known. */
  public record Check(Verdict verdict, ApiToken token) {}

  /**
   * Looks {@code presented} up by its hash and says whether it may be used now. A known token's
   * record is read from the file at most once per {@link #CACHE_FOR}, so a revocation by another
   * process takes effect within that bound; one through this store ({@link #revoke}) at once.
   * Expiry is checked against the clock on every call.
   */
  public Check authenticate(String presented) {
    if (presented == null
        || !presented.startsWith(PREFIX)
        || presented.length() != PREFIX.length() + 43) {
      return new Check(Verdict.MALFORMED, null);
    }
    byte[] hash = hash(presented);
    String key = HexFormat.of().formatHex(hash);
    Optional<ApiToken> found =
        cachedOrRead(
            key,
            () ->
                db.with(
                    "check a token",
                    c ->
                        first(
                            c, "SELECT * FROM api_tokens WHERE hash = ?", hash, TokenStore::read)));
    return found.map(this::verdict).orElseGet(() -> new Check(Verdict.UNKNOWN, null));
  }

  /**
   * The principal cached under {@code key} when read less than {@link #CACHE_FOR} ago, else {@code
   * read}'s answer, cached when there is one (the cache emptied first when full) and forgotten when
   * there is none.
   */
  private Optional<ApiToken> cachedOrRead(String key, Supplier<Optional<ApiToken>> read) {
    long now = clock.millis();
    Cached hit = cache.get(key);
    if (hit != null
        && now - hit.readAtMillis() >= 0
        && now - hit.readAtMillis() < CACHE_FOR.toMillis()) {
      return Optional.of(hit.token());
    }
    Optional<ApiToken> found = read.get();
    if (found.isEmpty()) {
      cache.remove(key);
      return found;
    }
    if (cache.size() >= CACHE_MAX) {
      cache.clear();
    }
    cache.put(key, new Cached(found.get(), now));
    return found;
  }

  private Check verdict(ApiToken t) {
    if (t.revokedAt() != null) {
      return new Check(Verdict.REVOKED, t);
    }
    if (t.expiredAt(clock.instant())) {
      return new Check(Verdict.EXPIRED, t);
    }
    return new Check(Verdict.ACCEPTED, t);
  }

  /** True while the file is open. */
  public boolean isOpen() {
    return db.isOpen();
  }

  @Override
  public void close() {
    db.close();
  }

  /** Reads one row into a value. */
  private interface Row<T> {
    T read(ResultSet r) throws SQLException;
  }

  /** Every row of {@code sql} (no parameters), in its order. */
  private <T> List<T> all(String what, String sql, Row<T> row) {
    return db.with(
        what,
        c -> {
          try (PreparedStatement q = c.prepareStatement(sql);
              ResultSet rows = q.executeQuery()) {
            List<T> all = new ArrayList<>();
            while (rows.next()) {
              all.add(row.read(rows));
            }
            return all;
          }
        });
  }

  /** The first row of {@code sql} with its one parameter {@code arg} (a string or bytes). */
  private static <T> Optional<T> first(Connection c, String sql, Object arg, Row<T> row)
      throws SQLException {
    try (PreparedStatement q = c.prepareStatement(sql)) {
      if (arg instanceof byte[] bytes) {
        q.setBytes(1, bytes);
      } else {
        q.setString(1, (String) arg);
      }
      try (ResultSet rows = q.executeQuery()) {
        return rows.next() ? Optional.of(row.read(rows)) : Optional.empty();
      }
    }
  }

  private static ClientCertificate readCertificate(ResultSet r) throws SQLException {
    ApiToken principal = read(r);
    return new ClientCertificate(
        principal,
        HexFormat.ofDelimiter(":").withUpperCase().formatHex(r.getBytes("fingerprint")),
        r.getString("subject"),
        Instant.ofEpochMilli(r.getLong("not_after")));
  }

  private static ApiToken read(ResultSet r) throws SQLException {
    long revoked = r.getLong("revoked_at");
    boolean wasRevoked = !r.wasNull();
    List<Scope> scopes = new ArrayList<>();
    for (String s : r.getString("scopes").split(" ")) {
      if (!s.isEmpty()) {
        scopes.add(Scope.parse(s));
      }
    }
    return new ApiToken(
        r.getString("id"),
        Role.parse(r.getString("role")),
        scopes,
        Instant.ofEpochMilli(r.getLong("created_at")),
        Instant.ofEpochMilli(r.getLong("expires_at")),
        wasRevoked ? Instant.ofEpochMilli(revoked) : null,
        r.getString("note"));
  }

  private static String joinScopes(List<Scope> scopes) {
    return String.join(" ", scopes.stream().map(Scope::toString).toList());
  }

  static byte[] hash(String token) {
    MessageDigest sha256;
    try {
      sha256 = (MessageDigest) SHA256.clone();
    } catch (CloneNotSupportedException e) {
      sha256 = newSha256();
    }
    return sha256.digest(token.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A prototype cloned for each hash: every authenticated call hashes its token, and {@code
   * MessageDigest.getInstance} looks the provider up each time (a visible share of a small call in
   * a profile); a clone copies the initial state only. Never used itself, so it is never shared.
   */
  private static final MessageDigest SHA256 = newSha256();

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }
}
