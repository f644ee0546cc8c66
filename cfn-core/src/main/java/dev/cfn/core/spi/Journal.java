package dev.cfn.core.spi;

import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The durable journal behind {@link DeliveryMode#RELIABLE} messages (implemented in cfn-store).
 *
 * <p>The contract the runtime relies on:
 *
 * <ul>
 *   <li>{@link #append} returns only once the message is durable (fsynced); it throws {@link
 *       JournalException} otherwise, and then nothing was stored.
 *   <li>{@link #acknowledge} atomically removes the message, remembers its id as handled (for the
 *       whole retention period) and applies the handler's {@link Effect}s; a message already
 *       acknowledged is not applied again (the future yields false).
 *   <li>{@link #recover} returns every message appended and neither acknowledged nor dead-lettered,
 *       with its attempt count, each verified against its checksum.
 *   <li>One process holds a journal at a time (it is its lease on every in-flight message).
 * </ul>
 */
public interface Journal extends AutoCloseable {

  /** Every accepted, unacknowledged, live message, oldest first, with its attempts so far. */
  List<JournalEntry> recover();

  /** The highest message id ever stored, so new ids never collide with old ones. */
  long highestId();

  /** Stores {@code message} durably before returning. */
  void append(Envelope message);

  /**
   * Stores {@code message} durably before returning, unless it carries an {@linkplain
   * Envelope#idempotencyKey() idempotency key} already stored within the journal's retention
   * period: then nothing is stored. Returns the id of the message stored under the key (this
   * message's id when it was stored, the first one's when it was a duplicate), or this message's id
   * when it has no key. The key and the message are stored in one transaction, so after a crash
   * either both are there or neither is. A key stays for the retention period from its first
   * append, whatever happens to its message (handled, dead-lettered): a send with an expired key is
   * a new message.
   *
   * <p>The default stores messages without a key and refuses keyed ones; journals that deduplicate
   * (cfn's {@code InMemoryJournal} and {@code SqliteJournal}) override it.
   *
   * @throws JournalException when nothing was stored, or the journal does not deduplicate keys
   */
  default long appendOnce(Envelope message) {
    if (message.idempotencyKey().isPresent()) {
      throw new JournalException(
          getClass().getName()
              + " does not deduplicate idempotency keys, so message "
              + message.id()
              + " was not stored (fix: use a journal that does, such as SqliteJournal, or send"
              + " without Envelope.Builder.idempotencyKey)");
    }
    append(message);
    return message.id();
  }

  /**
   * Acknowledges {@code message} and applies {@code effects} in one transaction. Completes with
   * true when applied, false when the message had already been acknowledged (nothing applied), or
   * exceptionally with {@link JournalException} (nothing applied; the message stays pending).
   */
  CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects);

  /**
   * The id of the message stored under idempotency key {@code key} within the retention period, if
   * any: how a caller that knows only its key finds its message again. The default knows no keys.
   */
  default java.util.Optional<Long> idempotencyKeyId(String key) {
    return java.util.Optional.empty();
  }

  /** Records a failed attempt (the count and the error); durable before the future completes. */
  CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error);

  /** Moves {@code message} to the dead-letter store with its attempt history. */
  CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause);

  /** The committed value of {@code key} in {@code namespace}'s state, if any. */
  java.util.Optional<String> state(String namespace, String key);

  /**
   * Moves dead letter {@code id} back to the pending messages (attempts reset) and returns it, or
   * empty when there is no such dead letter. The caller delivers it.
   */
  java.util.Optional<Envelope> replayDeadLetter(long id);

  /** True when {@code id} was acknowledged within the retention period. */
  boolean isAcknowledged(long id);

  /** Flushes and closes; pending writes complete first. */
  @Override
  void close();

  /**
   * A recovered message and the attempts already made.
   *
   * @param envelope the message, as appended
   * @param attempts failed attempts recorded so far
   */
  record JournalEntry(Envelope envelope, int attempts) {}
}
