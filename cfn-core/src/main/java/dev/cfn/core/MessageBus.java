package dev.cfn.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The messaging verbs, one interface for every sender: {@link AgentRuntime} sends as {@link
 * AgentRuntime#EXTERNAL}, an {@link AgentContext} as its agent, and an {@link AgentRef} sends to
 * its agent through whichever of the two is sending (see {@link AgentRef#tell(Object)}). Each verb
 * is declared and documented here once, and implemented once, for all of them.
 *
 * <p>Every method may be called from any thread.
 */
public interface MessageBus {

  /** Sends {@code payload} to {@code to}, activating the agent if its type is registered. */
  void send(AgentId to, Object payload);

  /**
   * Sends a message built with {@link Envelope#to(AgentId)} or {@link Envelope#on(TopicId)} and
   * returns its id, in every delivery mode.
   *
   * <p>A RELIABLE message is journaled before it is delivered. Sent from outside the carriers, it
   * is durable when this returns. Sent by a handler on a carrier, the carrier does not wait for the
   * fsync: the sending agent handles its next message, and the RELIABLE message it is handling is
   * acknowledged, only once the append is durable; a failed append goes to its supervision (and
   * fails that RELIABLE message, which is retried).
   *
   * <p><b>Exactly once from the producer.</b> A RELIABLE message with an {@linkplain
   * Envelope.Builder#idempotencyKey idempotency key} whose key the journal already holds (within
   * its retention period, 7 days by default) is not appended again: this returns the id of the
   * first message with that key and delivers nothing. So a producer that crashed after the append
   * but before it learned the id sends again with the same key and gets the same id; the handler
   * runs once. (From a handler on a carrier the append is deferred, so there this returns the id
   * assigned to this send; a duplicate is dropped when the append finds it.)
   *
   * @return the message's id (for a duplicate key, the first message's)
   * @throws dev.cfn.core.spi.JournalException when a RELIABLE message could not be stored (nothing
   *     was; send again, with the same idempotency key if it has one)
   */
  long send(Envelope.Builder message);

  /** Publishes {@code payload} on {@code topic} to every matching subscription. */
  default void publish(TopicId topic, Object payload) {
    send(Envelope.on(topic).payload(payload));
  }

  /**
   * Sends {@code payload} to {@code to} and returns the reply. The future fails with {@link
   * java.util.concurrent.TimeoutException} after {@code timeout}, and with {@link
   * UndeliverableException} when the request is dead-lettered (no such type, handler failed).
   *
   * <p>It completes on another thread: the replier's (a carrier or a virtual thread), the runtime's
   * timer on a timeout, the caller's when the request fails at once, or the thread shutting the
   * runtime down. Keep callbacks short and non-blocking; inside an agent, do not touch its fields
   * from them: send it a message instead (see {@link AgentContext}'s threading contract).
   */
  CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout);

  /**
   * Sends a request built with {@link Envelope#to(AgentId)} (headers, priority, type, delivery
   * mode, idempotency key) and returns the reply; the request's correlation id is its own id (leave
   * it unset). Fails as {@link #request(AgentId, Object, Duration)} does.
   *
   * <p><b>RELIABLE requests</b> need a journal. The request is journaled before it is delivered
   * (from outside the carriers this returns at once, without waiting for the fsync: the future
   * fails with the journal's error when the request could not be stored, and completes only with a
   * reply, which commits after the request), redelivered until its handler succeeds, and its reply
   * is RELIABLE too: a reply given during the request's turn ({@link AgentContext#reply(Object)})
   * is journaled in the same transaction as the request's acknowledgement, so neither is lost or
   * repeated by a crash. The reply reaches:
   *
   * <ul>
   *   <li>this future, if it is still waiting (then the reply is acknowledged);
   *   <li>otherwise (after a restart, or after this future timed out) a requesting <em>agent</em>
   *       receives it as a RELIABLE message: {@link Envelope#isReply()} is true and {@link
   *       Envelope#correlationId()} is the request's id;
   *   <li>otherwise a requester <em>outside the runtime</em> ({@link AgentRuntime#EXTERNAL}) finds
   *       it held for it, pending in the journal, across restarts: claim it with {@link
   *       AgentRuntime#awaitReply(long, Duration)} by the request's id, or by sending the request
   *       again with the same idempotency key (nothing is sent twice; the future waits for the
   *       first request's reply). A reply nobody claims expires {@link
   *       AgentRuntime.Builder#unclaimedReplyRetention} after it was made (7 days by default): it
   *       is acknowledged without being delivered.
   * </ul>
   *
   * <p>(From a handler on a carrier the append is deferred past the handler, so a duplicate key is
   * found only then: the duplicate is dropped and its future times out. Re-attaching by key is for
   * callers outside the carriers.)
   *
   * <p>A timeout fails only the future (its message names the request's id, for {@code
   * awaitReply}): the request stays journaled and is still handled. A reply is claimed once: after
   * it completed a future, waiting for it again times out. A RELIABLE request that uses up its
   * attempts is dead-lettered and its future fails with {@link UndeliverableException}. Payloads of
   * the request and of its reply must be types the journal stores (for SqliteJournal, registered
   * with {@code payloadType}).
   *
   * @throws IllegalArgumentException for a topic message, a set correlation id or a non-positive
   *     timeout
   */
  CompletableFuture<Envelope> request(Envelope.Builder message, Duration timeout);

  /**
   * Passes {@code message} on to {@code to} unchanged but for its recipient: the same id, sender
   * and correlation. A forwarded request stays a request, so the agent that finally answers it with
   * {@link AgentContext#reply(Object)} completes the original requester's future (as a proxy passes
   * a call on). BEST_EFFORT messages only; a reply cannot be forwarded.
   *
   * @throws IllegalArgumentException for a RELIABLE message or a reply
   */
  void forward(Envelope message, AgentId to);

  /** Sends {@code payload} to every live agent of {@code agentType}; returns how many. */
  int broadcastToType(String agentType, Object payload);

  /** Sends {@code payload} to every live member of {@code swarm}; returns how many. */
  int broadcastToSwarm(String swarm, Object payload);
}
