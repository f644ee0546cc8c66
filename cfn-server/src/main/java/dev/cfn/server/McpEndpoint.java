package dev.cfn.server;

import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.server.auth.ApiToken;
import dev.cfn.server.auth.Role;
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

/**
 * The guard in front of {@code /mcp}, the MCP server over streamable HTTP: {@link Gate#admit}, the
 * same links as the REST routes, on the servlet the MCP SDK provides. Readiness (503) → the bearer
 * token or client certificate (401, audited; refused ones throttled per address) → the principal's
 * rate limit (429) → the role {@code agent} or above (403, audited) → the caller handed to the MCP
 * server for this request. Each tool call is then authorized by the MCP server's catalog as the
 * REST route it mirrors: {@code memory_put} needs an agent token (as {@code PUT /v1/memory}),
 * {@code run_task} an operator token (as {@code POST /v1/agents}), and the memory tools and {@code
 * run_task} need the scope of the namespace or agent type they act on ({@code memory:NS}, {@code
 * agent:TYPE}), so a scoped token uses the tools it is scoped for and is refused, with a tool error
 * naming the scope, for the others. The caller's memory identity is the operator for an operator
 * token and the agent {@code api/TOKEN-ID} otherwise. Every tool call is recorded with the
 * principal's id.
 */
final class McpEndpoint implements Filter {
  /** Where the MCP server is mounted. */
  static final String PATH = "/mcp";

  /** How much of a refused request's body is read before the refusal is sent. */
  static final int DRAIN_BYTES = 64 * 1024;

  private final Gate gate;

  McpEndpoint(Gate gate) {
    this.gate = gate;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    ApiToken token;
    try {
      token = gate.admit(request.getMethod() + " " + PATH, Role.AGENT, request, response);
    } catch (Problem p) {
      problem(request, response, p);
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
        operator ? MemoryAccessor.operator() : MemoryAccessor.agent("api/" + token.id()),
        token::allows,
        token); // the node's tools authorize it as their REST routes do (NodeTools)
  }

  /**
   * Answers a refusal. The body the client is sending is read first (up to a bound), so that the
   * connection stays usable and the client is not cut off mid-request.
   */
  private static void problem(
      HttpServletRequest request, HttpServletResponse response, Problem problem)
      throws IOException {
    try (java.io.InputStream in = request.getInputStream()) {
      if (in.readNBytes(DRAIN_BYTES).length >= DRAIN_BYTES) {
        response.setHeader("Connection", "close"); // more than we read: do not reuse it
      }
    }
    response.setStatus(problem.status);
    response.setContentType(Problem.MEDIA_TYPE);
    byte[] body = Gate.JSON.writeValueAsBytes(problem.body(PATH));
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
