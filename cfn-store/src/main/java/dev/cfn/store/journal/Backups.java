package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.sqlite.PrivateFiles;
import dev.cfn.store.sqlite.SqliteErrors;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConnection;

/**
 * Online backups and restores of journal files.
 *
 * <p><b>Backup.</b> A read-only connection to the journal runs {@code VACUUM INTO} a hidden
 * temporary sibling of the target. {@code VACUUM INTO} reads the whole database in one read
 * transaction, so the copy is one committed state of the journal: in WAL mode that read transaction
 * sees every transaction committed before it began and none after, and the writer (this process's
 * or another's) carries on meanwhile. The copy is then fsynced, verified on its own (SQLite's
 * integrity check, the schema version, the checksum of every record, and the counts of {@link
 * BackupInfo} in the same read transaction), and only then published under the target name: by a
 * hard link, which fails rather than replace an existing file, or by an atomic rename where the
 * file system has no hard links; the directory is fsynced last. A crash at any point therefore
 * leaves either no file under the target name or a complete, verified, durable backup, plus at
 * worst a hidden {@code .<name>.<pid>-<start>-<random>.cfn-partial} file, which the next backup
 * into that directory (or the next open of a journal there) deletes once its writer is gone.
 *
 * <p><b>Restore.</b> Verifies the backup the same way, takes the database's lock (so no journal can
 * open it meanwhile, and a journal open on it, in this process or another, makes the restore fail),
 * copies it ({@code VACUUM INTO} again, so that a backup that is itself in WAL mode is copied with
 * its log) to a hidden sibling of the database, verifies the copy, moves the current database files
 * aside ({@code -wal} first, so that an interrupted restore never leaves a log beside a file it
 * does not belong to) and renames the copy into place.
 */
final class Backups {
  private static final Logger log = LoggerFactory.getLogger(Backups.class);

  /** UTC timestamps in file names: sortable, and without the colons some file systems refuse. */
  static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** The companion files SQLite keeps beside a database, moved with it. */
  private static final List<String> COMPANIONS = List.of("-wal", "-shm", "-journal");

  private Backups() {}

  /**
   * Stops a backup in progress: {@link #cancel()} interrupts the SQLite statement running on the
   * registered connection (sqlite3_interrupt) and refuses later registrations.
   */
  static final class Cancel {
    private Connection running; // guarded by this
    private boolean cancelled; // guarded by this

    synchronized void register(Connection connection) {
      if (cancelled) {
        throw new JournalException("the backup was cancelled: the journal is closing");
      }
      running = connection;
    }

    synchronized void unregister() {
      running = null;
    }

    synchronized void cancel() {
      cancelled = true;
      if (running != null) {
        try {
          running.unwrap(SQLiteConnection.class).getDatabase().interrupt();
        } catch (SQLException e) {
          log.debug("could not interrupt a backup in progress", e);
        }
      }
    }

    synchronized boolean cancelled() {
      return cancelled;
    }
  }

  /**
   * Writes a verified snapshot of the journal {@code source} to {@code target}; see the class
   * comment. {@code replace} allows replacing an existing target (a previous scheduled backup of
   * the same name); otherwise an existing target is refused.
   */
  static BackupInfo snapshot(
      Path source, Path target, boolean replace, Instant takenAt, Cancel cancel) {
    Path from = normalize(source);
    Path to = normalize(target);
    StoreFile.requireFile(from, "journal");
    if (to.equals(from) || sameFile(from, to)) {
      throw new JournalException(
          "cannot back up " + from + " onto itself: give the backup a path of its own");
    }
    if (!replace && Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
      throw targetExists(from, to);
    }
    createDirectories(PrivateFiles.parentOf(to), "backup");
    removeStale(PrivateFiles.parentOf(to));
    Path partial = hiddenSibling(to, "partial");
    try {
      copy(from, partial, cancel, "back up " + from + " to " + to);
      StoreFile.Inspection copy = StoreFile.inspect(partial, cancel);
      if (!copy.check().ok()) {
        throw new JournalException(
            "the backup of "
                + from
                + " to "
                + to
                + " failed verification, so it was not kept: "
                + StoreFile.summary(copy.check())
                + ". The journal itself may be damaged: check it with JournalFiles.check(Path)"
                + " (cfn store check)");
      }
      publish(partial, to, replace, from);
      syncDirectory(PrivateFiles.parentOf(to));
      StoreFile.Counts n = copy.counts();
      return new BackupInfo(
          to,
          Files.size(to),
          n.highestAcknowledgedId(),
          n.pendingMessages(),
          n.acknowledgedIds(),
          n.deadLetters(),
          n.stateRows(),
          takenAt);
    } catch (IOException e) {
      throw new JournalException(
          "cannot back up "
              + from
              + " to "
              + to
              + " ("
              + e
              + "): check that "
              + to.getParent()
              + " is writable and has free space; no backup was written there",
          e);
    } finally {
      deleteQuietly(partial);
    }
  }

  /** Restores {@code backupFile} into {@code databaseFile}; see the class comment. */
  /**
   * Ids handed out after the backup was taken must not be handed out again after the restore
   * (applications key external effects by message id), so the restored file remembers the highest
   * id the database being replaced had used. A database that cannot be read is skipped with a
   * warning: it is moved aside untouched either way.
   */
  private static void carryOverHighestId(Path database, Path restored) {
    if (!Files.exists(database)) {
      return;
    }
    long highest = 0;
    Path wal = database.resolveSibling(database.getFileName() + "-wal");
    Path shm = database.resolveSibling(database.getFileName() + "-shm");
    boolean hadWal = Files.exists(wal);
    boolean hadShm = Files.exists(shm);
    try (Connection c = StoreFile.openReadOnly(database);
        var sql = c.createStatement();
        var rows =
            sql.executeQuery(
                "SELECT max(m) FROM (SELECT max(id) AS m FROM messages"
                    + " UNION ALL SELECT max(id) FROM acked"
                    + " UNION ALL SELECT max(id) FROM dead_letters"
                    + " UNION ALL SELECT CAST(value AS INTEGER) FROM meta WHERE key = '"
                    + Writes.RETIRED_HIGH_ID
                    + "')")) {
      if (rows.next()) {
        highest = rows.getLong(1);
      }
    } catch (SQLException e) {
      log.warn(
          "could not read the highest message id of {} before replacing it ({}); ids used"
              + " after the backup may be reused",
          database,
          e.toString());
      return;
    }
    // A read-only reader leaves an empty -wal and a -shm (a shared-memory index, rebuilt by the
    // next opener) behind; remove the ones we made. We hold the lock, so nobody else has it open.
    removeIfNew(wal, hadWal, true);
    removeIfNew(shm, hadShm, false);
    if (highest <= 0) {
      return;
    }
    try (WriteConnection w = WriteConnection.open(restored, SqliteJournal.Synchronous.FULL)) {
      w.exec("BEGIN IMMEDIATE");
      Writes.retire(w, highest);
      w.exec("COMMIT");
    } catch (SQLException e) {
      throw new JournalException(
          "could not prepare the restored copy of "
              + database
              + " ("
              + SqliteErrors.describe(e, restored)
              + "). Nothing was changed",
          e);
    }
  }

  private static void removeIfNew(Path file, boolean existedBefore, boolean onlyIfEmpty) {
    try {
      if (!existedBefore && Files.exists(file) && (!onlyIfEmpty || Files.size(file) == 0)) {
        Files.delete(file);
      }
    } catch (IOException e) {
      log.debug("could not remove {}: {}", file, e.toString());
    }
  }

  /** Refuses a backup that is missing, damaged or not a cfn journal; reads it only. */
  static void verifySource(Path backup) {
    StoreFile.requireFile(backup, "backup");
    StoreFile.Inspection source = StoreFile.inspect(backup, new Cancel());
    if (!source.check().ok()) {
      throw new JournalException(
          "the backup "
              + backup
              + " is damaged or not a cfn journal backup, so it was not restored: "
              + StoreFile.summary(source.check())
              + ". Nothing was changed: restore an older backup");
    }
  }

  static RestoreInfo restore(Path backupFile, Path databaseFile, Clock clock) {
    Path backup = normalize(backupFile);
    Path database = normalize(databaseFile);
    StoreFile.requireFile(backup, "backup");
    if (backup.equals(database) || sameFile(backup, database)) {
      throw new JournalException(
          "cannot restore " + backup + " onto itself: give the database path, not the backup's");
    }
    if (Files.exists(database) && !Files.isRegularFile(database)) {
      throw new JournalException(
          database + " is not a regular file, so it cannot be a journal: check the path");
    }
    verifySource(backup);
    Cancel none = new Cancel();
    createDirectories(PrivateFiles.parentOf(database), "database");
    LockFile lock;
    try {
      lock = LockFile.acquire(database);
    } catch (JournalException e) {
      throw new JournalException(
          "cannot restore "
              + backup
              + " into "
              + database
              + ": "
              + e.getMessage()
              + ". Nothing was changed",
          e);
    }
    try (lock) {
      removeStale(PrivateFiles.parentOf(database));
      Path partial = hiddenSibling(database, "restoring");
      try {
        copy(backup, partial, none, "copy " + backup + " for restoring it into " + database);
        StoreFile.Inspection copy = StoreFile.inspect(partial, none);
        if (!copy.check().ok()) {
          throw new JournalException(
              "the copy of "
                  + backup
                  + " beside "
                  + database
                  + " failed verification, so it was not restored: "
                  + StoreFile.summary(copy.check())
                  + ". Nothing was changed: check the disk of "
                  + database.getParent());
        }
        carryOverHighestId(database, partial);
        List<Move> moved = moveAside(database, clock.instant());
        try {
          Files.move(partial, database, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          moveBack(moved);
          throw e;
        }
        syncDirectory(PrivateFiles.parentOf(database));
        StoreFile.Counts n = copy.counts();
        RestoreInfo info =
            new RestoreInfo(
                backup,
                database,
                moved.stream().map(Move::to).toList(),
                Files.size(database),
                n.highestAcknowledgedId(),
                n.pendingMessages(),
                n.acknowledgedIds(),
                n.deadLetters(),
                n.stateRows(),
                clock.instant());
        log.info("restored {} into {} (previous files moved to {})", backup, database, moved);
        return info;
      } catch (IOException e) {
        throw new JournalException(
            "cannot restore "
                + backup
                + " into "
                + database
                + " ("
                + e
                + "): check that "
                + database.getParent()
                + " is writable and has free space. The previous database was left in place",
            e);
      } finally {
        deleteQuietly(partial);
      }
    }
  }

  /** {@code VACUUM INTO}: a consistent, compact copy of {@code from} in the new file {@code to}. */
  private static void copy(Path from, Path to, Cancel cancel, String what) throws IOException {
    // VACUUM INTO writes into an empty file: create it 0600 first, or SQLite makes it 0644
    Files.createFile(to, PrivateFiles.fileAttributes());
    try (Connection c = StoreFile.openReadOnly(from)) {
      cancel.register(c);
      try (PreparedStatement vacuum = c.prepareStatement("VACUUM INTO ?")) {
        vacuum.setString(1, to.toString());
        vacuum.execute();
      } finally {
        cancel.unregister();
      }
    } catch (SQLException e) {
      Path blamed =
          switch (SqliteErrors.primaryCode(e)) {
            case SqliteErrors.CORRUPT,
                SqliteErrors.NOTADB,
                SqliteErrors.BUSY,
                SqliteErrors.LOCKED ->
                from;
            default -> to.getParent();
          };
      throw new JournalException(
          "cannot " + what + ": " + SqliteErrors.describe(e, blamed) + "; nothing was written", e);
    }
    // SQLite does not fsync the output of VACUUM INTO
    try (FileChannel channel = FileChannel.open(to, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  /** Gives the verified {@code partial} the name {@code target}, never replacing a file unasked. */
  private static void publish(Path partial, Path target, boolean replace, Path source)
      throws IOException {
    if (replace) {
      Files.move(
          partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return;
    }
    try {
      Files.createLink(target, partial); // atomic, and fails if the target exists
    } catch (FileAlreadyExistsException e) {
      throw targetExists(source, target);
    } catch (UnsupportedOperationException | IOException e) {
      // no hard links here: rename, which would replace a file, so check first (a narrow race)
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        throw targetExists(source, target);
      }
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    Files.delete(partial);
  }

  /** A file moved aside by a restore. */
  record Move(Path from, Path to) {}

  /**
   * Renames the database's files to {@code <name>.before-restore-<stamp>} (its companions to the
   * same name plus their suffix), log first and main file last. Returns the moves, main file first.
   */
  private static List<Move> moveAside(Path database, Instant at) throws IOException {
    String base = database.getFileName() + ".before-restore-" + STAMP.format(at);
    Path aside = database.resolveSibling(base);
    for (int n = 2; anyExists(aside); n++) {
      aside = database.resolveSibling(base + "-" + n);
    }
    List<Move> moved = new ArrayList<>();
    List<String> suffixes = new ArrayList<>(COMPANIONS);
    suffixes.add("");
    for (String suffix : suffixes) {
      Path from = database.resolveSibling(database.getFileName() + suffix);
      if (Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
        Path to = aside.resolveSibling(aside.getFileName() + suffix);
        try {
          Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          moveBack(moved);
          throw e;
        }
        moved.addFirst(new Move(from, to));
      }
    }
    return moved;
  }

  private static boolean anyExists(Path aside) {
    if (Files.exists(aside, LinkOption.NOFOLLOW_LINKS)) {
      return true;
    }
    for (String suffix : COMPANIONS) {
      if (Files.exists(
          aside.resolveSibling(aside.getFileName() + suffix), LinkOption.NOFOLLOW_LINKS)) {
        return true;
      }
    }
    return false;
  }

  /** Undoes {@code moved} as far as possible (main file first), after a failed restore. */
  private static void moveBack(List<Move> moved) {
    for (Move move : moved) {
      try {
        Files.move(move.to(), move.from(), StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        log.error(
            "a failed restore could not move {} back to {} ({}): move it back by hand",
            move.to(),
            move.from(),
            e.toString());
      }
    }
  }

  private static JournalException targetExists(Path source, Path target) {
    return new JournalException(
        "cannot back up "
            + source
            + " to "
            + target
            + ": the file already exists and backups never overwrite a file; choose a new name or"
            + " remove it");
  }

  /**
   * A hidden, unique sibling of {@code file} that names its writer: {@code .<name>.<pid>-<process
   * start>-<random>.cfn-<kind>} (kind {@code partial} for a backup being written, {@code restoring}
   * for a restore's copy). While this JVM writes it, it is in {@link #WRITING}; once the process is
   * gone (killed mid-way), {@link #removeStale} deletes it.
   */
  static Path hiddenSibling(Path file, String kind) {
    String random = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    Path sibling =
        file.resolveSibling(
            "." + file.getFileName() + "." + SELF + "-" + random + TEMPORARY_SUFFIX + kind);
    WRITING.add(sibling);
    return sibling;
  }

  /** The temporary files of backups and restores end with this and their kind. */
  private static final String TEMPORARY_SUFFIX = ".cfn-";

  /** {@code <pid>-<start millis>} of this process: who writes a temporary file. */
  private static final String SELF = writer(ProcessHandle.current());

  /** The temporary files this JVM is writing now; they are never stale. */
  private static final java.util.Set<Path> WRITING =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** {@code .<name>.<pid>-<start>-<random>.cfn-<kind>}. */
  private static final java.util.regex.Pattern TEMPORARY =
      java.util.regex.Pattern.compile(
          "\\..+\\.(\\d+)-(\\d+)-[0-9a-f]{16}\\.cfn-(partial|restoring)");

  /** {@code .<name>.<16 hex digits>.partial}, the temporary files of earlier cfn versions. */
  private static final java.util.regex.Pattern LEGACY =
      java.util.regex.Pattern.compile("\\..+\\.[0-9a-f]{16}\\.(partial|restoring)");

  /** A legacy temporary file untouched for this long is not being written. */
  private static final java.time.Duration LEGACY_STALE_AFTER = java.time.Duration.ofHours(1);

  private static String writer(ProcessHandle process) {
    long start = process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    return process.pid() + "-" + start;
  }

  /**
   * Deletes the temporary files of backups and restores in {@code dir} whose writer is gone (a
   * process killed mid-backup leaves one the size of the journal): those named after a process that
   * no longer runs (pid and start time, so a reused pid does not count), those of this process that
   * it is not writing, and those of earlier cfn versions untouched for an hour. A file being
   * written is never touched. Returns how many were deleted; never throws.
   */
  static int removeStale(Path dir) {
    int removed = 0;
    try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(dir, ".*")) {
      for (Path file : files) {
        if (isStale(file) && Files.deleteIfExists(file)) {
          log.info("removed {}, left behind by an interrupted backup or restore", file);
          removed++;
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("could not look for stale temporary files in {}: {}", dir, e.toString());
    }
    return removed;
  }

  private static boolean isStale(Path file) throws IOException {
    String name = PrivateFiles.nameOf(file);
    java.util.regex.Matcher m = TEMPORARY.matcher(name);
    if (m.matches()) {
      if (WRITING.contains(file)) {
        return false;
      }
      String owner = m.group(1) + "-" + m.group(2);
      if (owner.equals(SELF)) {
        return true; // ours, and not being written
      }
      return ProcessHandle.of(Long.parseLong(m.group(1)))
          .filter(ProcessHandle::isAlive)
          .map(p -> !writer(p).equals(owner))
          .orElse(true);
    }
    return LEGACY.matcher(name).matches()
        && Files.getLastModifiedTime(file)
            .toInstant()
            .isBefore(Instant.now().minus(LEGACY_STALE_AFTER));
  }

  private static void createDirectories(Path dir, String role) {
    try {
      PrivateFiles.createDirectories(dir);
    } catch (IOException e) {
      throw new JournalException(
          "cannot create "
              + dir
              + " for the "
              + role
              + " ("
              + e
              + "): create it, make it writable, or choose another location",
          e);
    }
  }

  /** Makes a rename in {@code dir} durable; a no-op where directories cannot be fsynced. */
  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      log.debug("cannot fsync the directory {}: {}", dir, e.toString());
    }
  }

  private static void deleteQuietly(Path file) {
    WRITING.remove(file);
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("could not delete the temporary file {}: {}; delete it by hand", file, e.toString());
    }
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  static Path normalize(Path file) {
    return file.toAbsolutePath().normalize();
  }
}
