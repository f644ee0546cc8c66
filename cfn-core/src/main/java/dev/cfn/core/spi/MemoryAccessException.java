package dev.cfn.core.spi;

import java.util.Objects;

/**
 * The principal of an operation may not do it to an entry, by the entry's {@linkplain
 * MemoryAccessLevel access level}. Nothing was changed. The message names the entry, its level, its
 * owner and who is allowed, and the principal that was refused.
 */
public final class MemoryAccessException extends MemoryException {
  private static final long serialVersionUID = 1L;

  private final String namespace;
  private final String key;
  private final MemoryAccessLevel level;

  /**
   * A refusal; implementations of {@link MemoryStore} throw it.
   *
   * @param message what was refused, the entry, its level and owner, and who may
   * @param namespace the entry's namespace
   * @param key the entry's key
   * @param level the entry's access level
   */
  public MemoryAccessException(
      String message, String namespace, String key, MemoryAccessLevel level) {
    super(message);
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.key = Objects.requireNonNull(key, "key");
    this.level = Objects.requireNonNull(level, "level");
  }

  /** The namespace of the entry that was refused. */
  public String namespace() {
    return namespace;
  }

  /** The key of the entry that was refused. */
  public String key() {
    return key;
  }

  /** The entry's access level. */
  public MemoryAccessLevel level() {
    return level;
  }
}
