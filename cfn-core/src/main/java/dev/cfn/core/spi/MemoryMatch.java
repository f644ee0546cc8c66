package dev.cfn.core.spi;

import java.util.Objects;

/**
 * One result of {@link MemoryStore#search}: an entry and how well it matches.
 *
 * @param entry the matching entry
 * @param relevance how well the entry matches, higher is more relevant: BM25's term-frequency part
 *     over the entry alone (see {@link MemoryStore#search}), so it never depends on other entries
 *     and is comparable between searches for the same query
 */
public record MemoryMatch(MemoryEntry entry, double relevance) {

  /** Requires the entry. */
  public MemoryMatch {
    Objects.requireNonNull(entry, "entry");
  }
}
