package dev.cfn.store;

import java.util.Objects;

/**
 * One result of {@link MemoryStore#search}: an entry and how well it matches.
 *
 * @param entry the matching entry
 * @param relevance SQLite FTS5's BM25 score, negated so that higher is more relevant; comparable
 *     only between results of one search
 */
public record MemoryMatch(MemoryEntry entry, double relevance) {

  /** Requires the entry. */
  public MemoryMatch {
    Objects.requireNonNull(entry, "entry");
  }
}
