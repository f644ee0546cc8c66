package dev.cfn.core;

/**
 * How hard the bus tries to deliver a message.
 *
 * <ul>
 *   <li>{@link #BEST_EFFORT}: in memory only, the fastest path; lost if the process dies.
 *   <li>{@link #RELIABLE}: journaled before the send is accepted, acknowledged after the handler
 *       succeeds, redelivered on failure. Needs a durable journal; a runtime without one refuses
 *       reliable sends with a clear error rather than silently downgrading them.
 * </ul>
 */
public enum DeliveryMode {
  /** In memory, at most once. */
  BEST_EFFORT,
  /** Journaled, acknowledged after the handler succeeds, effectively once. */
  RELIABLE
}
