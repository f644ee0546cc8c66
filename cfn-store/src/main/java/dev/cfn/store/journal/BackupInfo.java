package dev.cfn.store.journal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * A verified backup of a journal, written by {@link SqliteJournal#backupTo}, {@link
 * SqliteJournal#backup(Path, Path)} or the {@linkplain SqliteJournal.Builder#backups scheduled
 * backups}. The counts describe the snapshot in the backup, which is one committed state of the
 * journal: it holds every transaction committed before {@code takenAt} and none that was not yet
 * committed when the snapshot began.
 *
 * @param path the backup file
 * @param bytes its size
 * @param highestAcknowledgedId the highest acknowledged message id in the snapshot (0 when none);
 *     acknowledgements are not in id order, so lower ids may still be pending
 * @param pendingMessages messages appended and neither acknowledged nor dead-lettered
 * @param acknowledgedIds acknowledged ids remembered for deduplication (within the retention)
 * @param deadLetters dead letters
 * @param stateRows rows of agent state
 * @param takenAt when the snapshot was taken (by the journal's clock; the system clock for the
 *     static {@code backup}), just before its read transaction began
 */
public record BackupInfo(
    Path path,
    long bytes,
    long highestAcknowledgedId,
    long pendingMessages,
    long acknowledgedIds,
    long deadLetters,
    long stateRows,
    Instant takenAt) {

  /** Checks that the path and the time are given. */
  public BackupInfo {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(takenAt, "takenAt");
  }
}
