/**
 * The cfn node as a server ({@code cfn serve}): the HTTP API over the in-process runtime and its
 * stores, and cfn as an MCP server. Every route is authenticated, authorized, validated and
 * audited.
 *
 * <p>Public: {@link dev.cfn.server.CfnServer}. Package-private beside it: the route table ({@code
 * Routes}, {@code ApiRoute}) and the routes ({@code AgentRoutes}, {@code MessageRoutes}, {@code
 * DeadLetterRoutes}, {@code MemoryRoutes}, {@code StoreRoutes}, {@code EventRoutes}); the chain
 * every call passes ({@code Gate}, {@code Call}, {@code RateLimiter}, {@code Problem}); {@code
 * McpEndpoint}, the same checks in front of the MCP server at {@code /mcp}; and {@code
 * ProblemErrorHandler}, Jetty's own refusals as problem documents.
 */
package dev.cfn.server;
