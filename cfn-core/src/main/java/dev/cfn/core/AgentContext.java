package dev.cfn.core;

/**
 * What an agent can do: it is the agent's own handle on the runtime. The messaging verbs come from
 * {@link MessageBus}; messages sent through a context carry the agent's id as the sender.
 *
 * <h2>Threading contract</h2>
 *
 * <ul>
 *   <li><b>Any thread, any time the agent is live:</b> {@link #self}, the {@link MessageBus} verbs
 *       (send, publish, request, forward, broadcasts), {@link #reply(Envelope, Object)}, {@link
 *       #spawn}, {@link #stopSelf} and {@link #metrics}. So a request's callback, which runs on
 *       another thread (see {@link #request}), may reply to the message that caused the request or
 *       send the agent a message.
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
public interface AgentContext extends MessageBus {

  /** This agent's id. */
  AgentId self();

  /**
   * Replies to the message being handled. The reply to a RELIABLE request is RELIABLE: given during
   * the request's turn it joins the outbox, committed with the request's acknowledgement (exactly
   * once across crashes; see {@link MessageBus#request(Envelope.Builder, java.time.Duration)}).
   *
   * @throws IllegalStateException when no message is being handled, or it is not a request
   */
  void reply(Object payload);

  /**
   * Replies to {@code request}, which must be a request delivered to this agent (sent with {@code
   * request(...)}, possibly forwarded here). A second reply to the same request, or one after its
   * timeout, is dead-lettered as {@link DeadLetter.Reason#LATE_REPLY}; for a RELIABLE request, a
   * reply during its turn on the agent's own thread joins its outbox, one from elsewhere is
   * journaled on its own, and a reply no future waits for goes to the requester as described in
   * {@link MessageBus#request(Envelope.Builder, java.time.Duration)}.
   *
   * @throws IllegalStateException when {@code request} is not a request, or was delivered to
   *     another agent
   */
  void reply(Envelope request, Object payload);

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
