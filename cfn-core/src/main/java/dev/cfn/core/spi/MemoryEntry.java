package dev.cfn.core.spi;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of a {@link MemoryStore}, as read back: its key, its value and metadata, who owns it
 * and who may reach it, and its times.
 *
 * @param namespace the namespace; {@code (namespace, key)} identifies the entry
 * @param key the key within the namespace
 * @param value the value: text, often JSON; the store does not interpret it
 * @param metadata string pairs about the value (source, confidence, ...), stored as a JSON object
 * @param tags words to find the entry by, searched with the key and the value; sorted, distinct
 * @param level who may read and write it, checked against the principal of every operation
 * @param owner the agent id of the principal that created it ({@link MemoryAccessor#OPERATOR_ID}
 *     for the operator)
 * @param swarm the creator's swarm when it was created, or {@code null}
 * @param project the creator's project when it was created, or {@code null}
 * @param createdAt when the entry was created
 * @param updatedAt when it was last written
 * @param expiresAt when it expires, or {@code null} when it lives until deleted
 */
public record MemoryEntry(
    String namespace,
    String key,
    String value,
    Map<String, String> metadata,
    List<String> tags,
    MemoryAccessLevel level,
    String owner,
    String swarm,
    String project,
    Instant createdAt,
    Instant updatedAt,
    Instant expiresAt) {

  /** Copies the collections; everything but swarm, project and expiry is required. */
  public MemoryEntry {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    metadata = Map.copyOf(Objects.requireNonNull(metadata, "metadata"));
    tags = List.copyOf(Objects.requireNonNull(tags, "tags"));
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
  }

  /** When it expires; empty when it lives until deleted. */
  public Optional<Instant> expiry() {
    return Optional.ofNullable(expiresAt);
  }

  /** {@code namespace/key}, the name messages use. */
  public String name() {
    return namespace + "/" + key;
  }
}
