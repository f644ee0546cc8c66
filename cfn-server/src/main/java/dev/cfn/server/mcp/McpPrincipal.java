package dev.cfn.server.mcp;

import java.util.Objects;

/**
 * Who makes an MCP tool call, as the audit log and the {@code status} tool name it. It carries
 * identity only; what the caller may do is {@link McpCaller}'s permissions and scopes.
 *
 * <ul>
 *   <li>Over stdio ({@code cfn mcp serve}) the client is the process that started the server, so
 *       the principal is the local user the server runs as: {@link #localUser()}, transport {@code
 *       stdio}.
 *   <li>Over streamable HTTP (mounted in {@code cfn serve}) each request's bearer token has been
 *       checked before the MCP servlet sees it, and the principal is the token's id with transport
 *       {@code http} (never the token's secret). A request that reaches the servlet without a
 *       checked token runs as the session's principal, {@code anonymous (http)}, which may only
 *       read.
 * </ul>
 *
 * <p>{@link #toString()} ({@code name (transport)}) is what an audit entry records as the
 * principal, with control characters replaced.
 *
 * @param name the local user name over stdio, the token id over HTTP, or {@code anonymous}
 * @param transport how the client reached the server: {@code stdio} or {@code http}
 */
public record McpPrincipal(String name, String transport) {
  /** Requires both values. */
  public McpPrincipal {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(transport, "transport");
  }

  /** The local user this JVM runs as, over stdio. */
  public static McpPrincipal localUser() {
    String user = System.getProperty("user.name", "");
    return new McpPrincipal(user.isBlank() ? "unknown" : user, "stdio");
  }

  @Override
  public String toString() {
    return name + " (" + transport + ")";
  }
}
