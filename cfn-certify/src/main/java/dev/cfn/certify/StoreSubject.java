package dev.cfn.certify;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.server.auth.ClientCertificate;
import dev.cfn.server.auth.IssuedToken;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.tls.ClientIdentity;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.audit.AuditReport;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.crypto.SigningKey;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One of cfn's stores as the integrity check drives it: open a file, write numbered records, read
 * them back, run the store's own check (SQLite's {@code integrity_check} and every record's
 * checksum; the audit log's chain and signatures). The honesty tests wrap one to break it on
 * purpose.
 */
interface StoreSubject {
  /** The store's name in the report. */
  String name();

  /** Where the store keeps its records under the check's folder {@code dir}. */
  default Path file(Path dir) {
    return dir.resolve("store.db");
  }

  /**
   * Copies the closed store at {@code file} (with what it needs beside it) into {@code copyDir},
   * laid out as under its own folder, and returns the copy of {@code file}.
   */
  default Path copy(Path file, Path copyDir) throws IOException {
    Files.createDirectories(copyDir);
    Path copy = copyDir.resolve(file.getFileName());
    Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
    for (String suffix : List.of("-wal", "-shm")) {
      Path side = file.resolveSibling(file.getFileName() + suffix);
      if (Files.exists(side)) {
        Files.copy(side, copyDir.resolve(side.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return copy;
  }

  /** Opens (or reopens) the store on {@code file}. */
  void open(Path file);

  /** Writes record {@code i} with {@code value}, durably before returning. */
  void write(int i, String value);

  /** Reads record {@code i} back, empty when it is missing. */
  Optional<String> read(int i);

  /** The store's own verification: each problem it found; empty when it found none. */
  List<String> check();

  /** Closes the store (its file stays). */
  void close();

  /**
   * The stores cfn ships: the three SQLite stores of the runtime, the server's token file (its
   * tokens and its client-certificate records, each a subject of its own) and the audit log.
   */
  static List<StoreSubject> all() {
    return List.of(
        new JournalStore(),
        new MemoryStore(),
        new CallLogStore(),
        new TokenFile(),
        new CertificateFile(),
        new AuditTrail());
  }

  /**
   * A store on one SQLite file, the same for each of them but for what a record is: opened by
   * {@code opener}, verified by the store's own {@code check()} ({@code integrity_check} and every
   * record's checksum), closed by {@code closer}.
   *
   * @param <S> the store's type
   */
  abstract class SqliteFile<S> implements StoreSubject {
    private final String name;
    private final Function<Path, S> opener;
    private final Function<S, StoreCheck> checker;
    private final Consumer<S> closer;

    /** The open store; null while closed. */
    S store;

    SqliteFile(
        String name,
        Function<Path, S> opener,
        Function<S, StoreCheck> checker,
        Consumer<S> closer) {
      this.name = name;
      this.opener = opener;
      this.checker = checker;
      this.closer = closer;
    }

    @Override
    public final String name() {
      return name;
    }

    @Override
    public void open(Path file) {
      store = opener.apply(file);
    }

    @Override
    public final List<String> check() {
      return checker.apply(store).problems();
    }

    @Override
    public final void close() {
      if (store != null) {
        closer.accept(store);
        store = null;
      }
    }
  }

  /** {@link SqliteJournal}: records are RELIABLE messages appended, then recovered. */
  final class JournalStore extends SqliteFile<SqliteJournal> {
    private Map<Long, Object> recovered;

    JournalStore() {
      super(
          "journal (SqliteJournal)",
          file -> SqliteJournal.builder(file).open(),
          SqliteJournal::check,
          SqliteJournal::close);
    }

    @Override
    public void open(Path file) {
      super.open(file);
      recovered = null;
    }

    @Override
    public void write(int i, String value) {
      store.append(
          new Envelope(
              i + 1L,
              "certify.record",
              AgentRuntime.EXTERNAL,
              AgentId.of("certify", "reader"),
              null,
              0,
              Priority.NORMAL,
              DeliveryMode.RELIABLE,
              Map.of(),
              value,
              System.nanoTime()));
    }

    @Override
    public Optional<String> read(int i) {
      if (recovered == null) {
        recovered = new HashMap<>();
        for (Journal.JournalEntry e : store.recover()) {
          recovered.put(e.envelope().id(), e.envelope().payload());
        }
      }
      return Optional.ofNullable(recovered.get(i + 1L)).map(String::valueOf);
    }
  }

  /** {@link SqliteMemoryStore}: records are entries of one namespace. */
  final class MemoryStore extends SqliteFile<SqliteMemoryStore> {
    private static final MemoryAccessor WHO = MemoryAccessor.operator();

    MemoryStore() {
      super(
          "memory (SqliteMemoryStore)",
          SqliteMemoryStore::open,
          SqliteMemoryStore::check,
          SqliteMemoryStore::close);
    }

    @Override
    public void write(int i, String value) {
      store.put(WHO, "certify", "record-" + i, value);
    }

    @Override
    public Optional<String> read(int i) {
      return store.get(WHO, "certify", "record-" + i).map(MemoryEntry::value);
    }
  }

  /** {@link SqliteCallLogStore}: records are call results under a key each. */
  final class CallLogStore extends SqliteFile<SqliteCallLogStore> {
    CallLogStore() {
      super(
          "call log (SqliteCallLogStore)",
          SqliteCallLogStore::open,
          SqliteCallLogStore::check,
          SqliteCallLogStore::close);
    }

    @Override
    public void write(int i, String value) {
      store.record("record-" + i, "\"" + value + "\"");
    }

    @Override
    public Optional<String> read(int i) {
      return store
          .find("record-" + i)
          .map(json -> json.length() >= 2 ? json.substring(1, json.length() - 1) : json);
    }
  }

  /**
   * The server's token file ({@link TokenStore}): records are tokens whose note is the value; a
   * record reads back when its secret still authenticates as the same token. Its check is {@link
   * TokenStore#check()} ({@code cfn token check}).
   */
  final class TokenFile extends SqliteFile<TokenStore> {
    private final Map<Integer, IssuedToken> issued = new HashMap<>();

    TokenFile() {
      super("tokens (TokenStore)", TokenStore::open, TokenStore::check, TokenStore::close);
    }

    @Override
    public void write(int i, String value) {
      issued.put(
          i,
          store.create(
              Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), value, ServedNode.ACTOR));
    }

    @Override
    public Optional<String> read(int i) {
      IssuedToken t = issued.get(i);
      if (t == null) {
        return Optional.empty();
      }
      TokenStore.Check c = store.authenticate(t.secret());
      return c.verdict() == TokenStore.Verdict.ACCEPTED && c.token().id().equals(t.token().id())
          ? Optional.of(c.token().note())
          : Optional.empty();
    }
  }

  /**
   * The server's token file ({@link TokenStore}) with client-certificate records (mutual TLS), the
   * file's other table: each record trusts a certificate of its own ({@link
   * ClientIdentity#generate}) with the value as its note, and reads back when the certificate still
   * authenticates as the same principal. Its check is {@link TokenStore#check()}, which covers both
   * tables.
   */
  final class CertificateFile extends SqliteFile<TokenStore> {
    private final Map<Integer, ClientCertificate> trusted = new HashMap<>();
    private final Map<Integer, X509Certificate> certificates = new HashMap<>();

    CertificateFile() {
      super(
          "client certificates (TokenStore)",
          TokenStore::open,
          TokenStore::check,
          TokenStore::close);
    }

    @Override
    public void write(int i, String value) {
      Instant now = Instant.now();
      X509Certificate cert =
          ClientIdentity.generate(
                  "certify-" + i, now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(2)))
              .certificate();
      certificates.put(i, cert);
      trusted.put(
          i,
          store.trustCertificate(
              cert,
              Role.VIEWER,
              List.of(Scope.ALL),
              Duration.ofDays(1),
              value,
              ServedNode.ACTOR,
              "cert.trust"));
    }

    @Override
    public Optional<String> read(int i) {
      X509Certificate cert = certificates.get(i);
      if (cert == null) {
        return Optional.empty();
      }
      TokenStore.Check c = store.authenticateCertificate(cert);
      return c.verdict() == TokenStore.Verdict.ACCEPTED
              && c.token().id().equals(trusted.get(i).principal().id())
          ? Optional.of(c.token().note())
          : Optional.empty();
    }
  }

  /**
   * The audit log ({@link AuditLog}, {@code .cfn/audit/audit.log}): records are events whose target
   * names the record and whose detail is the value, each on disk when {@code append} returns. Its
   * check is {@code cfn audit verify --public-key} ({@link AuditLog#verify(Path, PublicKey)}: every
   * entry's hash and link, every checkpoint's signature, the signed head) with the key the log was
   * written with.
   */
  final class AuditTrail implements StoreSubject {
    private Path cfn;
    private AuditLog writer;
    private PublicKey key;
    private Map<String, String> events;

    @Override
    public String name() {
      return "audit log (AuditLog)";
    }

    @Override
    public Path file(Path dir) {
      return dir.resolve(".cfn").resolve(AuditLog.FOLDER).resolve(AuditLog.FILE);
    }

    /** The log's folder only: its signing keys stay behind, as a copy kept elsewhere would. */
    @Override
    public Path copy(Path file, Path copyDir) throws IOException {
      Path from = file.getParent();
      Path to = Files.createDirectories(copyDir.resolve(".cfn").resolve(AuditLog.FOLDER));
      try (Stream<Path> files = Files.list(from)) {
        for (Path p : files.filter(Files::isRegularFile).toList()) {
          Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return to.resolve(AuditLog.FILE);
    }

    @Override
    public void open(Path file) {
      Path folder = file.toAbsolutePath().getParent();
      cfn = folder == null ? null : folder.getParent();
      if (cfn == null) {
        throw new IllegalArgumentException(
            "the audit log " + file + " must be at DIR/.cfn/audit/" + AuditLog.FILE);
      }
      events = null;
    }

    @Override
    public void write(int i, String value) {
      if (writer == null) {
        writer = AuditLog.open(cfn);
      }
      writer.append(
          new AuditEvent(
              Instant.now(),
              "cfn-certify",
              "certify.record",
              "record-" + i,
              AuditEvent.Outcome.SUCCESS,
              Map.of("value", value)));
    }

    @Override
    public Optional<String> read(int i) {
      if (events == null) {
        events = new HashMap<>();
        for (AuditEntry e : AuditLog.tail(cfn, Integer.MAX_VALUE)) {
          events.put(e.event().target(), e.event().detail().get("value"));
        }
      }
      return Optional.ofNullable(events.get("record-" + i));
    }

    @Override
    public List<String> check() {
      try {
        AuditReport r = AuditLog.verify(cfn, key);
        return r.ok() ? List.of() : List.of(r.problem());
      } catch (AuditException e) {
        return List.of(e.getMessage());
      }
    }

    @Override
    public void close() {
      if (writer != null) {
        writer.close(); // signs a last checkpoint over every event
        writer = null;
        key = SigningKey.readPublicKey(cfn.resolve("keys").resolve(SigningKey.PUBLIC_FILE));
      }
    }
  }
}
