package dev.cfn.store.journal;

import java.util.Objects;

/**
 * A stored payload whose class this journal does not know, as read by the dead-letter queries, so
 * that a tool without the application's classes (the {@code cfn} command) can still show it. The
 * class is never loaded. {@link SqliteJournal#recover()} never returns one: it refuses instead.
 *
 * @param className the payload's class as stored
 * @param json the payload's JSON
 */
public record RawPayload(String className, String json) {

  /** Validates the parts. */
  public RawPayload {
    Objects.requireNonNull(className, "className");
    Objects.requireNonNull(json, "json");
  }
}
