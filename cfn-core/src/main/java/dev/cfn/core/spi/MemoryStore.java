package dev.cfn.core.spi;

import java.util.List;
import java.util.Optional;

/**
 * Shared memory for agents: text values under {@code (namespace, key)} with metadata, tags, a time
 * to live and an {@linkplain MemoryAccessLevel access level} checked against the {@linkplain
 * MemoryAccessor principal} of every operation. cfn-ai's memory tools use this interface; cfn-store
 * implements it on SQLite ({@code dev.cfn.store.memory.SqliteMemoryStore}), which also documents
 * the access, limit and durability rules an implementation must keep.
 *
 * <p>The contract: an entry the principal may not read is absent to it ({@link #get} empty, {@link
 * #delete} false, filtered from {@link #list} and {@link #search}); {@link #put} and {@link
 * #delete} of an entry it may read but not change throw {@link MemoryAccessException} and change
 * nothing; a write returns once it is durable (as durable as the implementation is).
 * Implementations are thread-safe.
 */
public interface MemoryStore {

  /**
   * Stores {@code value} under {@code (namespace, key)} with {@link MemoryWrite#defaults()}: a new
   * entry is PRIVATE to {@code who}, an existing one keeps its level; no expiry.
   */
  default MemoryEntry put(MemoryAccessor who, String namespace, String key, String value) {
    return put(who, namespace, key, value, MemoryWrite.defaults());
  }

  /**
   * Creates or replaces the entry {@code (namespace, key)} and returns it as stored.
   *
   * @throws IllegalArgumentException for a bad name, value, tag or level
   * @throws MemoryAccessException when {@code who} may not write the existing entry
   * @throws MemoryException when the store cannot be written
   */
  MemoryEntry put(
      MemoryAccessor who, String namespace, String key, String value, MemoryWrite write);

  /**
   * The entry {@code (namespace, key)}; empty when there is none or {@code who} may not read it.
   */
  Optional<MemoryEntry> get(MemoryAccessor who, String namespace, String key);

  /**
   * Deletes the entry {@code (namespace, key)}; false when there is none (or {@code who} may not
   * read it).
   *
   * @throws MemoryAccessException when {@code who} may read but not delete it
   */
  boolean delete(MemoryAccessor who, String namespace, String key);

  /**
   * The live entries {@code who} may read in {@code namespace} whose keys start with {@code
   * prefix}, by key, at most {@code limit}.
   */
  List<MemoryEntry> list(MemoryAccessor who, String namespace, String prefix, int limit);

  /**
   * Full-text search over the entries {@code who} may read in {@code namespace} ({@code null} for
   * every namespace), most relevant first, at most {@code limit}.
   */
  List<MemoryMatch> search(MemoryAccessor who, String query, String namespace, int limit);
}
