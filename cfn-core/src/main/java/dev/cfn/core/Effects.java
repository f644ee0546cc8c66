package dev.cfn.core;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;

/**
 * What a handler of a {@link DeliveryMode#RELIABLE} message commits atomically with its
 * acknowledgement: state writes in the journal and outgoing reliable messages (an outbox). If the
 * handler throws, or the process dies before the commit, none of them happens and the message is
 * redelivered; if it was already acknowledged, none happens again. So these effects happen exactly
 * once per message.
 *
 * <p><b>Values.</b> The agent's namespace maps keys to text. The typed methods are encodings of
 * that text, chosen so that a tool reading the journal sees something legible: a counter is a
 * decimal {@code long} ({@link #putLong}, {@link #increment}, {@link #getLong}), bytes are Base64
 * with padding ({@link #putBytes}, {@link #getBytes}), JSON is its text, validated when it is put
 * ({@link #putJson}) and read back with {@link #get}. Reading a key with the wrong accessor (a
 * {@code getLong} of text that is not a number) throws {@link IllegalStateException} naming the
 * key.
 *
 * <p><b>Reads.</b> A read sees this handler's own uncommitted writes first, then the committed
 * state. The committed state is served from memory by the journal (a cache it updates as
 * acknowledgements commit); the first read of an agent's namespace after the journal opened may
 * load that namespace from the journal's storage once.
 *
 * <p><b>Ordering.</b> An agent whose handler used its effects (any call, reads included) handles
 * its next message only once this one's acknowledgement has committed, so a read always sees what
 * the previous messages wrote (no lost updates); agents that do not use effects are acknowledged in
 * the background and never wait. {@link #increment} and {@link #compareAndSet} are checked again by
 * the journal when the acknowledgement commits: should the committed value have changed meanwhile
 * (only a writer outside this agent could change it), the acknowledgement fails as a whole and the
 * message is handled again, seeing the new value.
 *
 * <p>Effects outside the journal (an HTTP call, a file, a field of the agent) are not covered: they
 * may run again when a message is redelivered, so make them idempotent, keyed by the message id.
 */
public interface Effects {

  /**
   * The value of {@code key} in this agent's namespace as this handler sees it: its own uncommitted
   * writes first, else the committed value in the journal.
   */
  Optional<String> get(String key);

  /**
   * The counter {@code key} as this handler sees it; empty when the key is absent.
   *
   * @throws IllegalStateException when the key holds text that is not a decimal {@code long}
   */
  OptionalLong getLong(String key);

  /**
   * The bytes stored under {@code key} by {@link #putBytes}; empty when the key is absent.
   *
   * @throws IllegalStateException when the key holds text that is not Base64
   */
  Optional<byte[]> getBytes(String key);

  /**
   * At most {@code limit} entries of this agent's namespace whose keys start with {@code prefix}
   * (all keys for an empty prefix), smallest keys first, as this handler sees them (its own writes
   * included). When {@code limit} entries come back there may be more.
   *
   * @param limit 1 to {@link dev.cfn.core.spi.Journal#MAX_PREFIX_ENTRIES}
   */
  SortedMap<String, String> getByPrefix(String prefix, int limit);

  /** Sets {@code key} in this agent's namespace when the acknowledgement commits. */
  Effects put(String key, String value);

  /** Sets {@code key} to the counter {@code value} (stored as decimal text). */
  Effects putLong(String key, long value);

  /** Sets {@code key} to {@code value}, stored as Base64 text (a copy is taken). */
  Effects putBytes(String key, byte[] value);

  /**
   * Sets {@code key} to the JSON text {@code json}, stored as given once it is checked to be one
   * JSON value.
   *
   * @throws IllegalArgumentException when {@code json} is not JSON, saying where (nothing recorded)
   */
  Effects putJson(String key, String json);

  /**
   * Adds {@code delta} to the counter {@code key} (absent counts as 0) when the acknowledgement
   * commits, and returns the new value as this handler sees it.
   *
   * @throws IllegalStateException when the key holds text that is not a decimal {@code long}
   * @throws ArithmeticException when the sum overflows a {@code long} (nothing recorded)
   */
  long increment(String key, long delta);

  /**
   * Sets {@code key} to {@code value} if it holds {@code expected} as this handler sees it (null:
   * if it is absent), and returns whether it did. A true result is confirmed by the journal when
   * the acknowledgement commits (see the class comment); false records nothing.
   */
  boolean compareAndSet(String key, String expected, String value);

  /** Removes {@code key} from this agent's namespace when the acknowledgement commits. */
  Effects delete(String key);

  /** Sends {@code payload} to {@code to}, RELIABLE, when the acknowledgement commits. */
  Effects send(AgentId to, Object payload);

  /**
   * Records {@code result} as the outcome of the call {@code key} (a model or tool call this
   * handler made) when the acknowledgement commits, in the journal's call records, where {@link
   * #recordedCall} finds it when the message is handled again; the first record of a key wins.
   * Returns false, recording nothing, when the journal keeps no call records ({@link
   * dev.cfn.core.spi.Journal#recordsCalls()}): keep the record elsewhere then.
   *
   * <p>The record becomes durable with the acknowledgement, not before: use it for a result that
   * nothing outside this message's commit uses before then (the answer a reply carries), so that a
   * crash before the commit loses the record together with every use of the result. It does not
   * count as use of the effects: the agent need not wait for the commit before its next message.
   */
  boolean recordCall(String key, String result);

  /**
   * The result recorded under {@code key} by {@link #recordCall}: this handler's own record, else
   * one an earlier acknowledgement committed; empty when there is none or the journal keeps no call
   * records.
   */
  Optional<String> recordedCall(String key);

  /**
   * True when this is the first time a handler receives the message being handled: it was sent
   * while this runtime ran (not recovered from the journal after a restart, not a replayed dead
   * letter) and no handler of it ran before (no failed attempt, no acknowledgement that failed, no
   * failed batch). A handler that records its work under the message's id (a call log, {@link
   * #recordCall}) may then skip looking it up: no handling of this message can have recorded
   * anything. False by default, the safe answer for an implementation that cannot tell.
   */
  default boolean firstDelivery() {
    return false;
  }

  /**
   * Runs {@code action} if this handler's effects are discarded instead of committed: the handler
   * threw, a RELIABLE send it made failed, or the commit of its acknowledgement failed (a full
   * disk, an I/O error) or found the message already acknowledged. Then nothing this handler put in
   * its effects happened, and the message is handled again (or dead-lettered). It is not run when
   * the effects commit, nor when the process dies first. It runs at most once, on a thread of the
   * runtime (for a failed commit, the journal's completion thread): keep it short and never block;
   * hand blocking work to a thread of its own. It is for an effect that stands for something that
   * happened anyway, outside the journal (a model call, paid for whatever becomes of its answer),
   * and must then be recorded by another route.
   *
   * @return true when {@code action} is registered; false, registering nothing, when the runtime
   *     cannot tell (the default): record such an effect by another route then
   */
  default boolean whenDiscarded(Runnable action) {
    return false;
  }

  /**
   * Sends {@code payload} to {@code to} as a RELIABLE request when the acknowledgement commits, and
   * returns the request's id. No future waits for it: its reply (committed with the request's
   * acknowledgement by a handler that calls {@link AgentContext#reply(Object)}) comes to this agent
   * as a RELIABLE message whose {@link Envelope#isReply()} is true and whose {@link
   * Envelope#correlationId()} is the id returned here, so an agent with several requests out tells
   * their replies apart, across crashes, by the ids it kept in its state. Exactly once, as {@link
   * #send}.
   */
  long request(AgentId to, Object payload);
}
