package dev.cfn.core.spi;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;

/**
 * The durable journal behind {@link DeliveryMode#RELIABLE} messages (implemented in cfn-store).
 *
 * <p>The contract the runtime relies on:
 *
 * <ul>
 *   <li>{@link #append} returns only once the message is durable (fsynced); it throws {@link
 *       JournalException} otherwise, and then nothing was stored. {@link #appendQueued} returns at
 *       once with a future for the same, and orders the message's acknowledgement after (or with)
 *       its append, so the runtime may deliver the message before its fsync (it does so only with
 *       {@code AgentRuntime.Builder.earlyDelivery}; by default it uses the future to deliver an
 *       outside caller's request once durable without making the caller wait).
 *   <li>{@link #acknowledge} atomically removes the message, remembers its id as handled (for the
 *       whole retention period) and applies the handler's {@link Effect}s; a message already
 *       acknowledged is not applied again (the future yields false).
 *   <li>{@link #recover} returns every message appended and neither acknowledged nor dead-lettered,
 *       with its attempt count, each verified against its checksum.
 *   <li>One process holds a journal at a time (it is its lease on every in-flight message).
 *   <li>A pending record that fails its checksum is never delivered: a journal either refuses to
 *       {@link #recover} or, better, sets it aside (a quarantine) and counts it in {@link
 *       #quarantinedCount()}, so one damaged record does not keep a node down.
 * </ul>
 *
 * <p><b>State reads</b> ({@link #state}, {@link #stateByPrefix}) are called by handlers through
 * {@link dev.cfn.core.Effects}, on carrier threads: an implementation should serve them from memory
 * (a cache it keeps up to date as acknowledgements commit) rather than from its storage on every
 * call.
 */
public interface Journal extends AutoCloseable {

  /** The most entries one {@link #stateByPrefix} call returns: 10,000. */
  int MAX_PREFIX_ENTRIES = 10_000;

  /** Every accepted, unacknowledged, live message, oldest first, with its attempts so far. */
  List<JournalEntry> recover();

  /** The highest message id ever stored, so new ids never collide with old ones. */
  long highestId();

  /** Stores {@code message} durably before returning. */
  void append(Envelope message);

  /**
   * Queues {@code message} to be stored and returns at once; the future completes when it is
   * durable, or exceptionally with {@link JournalException} when nothing was stored. Until then the
   * caller may already hand the message to its handler: a journal that implements this must
   * guarantee that an {@link #acknowledge} or {@link #acknowledgeTogether} of {@code message}
   * called after this method returned commits in the same transaction as the append or in a later
   * one, and is refused (completes exceptionally, applying nothing) when the append failed. So a
   * message's effects never commit without the message, and an acknowledgement that committed
   * implies its append did. (A {@link #recordFailure} or {@link #deadLetter} of such a message is
   * only called once the future completed normally.) Messages with an {@linkplain
   * Envelope#idempotencyKey() idempotency key} go through {@link #appendOnce}, never here.
   *
   * <p>The default appends with {@link #append} before returning (durable at once) and returns a
   * completed future, which keeps that guarantee trivially.
   */
  default CompletableFuture<Void> appendQueued(Envelope message) {
    append(message);
    return CompletableFuture.completedFuture(null);
  }

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
   * Acknowledges {@code message} without effects, as {@link #acknowledge acknowledge(message,
   * List.of())} does, for an acknowledgement nothing waits for: the runtime calls it for a reply to
   * a RELIABLE request once its requester has received it (the reply is claimed), so that it is not
   * delivered again after a restart. The journal may hold it back for a short while so that it
   * joins the transaction of a later write instead of committing (and fsyncing) on its own; until
   * it commits the message stays pending, so a crash meanwhile delivers the reply again, as it
   * would if the crash came just before an {@link #acknowledge}. The future completes once it
   * committed, as {@link #acknowledge}'s. The default is {@code acknowledge(message, List.of())}.
   */
  default CompletableFuture<Boolean> acknowledgeLazily(Envelope message) {
    return acknowledge(message, List.of());
  }

  /**
   * True when this journal implements {@link #acknowledgeTogether}: the runtime then lets agent
   * types that ask for it ({@code AgentType.Builder.reliableBatch}) acknowledge several messages in
   * one transaction. False by default.
   */
  default boolean acknowledgesTogether() {
    return false;
  }

  /**
   * Acknowledges every message of {@code messages} and applies {@code effects} (the handlers'
   * effects, in the order they were made) in one transaction: all of it or nothing. Completes with
   * true when applied; exceptionally with {@link JournalException} when nothing was applied, which
   * includes the case where one of the messages had already been acknowledged (the caller then
   * acknowledges them one at a time, so that the duplicate alone is skipped). Effects that modify
   * state are stamped with the last message's id.
   *
   * <p>The default acknowledges a single message with {@link #acknowledge} and refuses more; a
   * journal that overrides it returns true from {@link #acknowledgesTogether}.
   */
  default CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects) {
    if (messages.size() == 1) {
      return acknowledge(messages.getFirst(), effects);
    }
    return CompletableFuture.failedFuture(
        new JournalException(
            getClass().getName()
                + " does not acknowledge messages together; "
                + messages.size()
                + " messages were not acknowledged and stay pending"));
  }

  /**
   * The id of the message stored under idempotency key {@code key} within the retention period, if
   * any: how a caller that knows only its key finds its message again. The default knows no keys.
   */
  default java.util.Optional<Long> idempotencyKeyId(String key) {
    return java.util.Optional.empty();
  }

  /**
   * True when this journal keeps call records: it applies {@link Effect.RecordCall} in the
   * acknowledging transaction and {@link #findCall} reads them. False by default: such a journal is
   * never given a {@link Effect.RecordCall}.
   */
  default boolean recordsCalls() {
    return false;
  }

  /**
   * The result recorded under {@code key} by an {@link Effect.RecordCall} that committed, if any
   * (records older than the retention period may be gone). Empty by default.
   */
  default Optional<String> findCall(String key) {
    return Optional.empty();
  }

  /** Records a failed attempt (the count and the error); durable before the future completes. */
  CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error);

  /** Moves {@code message} to the dead-letter store with its attempt history. */
  CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause);

  /** The committed value of {@code key} in {@code namespace}'s state, if any. */
  java.util.Optional<String> state(String namespace, String key);

  /** The committed value of {@code key} in {@code agent}'s state, if any. */
  default Optional<String> state(AgentId agent, String key) {
    return state(agent.toString(), key);
  }

  /**
   * At most {@code limit} committed entries of {@code namespace}'s state whose keys start with
   * {@code prefix} (all of them for an empty prefix), smallest keys first. When the result has
   * {@code limit} entries there may be more: read again with a longer prefix. This default refuses;
   * the journals of cfn implement it.
   *
   * @throws IllegalArgumentException when {@code limit} is below 1 or above {@link
   *     #MAX_PREFIX_ENTRIES}
   * @throws UnsupportedOperationException when this journal cannot read by prefix
   */
  default SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    throw new UnsupportedOperationException(
        getClass().getName()
            + " cannot read state by prefix; use InMemoryJournal or SqliteJournal");
  }

  /** {@link #stateByPrefix(String, String, int)} in {@code agent}'s namespace. */
  default SortedMap<String, String> stateByPrefix(AgentId agent, String prefix, int limit) {
    return stateByPrefix(agent.toString(), prefix, limit);
  }

  /**
   * Throws {@link IllegalArgumentException} unless {@code limit} is a valid {@link #stateByPrefix}
   * limit; returns it.
   */
  static int checkPrefixLimit(int limit) {
    if (limit < 1 || limit > MAX_PREFIX_ENTRIES) {
      throw new IllegalArgumentException(
          "a prefix read returns 1 to "
              + MAX_PREFIX_ENTRIES
              + " entries, was asked for "
              + limit
              + "; read a narrower prefix for more");
    }
    return limit;
  }

  /**
   * Damaged pending records this journal set aside (quarantined) instead of delivering, since it
   * was opened; 0 for a journal that never quarantines. Exposed as the metric {@code
   * cfn.reliable.quarantined}.
   */
  default long quarantinedCount() {
    return 0;
  }

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
