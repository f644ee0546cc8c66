package dev.cfn.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What an agent can do: it is the agent's own handle on the runtime. Messages sent through it carry
 * the agent's id as the sender.
 *
 * <h2>Threading contract</h2>
 *
 * <ul>
 *   <li><b>Any thread, any time the agent is live:</b> {@link #self}, {@link #send}, {@link
 *       #publish}, {@link #request}, {@link #forward}, {@link #reply(Envelope, Object)}, the
 *       broadcasts, {@link #spawn}, {@link #stopSelf} and {@link #metrics}. So a request's
 *       callback, which runs on another thread (see {@link #request}), may reply to the message
 *       that caused the request or send the agent a message.
 *   <li><b>Only during the agent's turn</b> ({@link Agent#onMessage}, {@link Agent#onStart}, {@link
 *       Agent#onStop}), on the agent's thread or on a thread it hands the work to and waits for
 *       (the hand-over and the wait order every access): {@link #reply(Object)} and {@link
 *       #effects()}, which read the message being handled. They throw {@link IllegalStateException}
 *       when no message is being handled.
 *   <li>The agent's own fields belong to its turn: touch them only from its handlers. To act on a
 *       result that arrives on another thread, send the agent a message ({@code
 *       ctx.send(ctx.self(), result)}) and handle it in its next turn.
 * </ul>
 */
public interface AgentContext {

  /** This agent's id. */
  AgentId self();

  /** Sends {@code payload} to {@code to}, activating it if its type is registered. */
  void send(AgentId to, Object payload);

  /** Sends a message built with {@link Envelope#to(AgentId)} or {@link Envelope#on(TopicId)}. */
  void send(Envelope.Builder message);

  /** Publishes {@code payload} on {@code topic} to every matching subscription. */
  void publish(TopicId topic, Object payload);

  /**
   * Sends {@code payload} to {@code to} and returns the reply. The future fails with {@link
   * java.util.concurrent.TimeoutException} after {@code timeout}, and with {@link
   * UndeliverableException} when the request is dead-lettered (no such type, handler failed).
   *
   * <p>It completes on another thread: the replier's (a carrier or a virtual thread), the runtime's
   * timer on a timeout, the caller's when the request fails at once, or the thread shutting the
   * runtime down. Keep callbacks short and non-blocking; do not touch this agent's fields from
   * them, send yourself a message instead (see the threading contract above).
   */
  CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout);

  /**
   * Passes {@code message} on to {@code to} unchanged but for its recipient: the same id, sender
   * and correlation. A forwarded request stays a request, so the agent that finally answers it with
   * {@link #reply(Object)} completes the original requester's future (as a proxy passes a call on).
   * BEST_EFFORT messages only; a reply cannot be forwarded.
   *
   * @throws IllegalArgumentException for a RELIABLE message or a reply
   */
  void forward(Envelope message, AgentId to);

  /**
   * Replies to the message being handled.
   *
   * @throws IllegalStateException when no message is being handled, or it is not a request
   */
  void reply(Object payload);

  /**
   * Replies to {@code request}, which must be a request delivered to this agent (sent with {@code
   * request(...)}, possibly forwarded here). A second reply to the same request, or one after its
   * timeout, is dead-lettered as {@link DeadLetter.Reason#LATE_REPLY}.
   *
   * @throws IllegalStateException when {@code request} is not a request, or was delivered to
   *     another agent
   */
  void reply(Envelope request, Object payload);

  /** Sends {@code payload} to every live agent of {@code agentType}; returns how many. */
  int broadcastToType(String agentType, Object payload);

  /** Sends {@code payload} to every live member of {@code swarm}; returns how many. */
  int broadcastToSwarm(String swarm, Object payload);

  /** Spawns another agent (its type must be registered). */
  AgentRef spawn(AgentId id);

  /**
   * Spawns another agent with its own behaviour {@code agent}; see {@link
   * AgentRuntime#spawn(AgentId, Agent)}.
   */
  AgentRef spawn(AgentId id, Agent agent);

  /** Stops this agent after the current message; its remaining mail goes to dead letters. */
  void stopSelf();

  /** This agent's counters. */
  AgentMetrics metrics();

  /**
   * The effects to commit with the acknowledgement of the RELIABLE message being handled (see
   * {@link Effects}). Throws {@link IllegalStateException} while handling any other message.
   */
  Effects effects();
}
