package dev.cfn.store.journal;

import dev.cfn.core.Envelope;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A message in the journal's dead-letter store.
 *
 * @param envelope the message as it was appended; its payload is a {@link RawPayload} when its
 *     class is not registered with this journal
 * @param attempts attempts made before it was dead-lettered
 * @param cause why it was dead-lettered
 * @param deadAt when it was dead-lettered
 * @param history the recorded failed attempts, oldest first
 */
public record DeadLetterRecord(
    Envelope envelope, int attempts, String cause, Instant deadAt, List<Attempt> history) {

  /** Validates the parts and copies the history. */
  public DeadLetterRecord {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(cause, "cause");
    Objects.requireNonNull(deadAt, "deadAt");
    history = List.copyOf(history);
  }

  /** The message id. */
  public long id() {
    return envelope.id();
  }

  /**
   * One failed attempt.
   *
   * @param attempt its number, from 1
   * @param at when it was recorded
   * @param error the error, cut to 8,192 characters
   */
  public record Attempt(int attempt, Instant at, String error) {}
}
