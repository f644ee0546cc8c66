package dev.cfn.core;

/**
 * Runs agents that have mail. A {@link Carrier} is one platform thread serving many non-blocking
 * agents; {@link VirtualDispatcher} gives each turn of a blocking agent its own virtual thread.
 */
interface Dispatcher {

  /** Schedules one turn of {@code cell}; the cell guarantees it is scheduled at most once. */
  void execute(AgentCell cell);

  /** Records that a handler finished; {@code createdNanos} is the message's creation time. */
  void delivered(long createdNanos);

  /** Records that a handler is about to start on a message created at {@code createdNanos}. */
  void started(long createdNanos);
}
