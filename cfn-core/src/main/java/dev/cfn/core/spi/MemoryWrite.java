package dev.cfn.core.spi;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link MemoryStore#put} stores a value: its access level, time to live, metadata and tags.
 * Start from {@link #defaults()} and change what you need; each method returns a new value.
 *
 * <p>A put replaces the entry's value, metadata, tags and expiry (like a cache's {@code set}): a
 * put without a time to live makes the entry live until deleted. The level is different: {@code
 * null} (the default) keeps an existing entry's level and makes a new one {@link
 * MemoryAccessLevel#PRIVATE}, so that a member of a swarm can update a shared entry without
 * restating, or being able to change, who may read it.
 *
 * @param level the access level, or {@code null} to keep the current one (PRIVATE for a new entry)
 * @param ttl how long the entry lives from this put, or {@code null} for no expiry
 * @param metadata string pairs stored with the value
 * @param tags words to find the entry by
 */
public record MemoryWrite(
    MemoryAccessLevel level, Duration ttl, Map<String, String> metadata, List<String> tags) {

  /**
   * The longest time to live: 36,500 days (about a hundred years). Longer ones would overflow the
   * expiry time; an entry that should never expire has no time to live.
   */
  public static final Duration MAX_TTL = Duration.ofDays(36_500);

  /** Checks the time to live and copies the collections. */
  public MemoryWrite {
    if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
      throw new IllegalArgumentException(
          "a memory time to live must be positive, not " + ttl + "; use no ttl for no expiry");
    }
    if (ttl != null && ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException(
          "a memory time to live is at most "
              + MAX_TTL.toDays()
              + " days (about 100 years), not "
              + ttl
              + " (fix: use a shorter time to live, or none for an entry that never expires)");
    }
    metadata = Map.copyOf(Objects.requireNonNull(metadata, "metadata"));
    tags = List.copyOf(Objects.requireNonNull(tags, "tags"));
  }

  /** Level kept (PRIVATE when new), no expiry, no metadata, no tags. */
  public static MemoryWrite defaults() {
    return new MemoryWrite(null, null, Map.of(), List.of());
  }

  /** With the access level {@code level}. */
  public MemoryWrite level(MemoryAccessLevel level) {
    return new MemoryWrite(Objects.requireNonNull(level, "level"), ttl, metadata, tags);
  }

  /** Expiring {@code ttl} after the put. */
  public MemoryWrite ttl(Duration ttl) {
    return new MemoryWrite(level, Objects.requireNonNull(ttl, "ttl"), metadata, tags);
  }

  /** With {@code metadata} as the entry's metadata. */
  public MemoryWrite metadata(Map<String, String> metadata) {
    return new MemoryWrite(level, ttl, metadata, tags);
  }

  /** With {@code tags} as the entry's tags. */
  public MemoryWrite tags(String... tags) {
    return new MemoryWrite(level, ttl, metadata, Arrays.asList(tags));
  }
}
