package dev.cfn.store.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.sqlite.PrivateFiles;
import dev.cfn.store.sqlite.SqliteLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * Backup sets of a node's three store files and the node's own files beside them (see {@link
 * BackupSet}, {@link #NODE_FILES}); the keyring only when asked.
 *
 * <p><b>Take</b> ({@link #take}), online, while the node runs: the journal through {@link
 * JournalFiles#backup} (a verified {@code VACUUM INTO} snapshot), then the memory and the call log
 * each by {@code VACUUM INTO} on a read-only connection (one read transaction: a committed state of
 * that file) and SQLite's integrity check on the copy. Each file is a consistent snapshot of
 * itself; the three are taken one after the other, so the memory and call log may hold a few
 * milliseconds more than the journal (each part's {@code snapshotAt} says when). Everything is
 * written in a hidden {@code .NAME.partial} folder, fsynced, with {@code manifest.json} last, and
 * renamed to its name only then: a crash leaves no set or a whole one.
 *
 * <p><b>Restore</b> ({@link #restore}), with the node stopped: every file's SHA-256 is checked
 * against the manifest first; the journal goes through {@link JournalFiles#restore} (verified,
 * refused while a journal is open on it), the others are copied beside their target and renamed
 * into place; a file already there is moved aside as {@code NAME.before-restore-STAMP}, never
 * deleted. The node's files and the keyring are restored only where the target has none: a restore
 * never replaces a token file (it would bring back tokens revoked since), a TLS pair or a keyring
 * (it could hide keys newer than the set).
 */
public final class StoreBackup {
  private static final Logger log = LoggerFactory.getLogger(StoreBackup.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The prefix of set names: {@code cfn-backup-20261206T171500.123Z}. */
  public static final String PREFIX = "cfn-backup-";

  static final String MANIFEST = "manifest.json";

  /**
   * The node's files a set holds beside the stores, as paths under {@code .cfn}: the token file
   * (hashed secrets only), the TLS pair (its private key sealed under the keyring when there is
   * one), the alert rules and the alert history. Restored only where the target has none.
   */
  public static final List<String> NODE_FILES =
      List.of(
          "tokens.db", "tls/server.crt", "tls/server.key", "alerts.yaml", "alert-history.jsonl");

  /** The role of a node file in a set's manifest. */
  public static final String ROLE_NODE = "node";

  /** The role of a keyring file ({@code keys/NAME}) in a set's manifest. */
  public static final String ROLE_KEYS = "keys";

  private static final Pattern KEY_FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*\\.json");
  private static final Pattern NAME =
      Pattern.compile(Pattern.quote(PREFIX) + "\\d{8}T\\d{6}\\.\\d{3}Z(-\\d+)?");
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private StoreBackup() {}

  /**
   * Takes a set into the new folder {@code target}. The journal must exist; a memory or call log
   * that does not exist is left out (the manifest lists what is in).
   *
   * @return the set
   * @throws JournalException when the target exists, a copy fails verification or cannot be
   *     written; nothing is left under the target's name then
   */
  public static BackupSet take(StoreFiles files, Path target) {
    return take(files, target, false);
  }

  /**
   * Takes a set into the new folder {@code target}: the three store files, the node's files found
   * in the journal's folder ({@link #NODE_FILES}: the token file, the TLS pair, the alert rules and
   * history), and, only when {@code includeKeys}, the keyring ({@code keys/}, master key included).
   *
   * @param includeKeys true to put the keyring in the set (see {@code docs/operations.md}: a set
   *     holding the master key opens every sealed record it holds; keep such a set apart)
   * @return the set
   * @throws JournalException as {@link #take(StoreFiles, Path)}
   */
  public static BackupSet take(StoreFiles files, Path target, boolean includeKeys) {
    Path to = target.toAbsolutePath().normalize();
    if (Files.exists(to)) {
      throw new JournalException(
          "cannot back up into "
              + to
              + ": it exists, and backups never overwrite; choose a new name");
    }
    Instant takenAt = Instant.now();
    Path partial = PrivateFiles.parentOf(to).resolve("." + PrivateFiles.nameOf(to) + ".partial");
    try {
      deleteTree(partial);
      PrivateFiles.createDirectories(partial);
      List<BackupSet.Part> parts = new ArrayList<>();
      Instant at = Instant.now();
      JournalFiles.backup(files.journal(), partial.resolve("cfn.db"));
      parts.add(part("journal", partial.resolve("cfn.db"), at));
      for (String role : List.of("memory", "calls")) {
        Path source = role.equals("memory") ? files.memory() : files.calls();
        if (!Files.isRegularFile(source)) {
          continue;
        }
        Path copy = partial.resolve(role + ".db");
        at = Instant.now();
        vacuumInto(source, copy);
        integrityCheck(copy, role);
        parts.add(part(role, copy, at));
      }
      Path cfn = PrivateFiles.parentOf(files.journal().toAbsolutePath().normalize());
      for (String name : NODE_FILES) {
        Path source = cfn.resolve(name);
        if (!Files.isRegularFile(source)) {
          continue;
        }
        Path copy = partial.resolve(name);
        PrivateFiles.createDirectories(PrivateFiles.parentOf(copy));
        at = Instant.now();
        if (name.endsWith(".db")) {
          vacuumInto(source, copy); // a consistent snapshot of a file a live node writes
          integrityCheck(copy, name);
        } else {
          copyPrivately(source, copy);
        }
        parts.add(part(ROLE_NODE, name, copy, at));
      }
      if (includeKeys) {
        Path keys = cfn.resolve("keys");
        if (!Files.isDirectory(keys)) {
          throw new JournalException(
              "no keyring in "
                  + keys
                  + " to include: leave out the keys, or make one with cfn keys init");
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(keys)) {
          for (Path k : entries) {
            String name = "keys/" + PrivateFiles.nameOf(k);
            if (!Files.isRegularFile(k) || !KEY_FILE.matcher(PrivateFiles.nameOf(k)).matches()) {
              continue; // the keyring's lock and temporary files
            }
            Path copy = partial.resolve(name);
            PrivateFiles.createDirectories(PrivateFiles.parentOf(copy));
            at = Instant.now();
            copyPrivately(k, copy);
            parts.add(part(ROLE_KEYS, name, copy, at));
          }
        }
      }
      for (String sub : List.of("tls", "keys")) {
        if (Files.isDirectory(partial.resolve(sub))) {
          PrivateFiles.forceFolder(partial.resolve(sub));
        }
      }
      BackupSet set = new BackupSet(to, takenAt, parts);
      PrivateFiles.writeAtomically(partial.resolve(MANIFEST), manifest(set));
      PrivateFiles.forceFolder(partial);
      Files.move(partial, to, StandardCopyOption.ATOMIC_MOVE);
      PrivateFiles.forceFolder(PrivateFiles.parentOf(to));
      return set;
    } catch (IOException e) {
      throw new JournalException(
          "cannot back up into "
              + to
              + " ("
              + e
              + "): check that its folder is writable and has free space",
          e);
    } finally {
      try {
        deleteTree(partial);
      } catch (IOException e) {
        log.warn("cannot delete {}: {}; delete it by hand", partial, e.toString());
      }
    }
  }

  /**
   * Reads a set's manifest and checks every file's size and SHA-256 against it.
   *
   * @throws JournalException naming the first thing wrong
   */
  public static BackupSet verify(Path set) {
    Path dir = set.toAbsolutePath().normalize();
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new JournalException(
          dir + " is not a backup set (no " + MANIFEST + "): give a cfn-backup-... folder");
    }
    try {
      JsonNode n = JSON.readTree(manifest.toFile());
      List<BackupSet.Part> parts = new ArrayList<>();
      for (JsonNode p : n.path("parts")) {
        String file = p.path("file").asText();
        if (!List.of("cfn.db", "memory.db", "calls.db").contains(file)
            && !NODE_FILES.contains(file)
            && !(file.startsWith("keys/")
                && KEY_FILE.matcher(file.substring("keys/".length())).matches())) {
          throw new JournalException(
              manifest + " names an unexpected file " + file + ": the set is damaged");
        }
        Path f = dir.resolve(file);
        BackupSet.Part want =
            new BackupSet.Part(
                p.path("role").asText(),
                file,
                p.path("bytes").asLong(),
                p.path("sha256").asText(),
                Instant.parse(p.path("snapshotAt").asText()));
        if (!Files.isRegularFile(f)
            || Files.size(f) != want.bytes()
            || !sha256(f).equals(want.sha256())) {
          throw new JournalException(
              f
                  + " does not match the manifest (missing, or its size or SHA-256 differs): the set is"
                  + " damaged; restore an older one");
        }
        parts.add(want);
      }
      if (parts.stream().noneMatch(p -> p.role().equals("journal"))) {
        throw new JournalException(manifest + " lists no journal: the set is damaged");
      }
      return new BackupSet(dir, Instant.parse(n.path("takenAt").asText()), parts);
    } catch (IOException | RuntimeException e) {
      if (e instanceof JournalException je) {
        throw je;
      }
      throw new JournalException("cannot read the backup set " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The newest complete set in {@code backupDir} (by name), if any. */
  public static Optional<Path> latest(Path backupDir) {
    return sets(backupDir).stream().max(Comparator.comparing(p -> PrivateFiles.nameOf(p)));
  }

  /** The complete sets in {@code backupDir}. */
  public static List<Path> sets(Path backupDir) {
    List<Path> found = new ArrayList<>();
    if (!Files.isDirectory(backupDir)) {
      return found;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(backupDir)) {
      for (Path e : entries) {
        if (NAME.matcher(PrivateFiles.nameOf(e)).matches()
            && Files.isRegularFile(e.resolve(MANIFEST))) {
          found.add(e);
        }
      }
    } catch (IOException e) {
      throw new JournalException("cannot list " + backupDir + ": " + e.getMessage(), e);
    }
    return found;
  }

  /**
   * Verifies {@code set} and restores it into {@code into}, for a stopped node.
   *
   * @return the set restored
   * @throws JournalException when the set is damaged (nothing changed), or a journal is open on the
   *     target
   */
  public static BackupSet restore(Path set, StoreFiles into) {
    return restore(set, into, false);
  }

  /**
   * Verifies {@code set} and restores its keyring alone (the {@code keys} parts) into the folder of
   * {@code into}'s journal, where it has none: the second half of a restore, for the keyring
   * exported apart from the other sets ({@code cfn dr backup --include-keys}).
   *
   * @return the set
   * @throws JournalException when the set is damaged or holds no keyring (nothing changed)
   */
  public static BackupSet restoreKeys(Path set, StoreFiles into) {
    BackupSet s = verify(set);
    if (s.parts().stream().noneMatch(p -> p.role().equals(ROLE_KEYS))) {
      throw new JournalException(
          s.dir()
              + " holds no keyring: give a set taken with cfn dr backup --include-keys; nothing"
              + " was changed");
    }
    return restore(set, into, true);
  }

  private static BackupSet restore(Path set, StoreFiles into, boolean keysOnly) {
    BackupSet s = verify(set);
    if (!keysOnly) {
      JournalFiles.restore(s.dir().resolve("cfn.db"), into.journal());
    }
    Path cfn = PrivateFiles.parentOf(into.journal().toAbsolutePath().normalize());
    for (BackupSet.Part p : s.parts()) {
      if (p.role().equals("journal") || (keysOnly && !p.role().equals(ROLE_KEYS))) {
        continue;
      }
      if (p.role().equals(ROLE_NODE) || p.role().equals(ROLE_KEYS)) {
        Path target = cfn.resolve(p.file());
        if (Files.exists(target)) {
          log.info(
              "kept {}: the node's own copy wins over the set's (a restored token file would bring"
                  + " back revoked tokens, a restored keyring could hide newer keys)",
              target);
          continue;
        }
        restorePart(s, p, target, true);
        continue;
      }
      restorePart(s, p, p.role().equals("memory") ? into.memory() : into.calls(), false);
    }
    return s;
  }

  /**
   * Copies part {@code p} of set {@code s} to {@code target} through a temporary file beside it,
   * forced to disk and moved in atomically. A node file ({@code nodeFile}: token file, keyring) is
   * copied privately (0600); a database's files it replaces ({@code -wal}, {@code -shm} and the
   * file) are first moved aside as {@code .before-restore-STAMP}.
   */
  private static void restorePart(BackupSet s, BackupSet.Part p, Path target, boolean nodeFile) {
    try {
      PrivateFiles.createDirectories(PrivateFiles.parentOf(target));
      Path tmp = target.resolveSibling("." + target.getFileName() + ".restoring");
      Files.deleteIfExists(tmp);
      if (nodeFile) {
        copyPrivately(s.dir().resolve(p.file()), tmp);
      } else {
        Files.copy(s.dir().resolve(p.file()), tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        String stamp = STAMP.format(Instant.now());
        for (String suffix : List.of("-wal", "-shm", "")) {
          Path old = target.resolveSibling(target.getFileName() + suffix);
          if (Files.exists(old)) {
            Files.move(
                old,
                target.resolveSibling(target.getFileName() + ".before-restore-" + stamp + suffix));
          }
        }
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      PrivateFiles.forceFolder(PrivateFiles.parentOf(target));
    } catch (IOException e) {
      throw new JournalException(
          "cannot restore "
              + p.file()
              + " of "
              + s.dir()
              + " into "
              + target
              + " ("
              + e
              + "): check that its folder is writable",
          e);
    }
  }

  /** A running schedule of backup sets; {@link #close()} stops it. */
  public static final class Schedule implements AutoCloseable {
    private final ScheduledExecutorService executor;
    private final StoreFiles files;
    private final Path dir;
    private final int keep;
    private final Clock clock;
    private volatile BackupSet latest;

    private Schedule(StoreFiles files, Path dir, int keep, Clock clock) {
      this.files = files;
      this.dir = dir;
      this.keep = keep;
      this.clock = clock;
      this.executor =
          Executors.newSingleThreadScheduledExecutor(
              r -> Thread.ofPlatform().name("cfn-backup-sets").daemon(true).unstarted(r));
    }

    /** Takes one set now and deletes the oldest beyond {@code keep}; empty (logged) on failure. */
    public synchronized Optional<BackupSet> runOnce() {
      try {
        Path target = dir.resolve(PREFIX + STAMP.format(clock.instant()));
        for (int n = 2; Files.exists(target); n++) {
          target = dir.resolve(PREFIX + STAMP.format(clock.instant()) + "-" + n);
        }
        BackupSet set = take(files, target);
        latest = set;
        List<Path> all = new ArrayList<>(sets(dir));
        all.sort(Comparator.comparing((Path p) -> PrivateFiles.nameOf(p)).reversed());
        for (Path old : all.subList(Math.min(keep, all.size()), all.size())) {
          deleteTree(old);
        }
        log.debug("backup set {} taken", set.dir());
        return Optional.of(set);
      } catch (IOException | RuntimeException e) {
        log.warn(
            "scheduled backup into {} failed: {}; retrying at the next interval",
            dir,
            e.getMessage());
        return Optional.empty();
      }
    }

    /** The newest set this schedule took, if any. */
    public Optional<BackupSet> latest() {
      return Optional.ofNullable(latest);
    }

    /** Stops the schedule, waiting for a set being taken. */
    @Override
    public void close() {
      executor.shutdownNow();
      try {
        executor.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Takes a set of {@code files} into {@code backupDir} every {@code every} (the first one interval
   * from now), keeping the newest {@code keep}.
   */
  public static Schedule schedule(StoreFiles files, Path backupDir, Duration every, int keep) {
    if (every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("the backup interval must be positive, was " + every);
    }
    if (keep < 1) {
      throw new IllegalArgumentException("keep at least 1 backup, was " + keep);
    }
    Schedule s =
        new Schedule(files, backupDir.toAbsolutePath().normalize(), keep, Clock.systemUTC());
    long n = every.toNanos();
    s.executor.scheduleAtFixedRate(
        () -> {
          try {
            s.runOnce();
          } catch (Throwable t) { // an escaping throwable would cancel every later backup
            log.error("scheduled backup failed unexpectedly", t);
          }
        },
        n,
        n,
        TimeUnit.NANOSECONDS);
    return s;
  }

  private static BackupSet.Part part(String role, Path file, Instant at) throws IOException {
    return part(role, PrivateFiles.nameOf(file), file, at);
  }

  private static BackupSet.Part part(String role, String name, Path file, Instant at)
      throws IOException {
    return new BackupSet.Part(role, name, Files.size(file), sha256(file), at);
  }

  /** Copies {@code from} to the new file {@code to}, owner-only, forced to disk. */
  private static void copyPrivately(Path from, Path to) throws IOException {
    Files.createFile(to, PrivateFiles.fileAttributes());
    try (InputStream in = Files.newInputStream(from);
        FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buf, 0, n);
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      ch.force(true);
    }
  }

  private static byte[] manifest(BackupSet set) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("format", 1).put("takenAt", set.takenAt().toString());
    ArrayNode parts = n.putArray("parts");
    for (BackupSet.Part p : set.parts()) {
      parts
          .addObject()
          .put("role", p.role())
          .put("file", p.file())
          .put("bytes", p.bytes())
          .put("sha256", p.sha256())
          .put("snapshotAt", p.snapshotAt().toString());
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
  }

  private static Connection readOnly(Path file) throws SQLException {
    SqliteLibrary.install();
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(SqliteLibrary.BUSY_TIMEOUT_MILLIS);
    return SqliteLibrary.connect("jdbc:sqlite:" + file, config.toProperties());
  }

  private static void vacuumInto(Path from, Path to) throws IOException {
    Files.createFile(to, PrivateFiles.fileAttributes());
    try (Connection c = readOnly(from);
        PreparedStatement vacuum = c.prepareStatement("VACUUM INTO ?")) {
      vacuum.setString(1, to.toString());
      vacuum.execute();
    } catch (SQLException e) {
      throw new JournalException("cannot copy " + from + " into " + to + ": " + e.getMessage(), e);
    }
    try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static void integrityCheck(Path copy, String role) {
    try (Connection c = readOnly(copy);
        Statement sql = c.createStatement();
        ResultSet r = sql.executeQuery("PRAGMA integrity_check")) {
      String first = r.next() ? r.getString(1) : "no answer";
      if (!"ok".equals(first)) {
        throw new JournalException(
            "the copy of the "
                + role
                + " failed SQLite's integrity check ("
                + first
                + "): check the source with cfn store check");
      }
    } catch (SQLException e) {
      throw new JournalException("cannot check the copy of the " + role + ": " + e.getMessage(), e);
    }
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
