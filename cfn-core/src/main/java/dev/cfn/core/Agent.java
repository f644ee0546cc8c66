package dev.cfn.core;

/**
 * An agent: it handles one message at a time, never concurrently, so its fields need no locks.
 *
 * <p>A handler that throws is dealt with by its type's {@link SupervisionStrategy}; the message
 * that failed goes to the dead-letter log with the cause. A handler on a non-blocking type must not
 * block (it would stall a carrier thread shared with other agents): mark the type {@link
 * AgentType.Builder#blocking() blocking} if it calls a model, a subprocess or a database.
 */
@FunctionalInterface
public interface Agent {

  /** Handles one message. {@code ctx} is valid only during this call and the lifecycle calls. */
  void onMessage(Envelope message, AgentContext ctx) throws Exception;

  /** Called once, on the agent's own thread, before its first message (and after a restart). */
  default void onStart(AgentContext ctx) throws Exception {}

  /** Called once when the agent stops, or before it is replaced by a restart. */
  default void onStop(AgentContext ctx) throws Exception {}
}
