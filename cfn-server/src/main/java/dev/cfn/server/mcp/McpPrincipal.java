package dev.cfn.server.mcp;

import java.util.Objects;

/**
 * Who makes the MCP tool calls. Over stdio the client is the process that started the server, so
 * the principal is the local user the server runs as; the streamable HTTP transport will map a
 * token's principal here.
 *
 * @param name the user (for stdio, the operating system's user name)
 * @param transport how the client reached the server, such as {@code stdio}
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
