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
   * Sends a message built with {@link Envelope#to(AgentId)} or {@link Envelope#on(TopicId)}.
   *
   * <p>A RELIABLE message is journaled before it is delivered. Sent from outside the carriers, it
   * is durable when this returns. Sent by a handler on a carrier, the carrier does not wait for the
   * fsync: the sending agent handles its next message, and the RELIABLE message it is handling is
   * acknowledged, only once the append is durable; a failed append goes to its supervision (and
   * fails that RELIABLE message, which is retried).
   */
  void send(Envelope.Builder message);

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
