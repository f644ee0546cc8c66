package dev.cfn.server;

import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.ApiToken;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.mcp.McpCaller;
import dev.cfn.server.mcp.McpPermission;
import dev.cfn.server.mcp.McpPrincipal;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The guard in front of {@code /mcp}, the MCP server over streamable HTTP: the same checks as the
 * REST routes' {@link Gate}, on the servlet the MCP SDK provides. Readiness (503) → the bearer
 * token (401, audited; refused tokens throttled per address) → the token's rate limit (429) → the
 * role: {@code agent} or above, with the scope {@code *} (403, audited), since the tools read
 * memory and act for any agent type → the caller handed to the MCP server for this request. The
 * caller's permissions mirror the REST routes: {@code memory_put} needs an agent token (as {@code
 * PUT /v1/memory}), {@code run_task} an operator token (as {@code POST /v1/agents}); its memory
 * identity is the operator for an operator token and the agent {@code api/TOKEN-ID} otherwise.
 * Every tool call is then authorized and recorded by the MCP server's catalog, with the token's id.
 */
final class McpEndpoint implements Filter {
  /** Where the MCP server is mounted. */
  static final String PATH = "/mcp";

  /** How much of a refused request's body is read before the refusal is sent. */
  static final int DRAIN_BYTES = 64 * 1024;

  private final TokenStore tokens;
  private final RateLimiter limiter;
  private final RateLimiter failures;
  private final Gate gate;
  private final BooleanSupplier ready;

  McpEndpoint(
      TokenStore tokens,
      RateLimiter limiter,
      RateLimiter failures,
      Gate gate,
      BooleanSupplier ready) {
    this.tokens = tokens;
    this.limiter = limiter;
    this.failures = failures;
    this.gate = gate;
    this.ready = ready;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    String action = request.getMethod() + " " + PATH;
    if (!ready.getAsBoolean()) {
      response.setHeader("Retry-After", "1");
      problem(request, response, 503, "Not ready", "the node is starting or stopping; try again");
      return;
    }
    String header = request.getHeader("Authorization");
    String why;
    TokenStore.Check check = null;
    if (header == null || header.isBlank()) {
      why = "no Authorization header";
    } else if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      why = "the Authorization header is not a Bearer token";
    } else {
      check = tokens.authenticate(header.substring(7).strip());
      why =
          switch (check.verdict()) {
            case ACCEPTED -> null;
            case MALFORMED -> "the token is not a cfn token";
            case UNKNOWN -> "the token is unknown";
            case EXPIRED -> "the token has expired";
            case REVOKED -> "the token was revoked";
          };
    }
    if (why != null) {
      String actor =
          check != null && check.token() != null
              ? check.token().id()
              : "anonymous@" + request.getRemoteAddr();
      gate.audit(
          AuditEvent.Kind.AUTHENTICATION_FAILURE,
          actor,
          action,
          "-",
          AuditEvent.Outcome.DENIED,
          why);
      if (limited(failures, "ip:" + request.getRemoteAddr(), request, response)) {
        return;
      }
      response.setHeader("WWW-Authenticate", "Bearer realm=\"cfn\"");
      problem(
          request,
          response,
          401,
          "Unauthorized",
          why
              + " (fix: send Authorization: Bearer TOKEN with a token from cfn token create that"
              + " has not expired or been revoked)");
      return;
    }
    ApiToken token = check.token();
    if (limited(limiter, token.id(), request, response)) {
      return;
    }
    if (!token.role().includes(Role.AGENT) || !token.scopes().contains(Scope.ALL)) {
      gate.audit(
          AuditEvent.Kind.AUTHORIZATION_DENIAL,
          token.id(),
          action,
          "-",
          AuditEvent.Outcome.DENIED,
          "mcp needs the role agent or above and the scope *");
      problem(
          request,
          response,
          403,
          "Forbidden",
          "the MCP server needs a token with the role agent or above and the scope *; token "
              + token.id()
              + " has the role "
              + token.role().label()
              + " (fix: cfn token create --role agent, or operator to run tasks)");
      return;
    }
    request.setAttribute(McpCaller.CONTEXT_KEY, caller(token));
    chain.doFilter(req, res);
  }

  /** What the token may do through the MCP tools, mirroring the REST routes. */
  static McpCaller caller(ApiToken token) {
    Set<McpPermission> allowed = EnumSet.of(McpPermission.MEMORY_WRITE);
    boolean operator = token.role().includes(Role.OPERATOR);
    if (operator) {
      allowed.add(McpPermission.RUN);
    }
    return new McpCaller(
        new McpPrincipal(token.id(), "http"),
        allowed,
        operator ? MemoryAccessor.operator() : MemoryAccessor.agent("api/" + token.id()));
  }

  private static boolean limited(
      RateLimiter bucket, String caller, HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    long waitNanos = bucket.acquire(caller);
    if (waitNanos <= 0) {
      return false;
    }
    long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + 999_999_999L));
    response.setHeader("Retry-After", Long.toString(seconds));
    problem(
        request,
        response,
        429,
        "Too many requests",
        "this caller is over its rate limit; retry after " + seconds + " s");
    return true;
  }

  /**
   * Answers a refusal. The body the client is sending is read first (up to a bound), so that the
   * connection stays usable and the client is not cut off mid-request.
   */
  private static void problem(
      HttpServletRequest request,
      HttpServletResponse response,
      int status,
      String title,
      String detail)
      throws IOException {
    try (java.io.InputStream in = request.getInputStream()) {
      if (in.readNBytes(DRAIN_BYTES).length >= DRAIN_BYTES) {
        response.setHeader("Connection", "close"); // more than we read: do not reuse it
      }
    }
    response.setStatus(status);
    response.setContentType(Problem.MEDIA_TYPE);
    byte[] body = Gate.JSON.writeValueAsBytes(new Problem(status, title, detail).body(PATH));
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
