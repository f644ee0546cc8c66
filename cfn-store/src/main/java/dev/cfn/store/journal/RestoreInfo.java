package dev.cfn.store.journal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link SqliteJournal#restore(Path, Path)}: which backup now is the database, where
 * the previous database went, and what the restored journal holds.
 *
 * @param backup the backup that was restored (left as it was)
 * @param database the database it was restored into
 * @param movedAside the files of the previous database, moved aside to {@code
 *     <name>.before-restore-<UTC timestamp>} (with its {@code -wal} and {@code -shm} renamed to
 *     match, so that SQLite still finds the log of the moved file); empty when there was none
 * @param bytes size of the restored database
 * @param highestAcknowledgedId the highest acknowledged message id in it (0 when none)
 * @param pendingMessages its pending messages, which the next runtime on it redelivers
 * @param acknowledgedIds its acknowledged ids
 * @param deadLetters its dead letters
 * @param stateRows its rows of agent state
 * @param restoredAt when the restore finished
 */
public record RestoreInfo(
    Path backup,
    Path database,
    List<Path> movedAside,
    long bytes,
    long highestAcknowledgedId,
    long pendingMessages,
    long acknowledgedIds,
    long deadLetters,
    long stateRows,
    Instant restoredAt) {

  /** Checks the paths and copies the list. */
  public RestoreInfo {
    Objects.requireNonNull(backup, "backup");
    Objects.requireNonNull(database, "database");
    movedAside = List.copyOf(Objects.requireNonNull(movedAside, "movedAside"));
    Objects.requireNonNull(restoredAt, "restoredAt");
  }
}
