package dev.cfn.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What an agent can do while it handles a message. Messages it sends carry its id as the sender.
 * Valid only on the agent's own thread, during {@link Agent#onMessage}, {@link Agent#onStart} or
 * {@link Agent#onStop}.
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
   * java.util.concurrent.TimeoutException} after {@code timeout}. It completes on the replier's
   * thread: do not touch this agent's fields from its callbacks; send yourself a message instead.
   */
  CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout);

  /** Replies to the message being handled, which must be a request. */
  void reply(Object payload);

  /** Replies to {@code request}, which must be a request this agent received. */
  void reply(Envelope request, Object payload);

  /** Sends {@code payload} to every live agent of {@code agentType}; returns how many. */
  int broadcastToType(String agentType, Object payload);

  /** Sends {@code payload} to every live member of {@code swarm}; returns how many. */
  int broadcastToSwarm(String swarm, Object payload);

  /** Spawns another agent (its type must be registered). */
  AgentRef spawn(AgentId id);

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
