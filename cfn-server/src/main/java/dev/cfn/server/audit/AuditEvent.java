package dev.cfn.server.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * One thing the server did or refused that an auditor must be able to find later: an authentication
 * failure, an authorization denial, or a privileged action (spawning or stopping an agent,
 * replaying or purging dead letters, writing memory, issuing or revoking a token).
 *
 * @param at when it happened
 * @param kind which of the three it is
 * @param actor who, and how they authenticated: a bearer token's id ({@code tok_...}) or a client
 *     certificate's ({@code crt_...}); for a refusal before anyone is known, {@code anonymous} or
 *     {@code certificate} and a fingerprint prefix, with the client address
 * @param action what was attempted, as the route names it ({@code POST /v1/agents})
 * @param target what it was aimed at (an agent id, a dead-letter id, a memory key), or {@code -}
 * @param outcome how it ended
 * @param detail why, in a few words (never a secret: no token, no payload)
 */
public record AuditEvent(
    Instant at,
    Kind kind,
    String actor,
    String action,
    String target,
    Outcome outcome,
    String detail) {

  /** What kind of event it is. */
  public enum Kind {
    /** No token, a wrong one, an expired or a revoked one. */
    AUTHENTICATION_FAILURE,
    /** A valid token whose role or scopes do not allow the route. */
    AUTHORIZATION_DENIAL,
    /** A change only some roles may make. */
    PRIVILEGED_ACTION
  }

  /** How the attempt ended. */
  public enum Outcome {
    /** Done as asked. */
    SUCCESS,
    /** Refused before anything changed. */
    DENIED,
    /** Allowed, but it failed (bad input, no such thing, an error); nothing changed. */
    FAILED
  }

  /** Checks that every field is present. */
  public AuditEvent {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(detail, "detail");
  }
}
