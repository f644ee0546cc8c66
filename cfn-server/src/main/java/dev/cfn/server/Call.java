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
  final Context ctx; // null for a call made through an MCP tool
  final ApiToken token; // null on /health routes only
  final JsonNode body; // null when the route takes none
  private final Gate gate;
  private final java.util.Map<String, String> params; // the path parameters, without a context
  private String target = "-";
  private int status = 200;

  Call(ApiRoute route, Context ctx, ApiToken token, JsonNode body, Gate gate) {
    this.route = route;
    this.ctx = ctx;
    this.token = token;
    this.body = body;
    this.gate = gate;
    this.params = java.util.Map.of();
  }

  /**
   * A call of {@code route} made without an HTTP exchange of its own (an MCP tool that mirrors the
   * route, see {@link NodeTools}): its path parameters are given, and the headers it would set are
   * dropped.
   */
  Call(
      ApiRoute route,
      ApiToken token,
      JsonNode body,
      Gate gate,
      java.util.Map<String, String> params) {
    this.route = route;
    this.ctx = null;
    this.token = token;
    this.body = body;
    this.gate = gate;
    this.params = java.util.Map.copyOf(params);
  }

  /** A path parameter. */
  String path(String name) {
    if (ctx == null) {
      String v = params.get(name);
      if (v == null) {
        throw Problem.badRequest("the path parameter '" + name + "' is missing");
      }
      return v;
    }
    return ctx.pathParam(name);
  }

  /** Sets a response header, such as {@code Location} (nothing without an HTTP exchange). */
  void header(String name, String value) {
    if (ctx != null) {
      ctx.header(name, value);
    }
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
   * {@code name} of {@code kind} ({@code agent}, {@code swarm}, {@code topic}, {@code memory}).
   */
  void requireScope(String kind, String name) {
    if (token != null && !token.allows(kind, name)) {
      target(kind + ":" + name);
      Problem p =
          Problem.forbidden(
              Gate.principal(token)
                  + " has no scope for "
                  + kind
                  + " '"
                  + name
                  + "' (fix: a token or certificate with --scope "
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
