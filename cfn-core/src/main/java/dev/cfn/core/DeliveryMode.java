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
 * <p>A RELIABLE send from outside the runtime returns once its message is durable, and is delivered
 * then. A RELIABLE request from outside without an idempotency key returns its future at once and
 * is delivered while its append is on its way to disk (the journal commits the acknowledgement with
 * the append or after it, never without it, and the future completes only with a reply, which
 * commits after the request); {@link AgentRuntime.Builder#earlyDelivery} turns that off ({@code
 * false}) or extends it to sends ({@code true}). If an append fails (a full disk, an I/O error)
 * after its message was delivered, the send throws (a request's future fails) and nothing of that
 * handling commits: no acknowledgement, no {@link Effects}, no outbox, no reply; only what the
 * handler did outside the journal happened (a model call, say), as when a crash interrupts a
 * handler. A sender that retries a failed send should give it an idempotency key, which the handler
 * can use to make outside work idempotent. Sends and requests from agents and keyed ones are always
 * delivered only once durable.
 */
public enum DeliveryMode {
  /** In memory, at most once. */
  BEST_EFFORT,
  /** Journaled, acknowledged after the handler succeeds, effectively once. */
  RELIABLE
}
