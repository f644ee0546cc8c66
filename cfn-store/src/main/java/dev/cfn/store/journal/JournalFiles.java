package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * Operations on journal files, without opening them as a {@link SqliteJournal}: {@link #check}
 * (verify a file that may be in use), {@link #backup} (a verified online snapshot of a file another
 * process may have open) and {@link #restore} (put a verified backup in place of the journal of a
 * stopped runtime). The {@code cfn store check}, {@code cfn backup} and {@code cfn restore}
 * commands call them. A journal that is open in this process backs itself up with {@link
 * SqliteJournal#backupTo} and checks itself with {@link SqliteJournal#check()}.
 *
 * <p>None of them takes the journal's lock except {@link #restore}, which refuses a journal in use.
 * Backups and restores are implemented by {@code Backups}, verification by {@code StoreFile}.
 */
public final class JournalFiles {
  private JournalFiles() {}

  /**
   * Like {@link SqliteJournal#check()}, on a journal file that may be in use by another process (or
   * another journal of this one): {@code cfn store check} calls it. Opens the file read-only in one
   * read transaction, without taking its lock; in WAL mode it sees the last committed state and
   * does not block the owner. Also reports a file that is not a cfn journal or was written by a
   * newer cfn. Throws {@link JournalException} only when there is no file or it cannot be opened.
   */
  public static StoreCheck check(Path database) {
    return StoreFile.inspect(Backups.normalize(database), new Backups.Cancel()).check();
  }

  /**
   * Like {@link SqliteJournal#backupTo}, for a journal file that another process (or another
   * journal of this one) may have open: {@code cfn backup --to FILE} calls it while a runtime runs.
   * The file is opened with a read-only connection: its lock is not taken, nothing is written to
   * it, and in WAL mode the snapshot is consistent while its owner writes. {@code takenAt} is read
   * from the system clock.
   *
   * @throws JournalException when there is no journal at {@code database}, {@code target} exists or
   *     cannot be written, or the copy fails verification
   */
  public static BackupInfo backup(Path database, Path target) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(target, "target");
    return Backups.snapshot(database, target, false, Instant.now(), new Backups.Cancel());
  }

  /**
   * Replaces the journal at {@code database} with the backup {@code backup}, for a stopped runtime:
   * {@code cfn restore} calls it.
   *
   * <p>Refuses, changing nothing, when the database is in use (its lock is held by a journal of
   * this or another live process: stop it first) or when the backup fails verification (integrity
   * check, a schema version this cfn knows, the checksum of every record). Otherwise it holds the
   * database's lock throughout, copies the backup into a hidden sibling of the database and
   * verifies the copy, moves the current database and its {@code -wal} and {@code -shm} files aside
   * to {@code <name>.before-restore-<UTC timestamp>} (never deleting them; delete them yourself
   * once the restored journal is fine), and renames the copy into place. The backup file is left as
   * it was.
   *
   * <p>What the restore means for messages: those pending in the backup are redelivered by the next
   * runtime (some may have been handled after the backup was taken: delivery is at least once);
   * those appended after the backup was taken are lost, as are the acknowledgements, dead letters
   * and state written since. Message ids issued after the backup may be issued again.
   *
   * @throws JournalException when the database is in use, the backup is missing or bad, or the
   *     files cannot be moved or written
   */
  public static RestoreInfo restore(Path backup, Path database) {
    return restore(backup, database, Clock.systemUTC());
  }

  /**
   * The first check {@link #restore} makes, alone: that {@code backup} is a file holding a sound
   * cfn journal (integrity check, a schema version this cfn knows, the checksum of every record).
   * Reads it only, so a caller can refuse a bad backup before it creates anything (such as {@code
   * cfn restore}'s audit entry).
   *
   * @throws JournalException when the backup is missing, damaged or not a cfn journal
   */
  public static void verifyBackup(Path backup) {
    Backups.verifySource(Backups.normalize(Objects.requireNonNull(backup, "backup")));
  }

  static RestoreInfo restore(Path backup, Path database, Clock clock) {
    Objects.requireNonNull(backup, "backup");
    Objects.requireNonNull(database, "database");
    return Backups.restore(backup, database, clock);
  }

  /**
   * The journal's records whose payload (or call result) is still plain, for {@code cfn keys
   * seal-existing} (see {@link dev.cfn.store.crypto.PlainRecords}).
   */
  public static dev.cfn.store.crypto.PlainRecords plainRecords() {
    return new JournalPlainRecords();
  }

  /**
   * Takes the lock a runtime holds on {@code database} ({@code <database>.lock}), for offline work
   * on the node's files while no runtime may start: {@code cfn keys seal-existing} holds it
   * throughout. Close it to release.
   *
   * @throws JournalException when a journal of this or another live process holds it, naming the
   *     process (stop it first)
   */
  public static Lock lock(Path database) {
    LockFile lock = LockFile.acquire(Backups.normalize(database));
    return lock::close;
  }

  /** A journal's lock held by {@link #lock}; {@link #close()} releases it. */
  @FunctionalInterface
  public interface Lock extends AutoCloseable {
    @Override
    void close();
  }
}
