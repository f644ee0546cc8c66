package dev.cfn.server.mcp;

import dev.cfn.core.spi.MemoryAccessor;
import java.util.Objects;
import java.util.Set;

/**
 * Who makes one MCP tool call over streamable HTTP, and what it may do: resolved by {@code cfn
 * serve} from the bearer token of the HTTP request, per request, so that each call is authorized
 * like the REST route it mirrors. Over stdio there is one caller for the whole session, from the
 * {@link McpSettings}.
 *
 * @param principal who calls (the token's id, over {@code http})
 * @param allowed what it may do beyond reading
 * @param memoryAs who it is to the memory store (an operator token: the operator; an agent token:
 *     the agent {@code api/TOKEN-ID}, as on {@code /v1/memory})
 */
public record McpCaller(
    McpPrincipal principal, Set<McpPermission> allowed, MemoryAccessor memoryAs) {

  /** The key under which the HTTP transport puts the caller in the transport context. */
  public static final String CONTEXT_KEY = "cfn.mcp.caller";

  /** Requires every value; copies the set. */
  public McpCaller {
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(memoryAs, "memoryAs");
    allowed = Set.copyOf(allowed);
  }

  /** True when {@code permission} was granted. */
  public boolean allows(McpPermission permission) {
    return allowed.contains(permission);
  }
}
