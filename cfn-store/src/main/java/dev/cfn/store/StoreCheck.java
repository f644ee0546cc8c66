package dev.cfn.store;

import dev.cfn.store.journal.SqliteJournal;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link SqliteJournal#check()}: SQLite's own integrity check and the checksum of
 * every record.
 *
 * @param ok true when nothing is wrong
 * @param problems each problem found, naming the table, the record's key and what is wrong
 */
public record StoreCheck(boolean ok, List<String> problems) {

  /** Copies the problems. */
  public StoreCheck {
    problems = List.copyOf(Objects.requireNonNull(problems, "problems"));
  }
}
