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
 * @param scopes which agent types and memory namespaces it may act for (a token's scopes; {@link
 *     Scopes#ALL} over stdio)
 * @param credential what the server that resolved the caller knows it by, for the {@link NodeTool}s
 *     it added ({@code cfn serve}: the request's token, which its tools authorize as the REST route
 *     they mirror); {@code null} over stdio
 */
public record McpCaller(
    McpPrincipal principal,
    Set<McpPermission> allowed,
    MemoryAccessor memoryAs,
    Scopes scopes,
    Object credential) {

  /**
   * What a caller may act for, as a token's scopes say it: {@code allows("memory", "notes")},
   * {@code allows("agent", "planner")}; {@code allows("memory", "*")} only for a scope covering
   * every namespace.
   */
  @FunctionalInterface
  public interface Scopes {
    /** Every target of every kind (the local user over stdio, a token with the scope *). */
    Scopes ALL = (kind, name) -> true;

    /** True when acting on {@code name} of kind {@code kind} is allowed. */
    boolean allows(String kind, String name);
  }

  /** A caller that may act for everything its permissions allow. */
  public McpCaller(McpPrincipal principal, Set<McpPermission> allowed, MemoryAccessor memoryAs) {
    this(principal, allowed, memoryAs, Scopes.ALL, null);
  }

  /** A caller with {@code scopes} and no credential. */
  public McpCaller(
      McpPrincipal principal, Set<McpPermission> allowed, MemoryAccessor memoryAs, Scopes scopes) {
    this(principal, allowed, memoryAs, scopes, null);
  }

  /** The key under which the HTTP transport puts the caller in the transport context. */
  public static final String CONTEXT_KEY = "cfn.mcp.caller";

  /** Requires every value; copies the set. */
  public McpCaller {
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(memoryAs, "memoryAs");
    Objects.requireNonNull(scopes, "scopes");
    allowed = Set.copyOf(allowed);
  }

  /** True when {@code permission} was granted. */
  public boolean allows(McpPermission permission) {
    return allowed.contains(permission);
  }
}
