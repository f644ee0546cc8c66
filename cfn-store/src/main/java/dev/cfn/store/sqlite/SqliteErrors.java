package dev.cfn.store.sqlite;

import dev.cfn.core.spi.JournalException;
import java.nio.file.Path;
import java.sql.SQLException;

/**
 * Translates SQLite failures into {@link JournalException}s that say what happened to the file and
 * what to do, and decides which ones end a whole batch.
 *
 * <p>Errors of the file or the connection (disk full, I/O error, read-only, cannot open, corrupt,
 * locked, out of memory) abort the transaction, and SQLite may already have rolled it back: the
 * whole batch fails and the writer reopens its connection. Errors of one statement (a constraint, a
 * type mismatch) leave the transaction usable: that operation alone is rolled back to its
 * savepoint.
 */
public final class SqliteErrors {
  public static final int BUSY = 5;
  public static final int LOCKED = 6;
  public static final int NOMEM = 7;
  public static final int READONLY = 8;
  public static final int INTERRUPT = 9;
  public static final int IOERR = 10;
  public static final int CORRUPT = 11;
  public static final int FULL = 13;
  public static final int CANTOPEN = 14;
  public static final int PROTOCOL = 15;
  public static final int NOTADB = 26;
  public static final int ABORT = 4;

  private SqliteErrors() {}

  /** The primary SQLite result code (extended codes carry it in the low byte). */
  public static int primaryCode(SQLException e) {
    return e.getErrorCode() & 0xff;
  }

  /** True when {@code e} ends the transaction and should fail the whole batch. */
  public static boolean endsBatch(SQLException e) {
    return switch (primaryCode(e)) {
      case ABORT,
          BUSY,
          LOCKED,
          NOMEM,
          READONLY,
          INTERRUPT,
          IOERR,
          CORRUPT,
          FULL,
          CANTOPEN,
          PROTOCOL,
          NOTADB ->
          true;
      default -> false;
    };
  }

  /** What happened to {@code file} and what to do about it, without the consequence. */
  public static String describe(SQLException e, Path file) {
    String detail = e.getMessage();
    return switch (primaryCode(e)) {
      case FULL -> "disk full at " + file + ": free space on its disk (" + detail + ")";
      case IOERR ->
          "I/O error on "
              + file
              + ": check the disk (dmesg), its free space, and that the file and its -wal and -shm"
              + " files were not removed ("
              + detail
              + ")";
      case READONLY ->
          file
              + " is read-only: make the file, its -wal and -shm files and its directory writable"
              + " by this process ("
              + detail
              + ")";
      case CANTOPEN ->
          "cannot open "
              + file
              + ": check that its directory exists and is writable and that the disk is mounted ("
              + detail
              + ")";
      case CORRUPT, NOTADB ->
          file
              + " is damaged or not a cfn journal: JournalFiles.check (cfn store check) lists"
              + " what is damaged; restore a backup (JournalFiles.restore, cfn restore) or move"
              + " the file aside ("
              + detail
              + ")";
      case BUSY, LOCKED ->
          file
              + " is locked by another connection: close other programs using it, such as sqlite3"
              + " or a backup tool ("
              + detail
              + ")";
      case NOMEM ->
          "SQLite ran out of memory on " + file + ": give the JVM more memory (" + detail + ")";
      default -> "SQLite failed on " + file + " (" + detail + ")";
    };
  }

  /** A failed read: what happened and that nothing was changed. */
  public static JournalException read(SQLException e, Path file, String what) {
    return new JournalException("cannot read " + what + ": " + describe(e, file), e);
  }
}
