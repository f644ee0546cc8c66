package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.ApiToken;
import io.javalin.http.Context;

/**
 * One admitted call: the route, the token that made it, its validated body, and the target a
 * handler names for the audit log. Built by {@link Gate} after authentication, rate limiting,
 * authorization and validation; handed to the route's {@link ApiRoute.Action}.
 */
final class Call {
  final ApiRoute route;
  final Context ctx;
  final ApiToken token; // null on /health routes only
  final JsonNode body; // null when the route takes none
  private final Gate gate;
  private String target = "-";
  private int status = 200;

  Call(ApiRoute route, Context ctx, ApiToken token, JsonNode body, Gate gate) {
    this.route = route;
    this.ctx = ctx;
    this.token = token;
    this.body = body;
    this.gate = gate;
  }

  /** A path parameter. */
  String path(String name) {
    return ctx.pathParam(name);
  }

  /** Names what the call acts on, for the audit log. */
  void target(String what) {
    this.target = what;
  }

  String target() {
    return target;
  }

  /** Sets the status of a successful answer (200 unless set). */
  void status(int code) {
    this.status = code;
  }

  int status() {
    return status;
  }

  /**
   * Refuses (403, audited as an authorization denial) unless the token's scopes allow acting on
   * {@code name} of {@code kind} ({@code agent}, {@code topic}, {@code memory}).
   */
  void requireScope(String kind, String name) {
    if (token != null && !token.allows(kind, name)) {
      target(kind + ":" + name);
      Problem p =
          Problem.forbidden(
              "token "
                  + token.id()
                  + " has no scope for "
                  + kind
                  + " '"
                  + name
                  + "' (fix: a token with --scope "
                  + kind
                  + ":"
                  + name
                  + " or "
                  + kind
                  + ":*)");
      gate.audit(
          AuditEvent.Kind.AUTHORIZATION_DENIAL,
          token.id(),
          route.label(),
          target,
          AuditEvent.Outcome.DENIED,
          "scope");
      throw p;
    }
  }

  /** The required text member {@code name} of the body (the schema checked it is there). */
  String text(String name) {
    return body.path(name).asText();
  }

  /** The optional text member {@code name}, or {@code fallback}. */
  String text(String name, String fallback) {
    JsonNode n = body == null ? null : body.get(name);
    return n == null || n.isNull() ? fallback : n.asText();
  }
}
