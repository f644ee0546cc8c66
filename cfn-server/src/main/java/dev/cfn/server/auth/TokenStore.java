package dev.cfn.server.auth;

import dev.cfn.store.StoreCheck;
import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.RecordChecksum;
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
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

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
 *
 * <p>Every token and certificate record carries a CRC32C of its values (cfn-store's {@link
 * RecordChecksum}, as the other stores' records do). {@link #check()} verifies the file ({@code
 * integrity_check} and every record's checksum); {@link #authenticate} and {@link
 * #authenticateCertificate} refuse a record that fails its checksum ({@link Verdict#DAMAGED}), so a
 * damaged or hand-edited record (a changed role, scope or expiry) grants nothing. A checksum is not
 * a signature: it catches damage and edits made without recomputing it, not a deliberate forger
 * with write access to the file (who could as well add a token of their own).
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
                      """)),
              new Migrations.Migration(
                  3,
                  "crc: a CRC32C of every token and client certificate record, verified by check()"
                      + " and on authentication",
                  List.of(
                      "ALTER TABLE api_tokens ADD COLUMN crc INTEGER",
                      "ALTER TABLE client_certs ADD COLUMN crc INTEGER")),
              new Migrations.Migration(
                  4,
                  "audit_outbox: the audit events of token and certificate changes, written with"
                      + " the change, until they are moved into the audit log",
                  List.of(
                      """
                      CREATE TABLE audit_outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL UNIQUE,
                        at INTEGER NOT NULL,
                        principal TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        detail TEXT NOT NULL
                      )
                      """)),
              new Migrations.Migration(
                  5,
                  "audit_outbox_mark: per audit log, the entry from which a drain of the outbox"
                      + " looks for the events it may have appended already",
                  List.of(
                      """
                      CREATE TABLE audit_outbox_mark (
                        log_id TEXT PRIMARY KEY,
                        from_seq INTEGER NOT NULL
                      )
                      """))));

  /** The detail key of an audit event moved from the outbox: its id there, for exactly-once. */
  public static final String OUTBOX_KEY = "outbox";

  private static final com.fasterxml.jackson.databind.ObjectMapper OUTBOX_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /**
   * The two kinds of record, each read, written and checksummed by the same code: a token (found by
   * the SHA-256 of its secret) and a trusted client certificate (by its fingerprint). The SQL built
   * from them holds these constant names only; every value is bound as a parameter.
   */
  private enum Table {
    TOKENS(
        "api_tokens",
        "hash",
        List.of("id", "hash", "role", "scopes", "created_at", "expires_at", "revoked_at", "note")),
    CERTIFICATES(
        "client_certs",
        "fingerprint",
        List.of(
            "id",
            "fingerprint",
            "subject",
            "not_after",
            "role",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "note"));

    /** The table's name, which its records' checksums also cover. */
    final String table;

    /** The columns a record's checksum covers, in order (every column but {@code crc}). */
    final List<String> columns;

    /** Inserts a record: every column, then {@code crc}. */
    private final String insertSql;

    /**
     * Selects the record a presented secret or certificate names, by its key column (the hash, or
     * the fingerprint).
     */
    final String byKey;

    /** Sets a record's {@code crc}, by id. */
    final String setChecksum;

    /** Sets a record's {@code revoked_at} and {@code crc}, by id. */
    final String setRevoked;

    Table(String table, String key, List<String> columns) {
      this.table = table;
      this.columns = columns;
      this.insertSql =
          "INSERT INTO "
              + table
              + " ("
              + String.join(", ", columns)
              + ", crc) VALUES ("
              + "?, ".repeat(columns.size())
              + "?)";
      this.byKey = "SELECT * FROM " + table + " WHERE " + key + " = ?";
      this.setChecksum = "UPDATE " + table + " SET crc = ? WHERE id = ?";
      this.setRevoked = "UPDATE " + table + " SET revoked_at = ?, crc = ? WHERE id = ?";
    }

    /** The table a principal with this id is kept in. */
    static Table of(String id) {
      return id != null && id.startsWith(CERTIFICATE_PREFIX) ? CERTIFICATES : TOKENS;
    }

    /** {@code SELECT * FROM table} and {@code rest}. */
    String select(String rest) {
      return "SELECT * FROM " + table + " " + rest;
    }

    /** The values of the current row of {@code rows}, in {@link #columns} order. */
    Object[] valuesOf(ResultSet rows) throws SQLException {
      Object[] values = new Object[columns.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = rows.getObject(columns.get(i));
      }
      return values;
    }

    /** Inserts a record of {@code values} (in {@link #columns} order) with their checksum. */
    void insert(Connection c, Object[] values) throws SQLException {
      try (PreparedStatement q = c.prepareStatement(insertSql)) {
        for (int i = 0; i < values.length; i++) {
          q.setObject(i + 1, values[i]);
        }
        q.setLong(values.length + 1, RecordChecksum.of(table, values));
        q.executeUpdate();
      }
    }

    /** Why the current row of {@code rows} fails its checksum; null when it passes. */
    String damage(ResultSet rows) throws SQLException {
      long stored = rows.getLong("crc");
      if (rows.wasNull()) {
        return "has no checksum";
      }
      long computed = RecordChecksum.of(table, valuesOf(rows));
      return computed == stored
          ? null
          : "fails its checksum (stored " + stored + ", computed " + computed + ")";
    }
  }

  /** Reads one row. */
  @FunctionalInterface
  private interface Row<T> {
    T read(ResultSet rows) throws SQLException;
  }

  /** The rows of {@code sql} (one {@code ?}, bound to {@code arg} unless null), each read. */
  private static <T> List<T> query(Connection c, String sql, Object arg, Row<T> row)
      throws SQLException {
    try (PreparedStatement q = c.prepareStatement(sql)) {
      if (arg != null) {
        q.setObject(1, arg);
      }
      try (ResultSet rows = q.executeQuery()) {
        List<T> all = new ArrayList<>();
        while (rows.next()) {
          all.add(row.read(rows));
        }
        return all;
      }
    }
  }

  /** The first row of {@code sql} with {@code arg}, read; empty when there is none. */
  private static <T> Optional<T> first(Connection c, String sql, Object arg, Row<T> row)
      throws SQLException {
    return query(c, sql, arg, row).stream().findFirst();
  }

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
    boolean[] older = new boolean[1];
    StoreConnection db =
        StoreConnection.open(
            file,
            clock,
            SCHEMA,
            "move it away and create new tokens with cfn token create",
            c -> {
              older[0] = tablesWithoutChecksums(c);
              return null;
            });
    TokenStore store = new TokenStore(db, clock);
    if (older[0]) {
      try {
        store.addMissingChecksums();
      } catch (RuntimeException e) {
        db.close();
        throw e;
      }
    }
    return store;
  }

  /** True when {@code c}'s file has token tables written before records had checksums. */
  private static boolean tablesWithoutChecksums(Connection c) throws SQLException {
    try (Statement sql = c.createStatement();
        ResultSet rows =
            sql.executeQuery(
                "SELECT (SELECT count(*) FROM sqlite_master"
                    + " WHERE type = 'table' AND name = 'api_tokens'),"
                    + " (SELECT count(*) FROM pragma_table_info('api_tokens') WHERE name = 'crc')")) {
      rows.next();
      return rows.getInt(1) > 0 && rows.getInt(2) == 0;
    }
  }

  /**
   * Computes the checksum of every record written by a cfn before version 3 of the schema, once,
   * right after the upgrade that adds the column. Later, a record without one is a problem.
   */
  private void addMissingChecksums() {
    db.inWriteTransaction(
        "add checksums to the token records",
        c -> {
          for (Table t : Table.values()) {
            try (PreparedStatement update = c.prepareStatement(t.setChecksum)) {
              for (Object[] values : query(c, t.select("WHERE crc IS NULL"), null, t::valuesOf)) {
                update.setLong(1, RecordChecksum.of(t.table, values));
                update.setObject(2, values[0]);
                update.executeUpdate();
              }
            }
          }
          return null;
        });
  }

  /**
   * Verifies the file in one read transaction: SQLite's {@code integrity_check} and the checksum of
   * every token and client certificate record. Problems are listed (by record id, never a secret),
   * never thrown. A record listed here is refused by {@link #authenticate}: revoke it and create a
   * new token ({@code cfn token create}), or move the file aside.
   */
  public StoreCheck check() {
    return db.check(
        "check the token file",
        (sql, problems) -> {
          for (Table t : Table.values()) {
            try (ResultSet rows = sql.executeQuery(t.select("ORDER BY id"))) {
              while (rows.next()) {
                String why = t.damage(rows);
                if (why != null) {
                  problems.add(t.table + ": record '" + rows.getString("id") + "' " + why);
                }
              }
            }
          }
        });
  }

  /** The file. */
  public Path file() {
    return db.file();
  }

  /**
   * Issues a token, and queues its audit event ({@code token.create}: id, role, scopes, expiry,
   * never the secret) in the same transaction, for {@link #drainAuditOutbox} to move into the audit
   * log.
   *
   * @param role what it may do
   * @param scopes what it may act for; at least one
   * @param lifetime how long it is valid, from now; positive, at most {@link #MAX_LIFETIME}
   * @param note a label for {@code cfn token list}, at most {@link #MAX_NOTE_CHARS} characters
   * @param actor who creates it: the audit event's principal, such as {@code user:ana}
   * @throws IllegalArgumentException for an empty scope list, a bad lifetime or note
   */
  public IssuedToken create(
      Role role, List<Scope> scopes, Duration lifetime, String note, String actor) {
    Objects.requireNonNull(actor, "actor");
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
          Table.TOKENS.insert(
              c,
              new Object[] {
                token.id(),
                hash(text),
                role.label(),
                joinScopes(token.scopes()),
                token.createdAt().toEpochMilli(),
                token.expiresAt().toEpochMilli(),
                null,
                label
              });
          enqueue(c, actor, "token.create", "token:" + token.id(), grant(token));
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
   * <p>Queues its audit event ({@code action}, such as {@code cert.issue} or {@code cert.trust}:
   * id, role, scopes, expiry and fingerprint, never key material) in the same transaction, for
   * {@link #drainAuditOutbox}.
   *
   * @param lifetime how long the principal is valid, from now; it ends earlier when the certificate
   *     itself does
   * @param actor who trusts it: the audit event's principal, such as {@code user:ana}
   * @param action the audit event's action
   * @throws IllegalArgumentException for a certificate that is not valid now or is trusted already,
   *     an empty scope list, a bad lifetime or note
   */
  public ClientCertificate trustCertificate(
      X509Certificate cert,
      Role role,
      List<Scope> scopes,
      Duration lifetime,
      String note,
      String actor,
      String action) {
    Objects.requireNonNull(cert, "cert");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(action, "action");
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
                    Table.CERTIFICATES.select("WHERE fingerprint = ?"),
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
          Table.CERTIFICATES.insert(
              c,
              new Object[] {
                principal.id(),
                fingerprint,
                subject,
                notAfter.toEpochMilli(),
                role.label(),
                joinScopes(principal.scopes()),
                principal.createdAt().toEpochMilli(),
                principal.expiresAt().toEpochMilli(),
                null,
                label
              });
          Map<String, String> detail = grant(principal);
          detail.put("fingerprint", trusted.fingerprint());
          enqueue(c, actor, action, "cert:" + principal.id(), detail);
          return null;
        });
    return trusted;
  }

  /**
   * Every trusted client certificate, newest first, revoked and expired ones included, and damaged
   * ones marked as {@link #list} marks tokens: a record that fails its checksum is listed (by its
   * id) with why, never hidden or thrown.
   */
  public List<ListedCertificate> certificates() {
    return db.with(
        "list the client certificates",
        c ->
            query(
                c,
                Table.CERTIFICATES.select("ORDER BY created_at DESC, id"),
                null,
                rows -> {
                  String why = Table.CERTIFICATES.damage(rows);
                  String id = Objects.requireNonNullElse(rows.getString("id"), "?");
                  return new ListedCertificate(
                      id, why == null ? readCertificate(rows) : readDamagedCertificate(rows), why);
                }));
  }

  /**
   * A trusted client certificate as {@link #certificates} shows it: what its record says, and
   * whether the record passes its checksum. Never a key (the file has none).
   *
   * @param id the record's id as stored
   * @param certificate what the record says; null when a damaged record cannot be read at all (a
   *     role or scope no cfn knows, a missing value)
   * @param damage why the record fails its checksum, worded as {@link #check()} words it; null when
   *     it passes
   */
  public record ListedCertificate(String id, ClientCertificate certificate, String damage) {
    /**
     * True when the record fails its checksum: the server refuses the certificate as {@link
     * Verdict#DAMAGED}, whatever the record says.
     */
    public boolean damaged() {
      return damage != null;
    }
  }

  /** What a certificate record that fails its checksum says, or null when that cannot be read. */
  private static ClientCertificate readDamagedCertificate(ResultSet rows) throws SQLException {
    if (readDamaged(rows) == null
        || rows.getBytes("fingerprint") == null
        || rows.getString("subject") == null
        || rows.getObject("not_after") == null) {
      return null;
    }
    return readCertificate(rows);
  }

  /**
   * Says whether a client presenting {@code cert} (its handshake proved it holds the key) may be
   * served now, and as whom: {@link Verdict#UNKNOWN} for a certificate no one trusted, else as for
   * a token ({@link Verdict#EXPIRED} also when the certificate itself is outside its validity).
   * Cached like {@link #authenticate}, with the same bound on revocations by another process.
   */
  public Check authenticateCertificate(X509Certificate cert) {
    byte[] fingerprint = ClientCertificate.sha256(cert);
    Found found = principal("crt:", Table.CERTIFICATES, fingerprint);
    if (found.token() == null) {
      return new Check(found.refusal(), null);
    }
    ApiToken principal = found.token();
    Instant at = clock.instant();
    if (principal.revokedAt() == null
        && (at.isBefore(cert.getNotBefore().toInstant())
            || !at.isBefore(cert.getNotAfter().toInstant()))) {
      return new Check(Verdict.EXPIRED, principal);
    }
    return verdict(principal);
  }

  /**
   * A token as {@link #list} shows it: what its record says, and whether the record passes its
   * checksum. Never its secret (the file does not have it).
   *
   * @param id the record's id as stored
   * @param token what the record says; null when a damaged record cannot be read at all (a role or
   *     scope no cfn knows)
   * @param damage why the record fails its checksum, worded as {@link #check()} words it; null when
   *     it passes
   */
  public record Listed(String id, ApiToken token, String damage) {
    /**
     * True when the record fails its checksum: the server refuses the token as {@link
     * Verdict#DAMAGED}, whatever the record says.
     */
    public boolean damaged() {
      return damage != null;
    }
  }

  /**
   * Every token, newest first, revoked and expired ones included, and damaged ones marked: a record
   * that fails its checksum is listed (by its id) with why, never hidden or thrown.
   */
  public List<Listed> list() {
    return db.with(
        "list the tokens",
        c ->
            query(
                c,
                Table.TOKENS.select("ORDER BY created_at DESC, id"),
                null,
                rows -> {
                  String why = Table.TOKENS.damage(rows);
                  String id = Objects.requireNonNullElse(rows.getString("id"), "?");
                  return new Listed(id, why == null ? read(rows) : readDamaged(rows), why);
                }));
  }

  /** What a record that fails its checksum says, or null when even that cannot be read. */
  private static ApiToken readDamaged(ResultSet rows) throws SQLException {
    for (String column : List.of("id", "role", "scopes", "created_at", "expires_at", "note")) {
      if (rows.getObject(column) == null) {
        return null;
      }
    }
    try {
      return read(rows);
    } catch (IllegalArgumentException e) {
      return null; // a role or scope no cfn wrote: the listing still names the record
    }
  }

  /** The token with this id, if any. */
  public Optional<ApiToken> find(String id) {
    return db.with(
        "read a token", c -> first(c, Table.TOKENS.select("WHERE id = ?"), id, TokenStore::read));
  }

  /**
   * Revokes the token or client certificate {@code id}: from now on it is refused. False when there
   * is no such record; revoking a revoked one changes nothing and returns true. When there is such
   * a record, queues its audit event ({@code token.revoke} or {@code cert.revoke}) in the same
   * transaction, for {@link #drainAuditOutbox}.
   *
   * @param actor who revokes it: the audit event's principal, such as {@code user:ana}
   */
  public boolean revoke(String id, String actor) {
    Objects.requireNonNull(actor, "actor");
    long now = clock.millis();
    Table t = Table.of(id);
    boolean found =
        db.inWriteTransaction(
            "revoke the token",
            c -> {
              // the record's new checksum (none when it has none); one that failed its checksum
              // keeps failing it; no update when it was revoked already
              Optional<Revocation> revocation =
                  first(
                      c,
                      t.select("WHERE id = ?"),
                      id,
                      rows -> {
                        Object[] values = t.valuesOf(rows);
                        int at = t.columns.indexOf("revoked_at");
                        if (values[at] != null) {
                          return new Revocation(false, null);
                        }
                        long stored = rows.getLong("crc");
                        if (rows.wasNull()) {
                          return new Revocation(true, null);
                        }
                        if (t.damage(rows) != null) {
                          return new Revocation(true, stored);
                        }
                        values[at] = now;
                        return new Revocation(true, RecordChecksum.of(t.table, values));
                      });
              if (revocation.isEmpty()) {
                return false;
              }
              if (revocation.get().write()) {
                try (PreparedStatement update = c.prepareStatement(t.setRevoked)) {
                  update.setLong(1, now);
                  update.setObject(2, revocation.get().crc());
                  update.setString(3, id);
                  update.executeUpdate();
                }
              }
              boolean cert = t == Table.CERTIFICATES;
              enqueue(
                  c,
                  actor,
                  cert ? "cert.revoke" : "token.revoke",
                  (cert ? "cert:" : "token:") + id,
                  new LinkedHashMap<>());
              return true;
            });
    cache.values().removeIf(c -> c.token().id().equals(id)); // after the write: not re-read stale
    return found;
  }

  /** The audit detail of a grant: role, scopes and expiry (never a secret). */
  private static Map<String, String> grant(ApiToken t) {
    Map<String, String> detail = new LinkedHashMap<>();
    detail.put("role", t.role().label());
    detail.put("scopes", String.join(" ", t.scopes().stream().map(Scope::toString).toList()));
    detail.put("expires", String.valueOf(t.expiresAt()));
    return detail;
  }

  /** Queues an audit event in the outbox, inside the caller's write transaction. */
  private void enqueue(
      Connection c, String actor, String action, String target, Map<String, String> detail)
      throws SQLException {
    byte[] idBytes = new byte[8];
    random.nextBytes(idBytes);
    String json;
    try {
      json = OUTBOX_JSON.writeValueAsString(detail);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new SQLException("cannot write the audit event's detail: " + e.getMessage(), e);
    }
    try (PreparedStatement q =
        c.prepareStatement(
            "INSERT INTO audit_outbox (event_id, at, principal, action, target, detail)"
                + " VALUES (?, ?, ?, ?, ?, ?)")) {
      q.setString(1, HexFormat.of().formatHex(idBytes));
      q.setLong(2, clock.millis());
      q.setString(3, actor);
      q.setString(4, action);
      q.setString(5, target);
      q.setString(6, json);
      q.executeUpdate();
    }
  }

  /** An audit event waiting in the outbox. */
  private record Queued(long seq, String eventId, AuditEvent event) {}

  private static Queued readQueued(ResultSet r) throws SQLException {
    Map<String, String> detail = new LinkedHashMap<>();
    try {
      OUTBOX_JSON
          .readTree(r.getString("detail"))
          .properties()
          .forEach(e -> detail.put(e.getKey(), e.getValue().asText()));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      detail.put("damage", "the queued detail could not be read: " + e.getOriginalMessage());
    }
    String eventId = r.getString("event_id");
    detail.put(OUTBOX_KEY, eventId);
    return new Queued(
        r.getLong("seq"),
        eventId,
        new AuditEvent(
            Instant.ofEpochMilli(r.getLong("at")),
            r.getString("principal"),
            r.getString("action"),
            r.getString("target"),
            AuditEvent.Outcome.SUCCESS,
            detail));
  }

  /** How many audit events wait in the outbox. */
  public int queuedAuditEvents() {
    return db.with(
        "count the queued audit events",
        c -> first(c, "SELECT count(*) FROM audit_outbox", null, rows -> rows.getInt(1)).orElse(0));
  }

  /**
   * Moves the audit events queued by {@link #create(Role, List, Duration, String, String)}, {@link
   * #revoke(String, String)} and {@link #trustCertificate(X509Certificate, Role, List, Duration,
   * String, String, String)} into {@code log}, oldest first, each exactly once: by whoever holds
   * the log (the running node, or a command line that could open it).
   *
   * <p>All in one write transaction of this file: each event is appended (durable when {@link
   * AuditLog#append} returns) and its row deleted; the rows go when the transaction commits. Each
   * event carries its outbox id ({@value #OUTBOX_KEY}) in its detail. A drain that stopped after
   * appending and before its commit (a crash, a full disk) leaves its rows queued with their events
   * in the log, so a drain first collects the outbox ids already in the log and appends only the
   * others. Where it looks is exact, not a guess at how far back those events lie:
   *
   * <ul>
   *   <li>The table {@code audit_outbox_mark} keeps, per audit log ({@link AuditLog#id()}), a
   *       number {@code from}. A drain that appended and committed sets it, in its own transaction,
   *       to one past the number of the last entry it appended.
   *   <li>A drain reads that log's entries numbered {@code from} or later ({@link
   *       AuditLog#since(long)}); with no mark for the log (a new log, a log moved aside and
   *       another started, a token file from before the mark), the whole log.
   * </ul>
   *
   * <p>Why that finds every event appended and not committed: drains are serialized by this file's
   * write transactions ({@code BEGIN IMMEDIATE}). Take a queued row whose event is in the log. The
   * drain that appended it did not commit (a commit deletes the rows it appended). Every drain that
   * committed on this log before it could not have seen the row queued, or it would have found the
   * event and deleted the row; so it committed before that drain began, and its mark is at most one
   * past an entry that was on disk before the append. An entry on disk is never cut away (only a
   * torn last entry, whose append had not returned, is) and numbers only grow, so the event's
   * number is at least the mark. A mark of a log that is no longer this one could only miss events:
   * marks of other logs are deleted, and a log without a mark is read whole. The drain reads the
   * log's entries since the last committed drain, however many other events were appended since;
   * unreadable damage in them stops the drain (the rows stay queued, nothing is appended twice).
   *
   * @return how many events were appended
   * @throws RuntimeException as the log refuses an event, or cannot be read back: the rest stay
   *     queued for the next drain
   */
  public int drainAuditOutbox(AuditLog log) {
    Objects.requireNonNull(log, "log");
    String logId = log.id();
    return db.inWriteTransaction(
        "move the queued audit events to the audit log",
        c -> {
          List<Queued> queued =
              query(c, "SELECT * FROM audit_outbox ORDER BY seq", null, TokenStore::readQueued);
          if (queued.isEmpty()) {
            return 0;
          }
          long from =
              first(
                      c,
                      "SELECT from_seq FROM audit_outbox_mark WHERE log_id = ?",
                      logId,
                      rows -> rows.getLong(1))
                  .orElse(1L);
          AuditLog.Page since = log.since(from);
          if (since.problem() != null) {
            throw new SQLException(
                "cannot read the audit log back to see which queued events it holds already: "
                    + since.problem()
                    + " (fix: cfn audit verify shows the damage)");
          }
          java.util.Set<String> recorded = new java.util.HashSet<>();
          for (AuditEntry e : since.entries()) {
            String id = e.event().detail().get(OUTBOX_KEY);
            if (id != null) {
              recorded.add(id);
            }
          }
          int appended = 0;
          long last = 0;
          try (PreparedStatement delete =
              c.prepareStatement("DELETE FROM audit_outbox WHERE seq = ?")) {
            for (Queued q : queued) {
              if (!recorded.contains(q.eventId())) {
                last = log.append(q.event()).seq();
                appended++;
              }
              delete.setLong(1, q.seq());
              delete.executeUpdate();
            }
          }
          if (last > 0) {
            mark(c, logId, last + 1);
          }
          return appended;
        });
  }

  /** Sets the mark of {@code logId} (see {@link #drainAuditOutbox}) and drops other logs'. */
  private static void mark(Connection c, String logId, long from) throws SQLException {
    try (PreparedStatement others =
            c.prepareStatement("DELETE FROM audit_outbox_mark WHERE log_id <> ?");
        PreparedStatement set =
            c.prepareStatement(
                "INSERT INTO audit_outbox_mark (log_id, from_seq) VALUES (?, ?)"
                    + " ON CONFLICT (log_id) DO UPDATE SET from_seq = excluded.from_seq")) {
      others.setString(1, logId);
      others.executeUpdate();
      set.setString(1, logId);
      set.setLong(2, from);
      set.executeUpdate();
    }
  }

  /** What {@link #revoke} writes: nothing (revoked already), or the new checksum (or none). */
  private record Revocation(boolean write, Long crc) {}

  /** Why a presented token was refused, or that it was accepted. */
  public enum Verdict {
    ACCEPTED,
    MALFORMED,
    UNKNOWN,
    EXPIRED,
    REVOKED,
    /**
     * Its record fails its checksum (the token file is damaged or was edited): refused, whatever
     * the record says; {@link #check()} lists it.
     */
    DAMAGED
  }

  /**
   * A principal to judge, or why there is none: {@link Verdict#UNKNOWN} or {@link Verdict#DAMAGED}.
   */
  private record Found(Verdict refusal, ApiToken token) {}

  /**
   * The principal of the {@code table} record whose key column holds {@code key}: from the cache
   * while its entry is younger than {@link #CACHE_FOR}, else read from the file (and cached) when
   * the record passes its checksum. An unknown or damaged record is never cached.
   */
  private Found principal(String cachePrefix, Table table, byte[] key) {
    String cacheKey = cachePrefix + HexFormat.of().formatHex(key);
    long now = clock.millis();
    Cached hit = cache.get(cacheKey);
    if (hit != null
        && now - hit.readAtMillis() >= 0
        && now - hit.readAtMillis() < CACHE_FOR.toMillis()) {
      return new Found(null, hit.token());
    }
    Found found =
        db.with(
                "check a " + (table == Table.TOKENS ? "token" : "client certificate"),
                c ->
                    first(
                        c,
                        table.byKey,
                        key,
                        rows ->
                            table.damage(rows) == null
                                ? new Found(null, read(rows))
                                : new Found(Verdict.DAMAGED, null)))
            .orElse(new Found(Verdict.UNKNOWN, null));
    if (found.token() == null) {
      cache.remove(cacheKey);
      return found;
    }
    if (cache.size() >= CACHE_MAX) {
      cache.clear();
    }
    cache.put(cacheKey, new Cached(found.token(), now));
    return found;
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
    Found found = principal("", Table.TOKENS, hash(presented));
    return found.token() == null ? new Check(found.refusal(), null) : verdict(found.token());
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
