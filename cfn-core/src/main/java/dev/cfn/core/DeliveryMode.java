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
 *
 * <p>A RELIABLE send is delivered once its message is durable. A send from outside the runtime
 * returns then; a RELIABLE request from outside returns its future at once (the future fails with
 * the journal's error when the message could not be stored, and completes only with a reply, which
 * commits after the request). With {@link AgentRuntime.Builder#earlyDelivery} a message sent from
 * outside without an idempotency key may reach its handler while the append is on its way to disk
 * (the journal commits the acknowledgement with the append or after it, never without it); if that
 * append fails (a full disk, an I/O error) the send throws (a request's future fails) and nothing
 * of that handling commits: no acknowledgement, no {@link Effects}, no outbox, no reply; only what
 * the handler did outside the journal happened, as when a crash interrupts a handler. A sender that
 * retries a failed send should give it an idempotency key, which the handler can use to make
 * outside work idempotent. Sends from agents and keyed sends are always delivered only once
 * durable.
 */
public enum DeliveryMode {
  /** In memory, at most once. */
  BEST_EFFORT,
  /** Journaled, acknowledged after the handler succeeds, effectively once. */
  RELIABLE
}
