package dev.cfn.store.seal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.crypto.PlainRecords;
import dev.cfn.store.crypto.RecordCipher;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.memory.SqliteMemoryStore;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.PrivateFiles;
import dev.cfn.store.sqlite.SqliteLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.sqlite.SQLiteConfig;

/**
 * {@code cfn keys seal-existing}: rewrites the store files of a {@code .cfn} folder that were
 * written before its keyring existed, so that no record in them stays plain, and none of their
 * plaintext stays in free pages, write-ahead logs or the full-text index.
 *
 * <p><b>Which files.</b> Every SQLite file under {@code .cfn} whose application id says it is a
 * journal ({@code cfn.db}, and single-file journal backups such as {@code cfn backup --to} writes),
 * a memory file or a call log, when it holds a plain record, free pages (which may keep deleted
 * plaintext) or a write-ahead log; with {@code force}, every one of them. Backup sets ({@code cfn
 * dr backup}: folders with a {@code manifest.json}) are not rewritten, since their manifest vouches
 * for every byte; they are listed, so that the operator can take a new set and delete the old ones.
 *
 * <p><b>How, per file</b>, while holding the journal's lock ({@code cfn.db.lock}, so no runtime can
 * start, and a running one makes this refuse before anything is touched):
 *
 * <ol>
 *   <li>its write-ahead log is checkpointed into the file and truncated, so the file alone holds
 *       every committed record;
 *   <li>a consistent copy is made ({@code VACUUM INTO}) in the hidden sibling {@code
 *       .NAME.seal-copy}, marked as encrypted, and its plain records are sealed in one transaction
 *       (each row's checksum rewritten with it; a row that fails its checksum stops the run);
 *   <li>that copy is compacted ({@code VACUUM INTO} again) into {@code .NAME.seal-new}, which holds
 *       no free page, so no plaintext; the first copy is deleted;
 *   <li>{@code .NAME.seal-new} is verified (SQLite's integrity check, the keyring's mark, no plain
 *       record left, every sealed record opens and every checksum holds) and forced to disk;
 *   <li>it is renamed over {@code NAME} (one atomic rename) and the folder is forced.
 * </ol>
 *
 * <p><b>A crash</b> at any point leaves {@code NAME} whole: the old plain file until the rename,
 * the new sealed one after it; never neither, and never a write-ahead log of one beside the other
 * (the old log is empty before the rename). Hidden {@code .seal-copy} / {@code .seal-new} files a
 * crash leaves are removed by the next run (the first may hold plaintext: run it again).
 *
 * <p>Depends on the store packages ({@code journal}, {@code memory}, {@code calls}: their {@link
 * PlainRecords}) and {@code crypto}; nothing depends on it but the CLI.
 */
public final class SealExisting {
  static final String COPY_SUFFIX = ".seal-copy";
  static final String NEW_SUFFIX = ".seal-new";
  private static final byte[] SQLITE_MAGIC =
      "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private SealExisting() {}

  /** The steps of one file, in order, for {@link Listener}. */
  public enum Stage {
    /** The write-ahead log is checkpointed and a copy made; the file is as it was. */
    COPIED,
    /** The copy's plain records are sealed; the file is as it was. */
    SEALED,
    /** The compacted, sealed copy is verified and on disk; the file is as it was. */
    VERIFIED,
    /** The sealed copy has replaced the file. */
    SWAPPED
  }

  /** Told of each step as it completes (the CLI prints progress; tests stop at a known step). */
  @FunctionalInterface
  public interface Listener {
    /** {@code file} has reached {@code stage}. */
    void reached(Stage stage, Path file);

    /** A listener that does nothing. */
    static Listener none() {
      return (stage, file) -> {};
    }
  }

  /**
   * What one store file holds, before anything is changed.
   *
   * @param file the file
   * @param store whose data keys seal it: {@code journal}, {@code memory} or {@code calls}
   * @param marked whether it is marked encrypted (by this keyring: another keyring is refused)
   * @param plainRecords records whose sensitive field is plain
   * @param freePages free pages, which may keep the text of deleted records
   * @param walBytes the size of its write-ahead log ({@code -wal}), 0 when there is none
   */
  public record FileState(
      Path file, String store, boolean marked, long plainRecords, long freePages, long walBytes) {
    /** Whether any of its bytes may hold plaintext of a sealed field. */
    public boolean needsSealing() {
      return plainRecords > 0 || freePages > 0 || walBytes > 0;
    }
  }

  /**
   * What a run would do.
   *
   * @param files every store file found, with its state
   * @param backupSets backup sets found under {@code .cfn}; never rewritten
   */
  public record Plan(List<FileState> files, List<Path> backupSets) {
    /** The files a run rewrites ({@code force}: all of them). */
    public List<FileState> toSeal(boolean force) {
      return files.stream().filter(f -> force || f.needsSealing()).toList();
    }
  }

  /**
   * What one file became.
   *
   * @param file the file, now sealed
   * @param store whose data keys seal it
   * @param recordsSealed plain records sealed by this run
   * @param sealedRecords sealed records in the file now (every one verified to open)
   * @param bytesBefore the file's size before (plus its write-ahead log)
   * @param bytesAfter its size now
   */
  public record Sealed(
      Path file,
      String store,
      long recordsSealed,
      long sealedRecords,
      long bytesBefore,
      long bytesAfter) {}

  /**
   * What a run did.
   *
   * @param sealed the files rewritten
   * @param untouched the files that needed nothing
   * @param backupSets backup sets found and left as they are (they may hold plaintext of before)
   * @param leftoversRemoved hidden files of an interrupted earlier run that were removed
   */
  public record Report(
      List<Sealed> sealed, List<Path> untouched, List<Path> backupSets, int leftoversRemoved) {}

  /**
   * Looks at every store file under {@code cfn} without changing anything, after checking that no
   * runtime holds the node's lock and that each marked file is this keyring's.
   *
   * @throws JournalException when a runtime holds the lock (naming it: stop it first)
   * @throws KeyringException when a file was encrypted under another keyring, or the master key
   *     does not open a store's data keys
   * @throws IllegalArgumentException when {@code cfn} is not a folder
   */
  public static Plan plan(Path cfn, Keyring keyring) {
    requireFolder(cfn);
    try (JournalFiles.Lock lock = lockNode(cfn)) {
      return look(cfn, keyring);
    }
  }

  /**
   * Seals the files {@link #plan} finds (all of them with {@code force}), one at a time, holding
   * the node's lock throughout. A failure stops the run: the file it was on is as it was, and files
   * sealed before it stay sealed (a second run continues).
   *
   * @throws JournalException as {@link #plan}, or when a file fails verification or cannot be
   *     written
   * @throws KeyringException as {@link #plan}
   */
  public static Report run(Path cfn, Keyring keyring, boolean force, Listener listener) {
    requireFolder(cfn);
    Objects.requireNonNull(listener, "listener");
    try (JournalFiles.Lock lock = lockNode(cfn)) {
      int removed = removeLeftovers(cfn);
      Plan plan = look(cfn, keyring);
      List<Sealed> sealed = new ArrayList<>();
      List<Path> untouched = new ArrayList<>();
      for (FileState f : plan.files()) {
        if (!force && !f.needsSealing()) {
          untouched.add(f.file());
          continue;
        }
        RecordCipher cipher = keyring.cipher(f.store());
        try (AtRest atRest = AtRest.sealedWith(cipher)) {
          sealed.add(sealFile(f, kind(f.store()), atRest, listener));
        } finally {
          cipher.close();
        }
      }
      return new Report(sealed, untouched, plan.backupSets(), removed);
    }
  }

  private static void requireFolder(Path cfn) {
    if (!Files.isDirectory(cfn)) {
      throw new IllegalArgumentException(
          "no .cfn folder at "
              + cfn.toAbsolutePath()
              + ", so there is nothing to seal; nothing was changed (fix: give the project folder"
              + " that holds .cfn with --home DIR)");
    }
  }

  private static JournalFiles.Lock lockNode(Path cfn) {
    try {
      return JournalFiles.lock(cfn.resolve("cfn.db"));
    } catch (JournalException e) {
      throw new JournalException(
          "cannot seal the files of "
              + cfn
              + " while a node runs on them: "
              + e.getMessage()
              + "; nothing was changed (fix: stop cfn serve, or the process named, then run it"
              + " again)",
          e);
    }
  }

  // ---- finding the files ----

  private static Plan look(Path cfn, Keyring keyring) {
    List<FileState> files = new ArrayList<>();
    List<Path> sets = new ArrayList<>();
    List<Path> candidates;
    try (Stream<Path> walk = Files.walk(cfn, 4)) {
      candidates =
          walk.filter(Files::isRegularFile)
              .filter(p -> !PrivateFiles.nameOf(p).startsWith("."))
              .sorted()
              .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + cfn + ": " + e.getMessage(), e);
    }
    for (Path p : candidates) {
      if (PrivateFiles.nameOf(p).equals("manifest.json")) {
        sets.add(p.getParent());
        continue;
      }
      String store = storeOf(p);
      if (store == null) {
        continue;
      }
      if (insideSet(cfn, p)) {
        continue;
      }
      files.add(state(p, store, keyring));
    }
    return new Plan(List.copyOf(files), List.copyOf(sets));
  }

  private static boolean insideSet(Path cfn, Path file) {
    for (Path d = file.getParent(); d != null && d.startsWith(cfn); d = d.getParent()) {
      if (Files.exists(d.resolve("manifest.json"))) {
        return true;
      }
    }
    return false;
  }

  /** The store a file belongs to, from its SQLite header's application id; null when none. */
  static String storeOf(Path file) {
    byte[] header = new byte[100];
    try (InputStream in = Files.newInputStream(file)) {
      if (in.readNBytes(header, 0, 100) < 100) {
        return null;
      }
    } catch (IOException e) {
      return null;
    }
    if (!Arrays.equals(header, 0, SQLITE_MAGIC.length, SQLITE_MAGIC, 0, SQLITE_MAGIC.length)) {
      return null;
    }
    int applicationId = ByteBuffer.wrap(header, 68, 4).getInt();
    return switch (applicationId) {
      case Migrations.JOURNAL_APPLICATION_ID -> "journal";
      case Migrations.MEMORY_APPLICATION_ID -> "memory";
      case Migrations.CALL_LOG_APPLICATION_ID -> "calls";
      default -> null;
    };
  }

  private static PlainRecords kind(String store) {
    return switch (store) {
      case "journal" -> JournalFiles.plainRecords();
      case "memory" -> SqliteMemoryStore.plainRecords();
      case "calls" -> SqliteCallLogStore.plainRecords();
      default -> throw new IllegalArgumentException("no store " + store);
    };
  }

  private static FileState state(Path file, String store, Keyring keyring) {
    RecordCipher cipher = keyring.cipher(store); // a wrong master key fails here, naming it
    try (AtRest atRest = AtRest.sealedWith(cipher);
        Connection c = readOnly(file);
        Statement sql = c.createStatement()) {
      int mark = pragma(sql, "user_version");
      if (mark != 0) {
        atRest.checkFile(c, file, false); // another keyring's file is refused here
      }
      sql.execute("BEGIN");
      try {
        long plain = kind(store).count(c);
        long free = pragma(sql, "freelist_count");
        return new FileState(file, store, mark != 0, plain, free, walBytes(file));
      } finally {
        SqliteLibrary.endRead(sql);
      }
    } catch (SQLException e) {
      throw new JournalException(
          "cannot read "
              + file
              + ": "
              + e.getMessage()
              + "; nothing was changed (fix: check it with cfn store check, or restore it from a"
              + " backup)",
          e);
    } finally {
      cipher.close();
    }
  }

  // ---- sealing one file ----

  private static Sealed sealFile(FileState f, PlainRecords records, AtRest atRest, Listener l) {
    Path file = f.file();
    Path copy = sibling(file, COPY_SUFFIX);
    Path fresh = sibling(file, NEW_SUFFIX);
    try {
      checkpoint(file);
      long before = Files.size(file) + walBytes(file);
      FileTime modified = Files.getLastModifiedTime(file);
      vacuumInto(readOnly(file), copy);
      l.reached(Stage.COPIED, file);
      long sealedNow;
      try (Connection c = writable(copy);
          Statement sql = c.createStatement()) {
        sql.execute("PRAGMA journal_mode = MEMORY"); // no rollback journal file holds old pages
        sql.execute("PRAGMA secure_delete = ON");
        atRest.checkFile(c, copy, true); // marks it encrypted
        sql.execute("BEGIN IMMEDIATE");
        try {
          sealedNow = records.seal(c, atRest);
          sql.execute("COMMIT");
        } catch (SQLException | RuntimeException e) {
          sql.execute("ROLLBACK");
          throw e;
        }
        l.reached(Stage.SEALED, file);
        try (PreparedStatement vacuum = c.prepareStatement("VACUUM INTO ?")) {
          Files.createFile(fresh, PrivateFiles.fileAttributes());
          vacuum.setString(1, fresh.toString());
          vacuum.execute();
        }
      }
      Files.delete(copy);
      force(fresh);
      long sealedRecords = verify(fresh, records, atRest);
      l.reached(Stage.VERIFIED, file);
      if (!Files.getLastModifiedTime(file).equals(modified) || walBytes(file) > 0) {
        throw new JournalException(
            file
                + " changed while it was being sealed (another cfn command wrote it); it was left"
                + " as it was (fix: let that command finish, then run cfn keys seal-existing"
                + " again)");
      }
      Files.deleteIfExists(file.resolveSibling(PrivateFiles.nameOf(file) + "-wal"));
      Files.deleteIfExists(file.resolveSibling(PrivateFiles.nameOf(file) + "-shm"));
      Files.move(fresh, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      PrivateFiles.forceFolder(PrivateFiles.parentOf(file));
      l.reached(Stage.SWAPPED, file);
      return new Sealed(file, f.store(), sealedNow, sealedRecords, before, Files.size(file));
    } catch (IOException | SQLException e) {
      throw new JournalException(
          "cannot seal "
              + file
              + ": "
              + e.getMessage()
              + "; it was left as it was (fix: check that "
              + PrivateFiles.parentOf(file)
              + " is writable and has room for two copies of it, then run it again)",
          e);
    } finally {
      deleteQuietly(copy);
      deleteQuietly(fresh);
    }
  }

  /** Folds the write-ahead log into the file and truncates it, so the file alone is complete. */
  private static void checkpoint(Path file) throws SQLException {
    if (walBytes(file) == 0) {
      return;
    }
    try (Connection c = writable(file);
        Statement sql = c.createStatement();
        ResultSet rs = sql.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
      if (rs.next() && rs.getInt(1) != 0) {
        throw new JournalException(
            file
                + " is in use (its write-ahead log could not be checkpointed); it was left as it"
                + " was (fix: stop the process that has it open, then run it again)");
      }
    }
  }

  private static long verify(Path fresh, PlainRecords records, AtRest atRest) throws SQLException {
    try (Connection c = readOnly(fresh);
        Statement sql = c.createStatement()) {
      try (ResultSet rs = sql.executeQuery("PRAGMA integrity_check")) {
        String result = rs.next() ? rs.getString(1) : "no answer";
        if (!"ok".equals(result)) {
          throw new JournalException(
              "the sealed copy " + fresh + " fails SQLite's integrity check: " + result);
        }
      }
      if (pragma(sql, "user_version") == 0) {
        throw new JournalException("the sealed copy " + fresh + " is not marked encrypted");
      }
      atRest.checkFile(c, fresh, false);
      long plain = records.count(c);
      if (plain != 0) {
        throw new JournalException(
            "the sealed copy " + fresh + " still holds " + plain + " plain record(s)");
      }
      return records.verify(c, atRest);
    }
  }

  private static void vacuumInto(Connection from, Path to) throws IOException, SQLException {
    Files.createFile(to, PrivateFiles.fileAttributes()); // 0600: SQLite would make it 0644
    try (from;
        PreparedStatement vacuum = from.prepareStatement("VACUUM INTO ?")) {
      vacuum.setString(1, to.toString());
      vacuum.execute();
    }
  }

  private static void force(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static int removeLeftovers(Path cfn) {
    int removed = 0;
    try (Stream<Path> walk = Files.walk(cfn, 4)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        String name = PrivateFiles.nameOf(p);
        if (name.startsWith(".") && (name.contains(COPY_SUFFIX) || name.contains(NEW_SUFFIX))) {
          Files.deleteIfExists(p);
          removed++;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot remove what an interrupted run left in " + cfn + ": " + e.getMessage(), e);
    }
    return removed;
  }

  private static Path sibling(Path file, String suffix) {
    return file.resolveSibling("." + PrivateFiles.nameOf(file) + suffix);
  }

  private static long walBytes(Path file) {
    try {
      Path wal = file.resolveSibling(PrivateFiles.nameOf(file) + "-wal");
      return Files.exists(wal) ? Files.size(wal) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static int pragma(Statement sql, String name) throws SQLException {
    try (ResultSet rs = sql.executeQuery("PRAGMA " + name)) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  private static Connection readOnly(Path file) throws SQLException {
    SqliteLibrary.install();
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(SqliteLibrary.BUSY_TIMEOUT_MILLIS);
    return SqliteLibrary.connect("jdbc:sqlite:" + file, config.toProperties());
  }

  private static Connection writable(Path file) throws SQLException {
    SqliteLibrary.install();
    SQLiteConfig config = new SQLiteConfig();
    config.setBusyTimeout(SqliteLibrary.BUSY_TIMEOUT_MILLIS);
    return SqliteLibrary.connect("jdbc:sqlite:" + file, config.toProperties());
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a leftover is removed by the next run
    }
  }
}
