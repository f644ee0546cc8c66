/**
 * The cfn node as a server ({@code cfn serve}): the HTTP API over the in-process runtime and its
 * stores, and cfn as an MCP server. Every route is authenticated, authorized, validated and
 * audited.
 *
 * <p>Public: {@link dev.cfn.server.CfnServer}. Package-private beside it: the route table ({@code
 * Routes}, {@code ApiRoute}) and the routes ({@code AgentRoutes}, {@code MessageRoutes}, {@code
 * DeadLetterRoutes}, {@code MemoryRoutes}, {@code StoreRoutes}, {@code EventRoutes}, {@code
 * LoopRoutes}, {@code GraphRoutes}, {@code SwarmRoutes}, {@code OpsRoutes}, {@code RolloutRoutes});
 * what the node hosts beside its runtime ({@code Node}; {@code GraphRuns}, the task-graph runner
 * and the graphs submitted to it; {@code LoopRuns}, the CFN Loop runner, which resumes the
 * unfinished runs when the node opens; {@code Swarms}, the swarms made through the API, kept in the
 * journal); the dashboard's files ({@code Dashboard}: {@code index.html}, {@code dashboard.js},
 * {@code dashboard-ops.js}, {@code dashboard-flows.js}, ...); the chain every call passes ({@code
 * Gate}, {@code Call}, {@code RateLimiter}, {@code Problem}); {@code McpEndpoint}, the same chain
 * ({@code Gate.admit}) in front of the MCP server at {@code /mcp}; {@code NodeTools}, the MCP tools
 * of the graph, swarm and loop routes, each the route called without an HTTP exchange; and {@code
 * ProblemErrorHandler}, Jetty's own refusals as problem documents.
 */
package dev.cfn.server;
