package dev.cfn.server.audit;

/**
 * Where the server reports every {@link AuditEvent}: each route calls it for authentication
 * failures, authorization denials and privileged actions, before it answers. An implementation must
 * be thread-safe and must not throw for an event it cannot store (it reports the failure its own
 * way), so that auditing never turns a refusal into a success or an error page.
 *
 * <p>{@link LoggingAuditTrail} writes each event to the {@code cfn.audit} logger; the append-only,
 * hash-chained audit log of cfn-store implements this interface too.
 */
@FunctionalInterface
public interface AuditTrail {
  /** Records {@code event}. */
  void record(AuditEvent event);
}
