package dev.cfn.store.sqlite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.util.LibraryLoaderUtil;

/**
 * The one way cfn-store opens SQLite connections, and the place that decides where the SQLite
 * native library is loaded from before the driver first loads it.
 *
 * <p>Left alone, sqlite-jdbc copies its native library out of its jar into {@code java.io.tmpdir}
 * under a new random name in every JVM and deletes it at a normal exit only: every JVM killed with
 * SIGKILL leaves a megabyte behind (hundreds of files after a crash test), and each start pays for
 * the copy. Instead, {@link #connect} first extracts the library once to a stable cache directory,
 * {@code ${XDG_CACHE_HOME:-~/.cache}/cfn/sqlite-jdbc-<version>-<sha256 prefix>/}, and points
 * sqlite-jdbc at it ({@code org.sqlite.lib.path} and {@code org.sqlite.lib.name}). The copy is
 * written to a temporary name and renamed into place atomically, its SHA-256 is checked before
 * every use, and the directories are created {@code 0700} and must belong to this user and be
 * writable by nobody else; so a concurrent start, a half-written copy or a file planted by another
 * user is never loaded.
 *
 * <p>The check before every use is cheap: after a copy was extracted and verified against the jar,
 * a small record ({@code sqlite-jdbc-<version>-<jar location hash>.verified}, in the same private
 * directory) keeps the jar's path, size and modification time, the copy's path and its SHA-256. A
 * later JVM started from the same, unchanged jar hashes the copy and compares it with the record,
 * without inflating the library out of the jar and hashing that too, and without sqlite-jdbc's
 * platform detection (which forks {@code uname}): together about 50 to 250 ms of every start on a
 * busy 2-core machine, where {@code cfn chaos crash} measures restarts. Any mismatch (another jar,
 * a changed copy, a missing or malformed record) takes the full path, which extracts again if
 * needed and rewrites the record. When the cache cannot be used (no home directory, read-only disk,
 * wrong owner, a platform whose library the jar lacks), or the application already set {@code
 * org.sqlite.lib.path}, nothing is changed and sqlite-jdbc's own extraction applies (logged at
 * debug level).
 */
public final class SqliteLibrary {
  private static final Logger log = LoggerFactory.getLogger(SqliteLibrary.class);
  private static final String PATH_PROPERTY = "org.sqlite.lib.path";
  private static final String NAME_PROPERTY = "org.sqlite.lib.name";

  private static boolean installed; // guarded by SqliteLibrary.class

  /** How long a connection waits for another writer before failing: five seconds. */
  public static final int BUSY_TIMEOUT_MILLIS = 5_000;

  private SqliteLibrary() {}

  /**
   * Ends a read transaction. After SQLite met a damaged page, {@code COMMIT} may fail with that
   * error again; nothing was written, so the transaction is rolled back instead and the check's
   * findings stand.
   */
  public static void endRead(Statement sql) {
    try {
      sql.execute("COMMIT");
    } catch (SQLException e) {
      try {
        sql.execute("ROLLBACK");
      } catch (SQLException ignored) {
        // no transaction left: nothing to end
      }
    }
  }

  /** Opens {@code url} with {@code properties} (may be null), after {@link #install()}. */
  public static Connection connect(String url, Properties properties) throws SQLException {
    install();
    return properties == null
        ? DriverManager.getConnection(url)
        : DriverManager.getConnection(url, properties);
  }

  /** Guards {@link #install}; private, so no other code can hold it (unlike the class monitor). */
  private static final Object INSTALL_LOCK = new Object();

  /** Points sqlite-jdbc at the cached native library, once per JVM; see the class comment. */
  public static void install() {
    synchronized (INSTALL_LOCK) {
      if (installed) {
        return;
      }
      installed = true;
      if (System.getProperty(PATH_PROPERTY) != null) {
        return; // the application chose
      }
      try {
        Path root = cacheRoot();
        if (root == null) {
          log.debug("no cache directory for the SQLite native library; sqlite-jdbc extracts it");
          return;
        }
        Path library = extract(root);
        if (library != null) {
          System.setProperty(PATH_PROPERTY, PrivateFiles.parentOf(library).toString());
          System.setProperty(NAME_PROPERTY, PrivateFiles.nameOf(library));
        }
      } catch (IOException | RuntimeException e) {
        log.debug(
            "cannot cache the SQLite native library ({}); sqlite-jdbc extracts it", e.toString());
      }
    }
  }

  /**
   * Extracts the native library for this platform under {@code root} (unless a verified copy is
   * there) and returns its path; null when the jar has none for this platform.
   */
  public static Path extract(Path root) throws IOException {
    Path verified = verifiedBefore(root);
    if (verified != null) {
      return verified;
    }
    String resource =
        LibraryLoaderUtil.getNativeLibResourcePath() + "/" + LibraryLoaderUtil.getNativeLibName();
    byte[] bytes;
    try (InputStream in = LibraryLoaderUtil.class.getResourceAsStream(resource)) {
      if (in == null) {
        return null;
      }
      bytes = in.readAllBytes();
    }
    String sha256 = sha256(bytes);
    Path dir = root.resolve("sqlite-jdbc-" + version() + "-" + sha256.substring(0, 16));
    Path library = dir.resolve(LibraryLoaderUtil.getNativeLibName());
    PrivateFiles.createDirectories(dir);
    requirePrivate(root);
    requirePrivate(dir);
    if (Files.isRegularFile(library, LinkOption.NOFOLLOW_LINKS)
        && sha256.equals(sha256(Files.readAllBytes(library)))) {
      remember(root, library, sha256);
      return library;
    }
    Path temporary =
        Files.createTempFile(
            dir,
            "." + library.getFileName(),
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try {
      Files.write(temporary, bytes);
      try {
        Files.move(
            temporary,
            library,
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        return null;
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
    if (!sha256.equals(sha256(Files.readAllBytes(library)))) {
      throw new IOException(library + " changed while it was written");
    }
    log.debug("extracted the SQLite native library to {}", library);
    remember(root, library, sha256);
    return library;
  }

  /**
   * The record of the last verified copy for the driver's jar {@code jar} (see the class comment):
   * one per jar location, so JVMs started from different jars do not overwrite each other's.
   */
  private static Path record(Path root, String jar) throws IOException {
    String location = jar.substring(0, jar.indexOf('\n'));
    return root.resolve(
        "sqlite-jdbc-" + version() + "-" + Integer.toHexString(location.hashCode()) + ".verified");
  }

  /**
   * The driver's jar as {@code path size modified-millis}, or null when it is not a local file
   * (then every start takes the full path).
   */
  private static String driverJar() {
    try {
      java.security.CodeSource source =
          LibraryLoaderUtil.class.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null) {
        return null;
      }
      Path jar = Path.of(source.getLocation().toURI());
      if (!Files.isRegularFile(jar)) {
        return null;
      }
      return jar + "\n" + Files.size(jar) + "\n" + Files.getLastModifiedTime(jar).toMillis();
    } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The copy a record says was verified for this very jar, if its content still has the recorded
   * SHA-256; else null.
   */
  private static Path verifiedBefore(Path root) throws IOException {
    String jar = driverJar();
    if (jar == null || !Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    requirePrivate(root);
    Path record = record(root, jar);
    if (!Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    String[] lines = Files.readString(record).split("\n", -1);
    if (lines.length != 6 || !jar.equals(lines[0] + "\n" + lines[1] + "\n" + lines[2])) {
      return null;
    }
    Path library = Path.of(lines[3]).normalize();
    Path dir = library.getParent();
    if (dir == null || !root.normalize().equals(dir.getParent())) {
      return null;
    }
    requirePrivate(dir);
    if (!Files.isRegularFile(library, LinkOption.NOFOLLOW_LINKS)
        || !lines[4].equals(sha256(Files.readAllBytes(library)))) {
      return null;
    }
    return library;
  }

  /** Writes the record of a verified copy (atomically, owner-only); a failure only costs speed. */
  private static void remember(Path root, Path library, String sha256) {
    String jar = driverJar();
    if (jar == null) {
      return;
    }
    try {
      Path record = record(root, jar);
      Path temporary =
          Files.createTempFile(
              root, "." + record.getFileName(), ".tmp", PrivateFiles.fileAttributes());
      try {
        Files.writeString(temporary, jar + "\n" + library + "\n" + sha256 + "\n");
        Files.move(
            temporary, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot record the verified SQLite native library ({})", e.toString());
    }
  }

  /** {@code ${XDG_CACHE_HOME:-~/.cache}/cfn}, null when neither is known. */
  public static Path cacheRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "cfn");
    }
    String home = System.getProperty("user.home");
    if (home == null || home.isBlank() || "?".equals(home)) {
      return null;
    }
    return Path.of(home, ".cache", "cfn");
  }

  /** Throws unless {@code dir} belongs to this user and nobody else may write it. */
  private static void requirePrivate(Path dir) throws IOException {
    PosixFileAttributes attributes =
        Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    String me = System.getProperty("user.name");
    if (!attributes.isDirectory()
        || !attributes.owner().getName().equals(me)
        || attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)
        || attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException(
          dir + " is not a directory of " + me + " that only " + me + " may write");
    }
  }

  /** The sqlite-jdbc version, from its jar's Maven metadata ("unknown" when absent). */
  private static String version() throws IOException {
    try (InputStream in =
        LibraryLoaderUtil.class.getResourceAsStream(
            "/META-INF/maven/org.xerial/sqlite-jdbc/pom.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "unknown").replaceAll("[^A-Za-z0-9._-]", "_");
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
