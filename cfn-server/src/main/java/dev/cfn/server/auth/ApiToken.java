package dev.cfn.server.auth;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the token store keeps about one API token; never the token itself, only its SHA-256.
 *
 * @param id the public name of the token ({@code tok_} and 12 hex digits), shown by {@code cfn
 *     token list} and named in the audit log and by {@code cfn token revoke}
 * @param role what it may do
 * @param scopes what it may act for (see {@link Scope})
 * @param createdAt when it was issued
 * @param expiresAt after this instant it is refused
 * @param revokedAt when it was revoked, or null
 * @param note a free label given at creation (may be empty)
 */
public record ApiToken(
    String id,
    Role role,
    List<Scope> scopes,
    Instant createdAt,
    Instant expiresAt,
    Instant revokedAt,
    String note) {

  /** Copies the scopes. */
  public ApiToken {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(role, "role");
    scopes = List.copyOf(scopes);
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
    Objects.requireNonNull(note, "note");
  }

  /** True when one of the scopes allows {@code name} of kind {@code kind}. */
  public boolean allows(String kind, String name) {
    for (Scope s : scopes) {
      if (s.allows(kind, name)) {
        return true;
      }
    }
    return false;
  }

  /** True when the token has expired at {@code now}. */
  public boolean expiredAt(Instant now) {
    return !now.isBefore(expiresAt);
  }

  /** The state at {@code now}: active, expired or revoked. */
  public String state(Instant now) {
    return revokedAt != null ? "revoked" : expiredAt(now) ? "expired" : "active";
  }
}
