package dev.cfn.store.backup;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A verified backup of a node's store files: a folder {@code cfn-backup-<UTC stamp>} holding a copy
 * of each file that existed ({@code cfn.db}, {@code memory.db}, {@code calls.db}) and {@code
 * manifest.json}, written last, with each copy's size, SHA-256 and time.
 *
 * @param dir the set's folder
 * @param takenAt when the set was begun
 * @param parts the files it holds
 */
public record BackupSet(Path dir, Instant takenAt, List<Part> parts) {
  /** Checks the parts. */
  public BackupSet {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(takenAt, "takenAt");
    parts = List.copyOf(parts);
  }

  /**
   * One file of a set.
   *
   * @param role {@code journal}, {@code memory} or {@code calls}; {@code node} for the node's own
   *     files ({@code tokens.db}, {@code tls/server.crt}, ...), {@code keys} for the keyring
   * @param file its path in the set, relative ({@code cfn.db}, {@code tls/server.key})
   * @param bytes its size
   * @param sha256 the SHA-256 of its bytes, hex
   * @param snapshotAt when its snapshot's read transaction began (it holds every transaction
   *     committed before)
   */
  public record Part(String role, String file, long bytes, String sha256, Instant snapshotAt) {}

  /** The part of {@code role}, if the set has it. */
  public java.util.Optional<Part> part(String role) {
    return parts.stream().filter(p -> p.role().equals(role)).findFirst();
  }
}
