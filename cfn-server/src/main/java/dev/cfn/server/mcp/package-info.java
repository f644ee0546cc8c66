/**
 * cfn as an MCP (Model Context Protocol) server, on the official MCP Java SDK's server side: an MCP
 * client such as Claude Code lists and validates agent definitions, runs a task through an agent,
 * reads and writes agent memory and asks for the node's status.
 *
 * <p>Public: {@link dev.cfn.server.mcp.CfnMcpServer} (serves the tools over a stdio pair of
 * streams, or as the streamable-HTTP servlet {@code cfn serve} mounts at {@code /mcp}), {@link
 * dev.cfn.server.mcp.McpCaller} (who makes one call over HTTP, resolved from its token), {@link
 * dev.cfn.server.mcp.McpSettings} (where the state is and what is allowed), {@link
 * dev.cfn.server.mcp.McpPermission} (what a client may do beyond reading), {@link
 * dev.cfn.server.mcp.McpPrincipal} (who the client is), {@link dev.cfn.server.mcp.McpAudit} (where
 * each tool call is recorded) and {@link dev.cfn.server.mcp.NodeTool} (a tool the embedding server
 * adds: {@code cfn serve}'s task graphs, swarms and CFN Loop runs).
 *
 * <p>Package-private beside them: {@code ToolCatalog} (every call passes authorize → validate →
 * handle → audit there), {@code ToolDef} (a tool's name, schema, permission and handler), {@code
 * InputSchema} (the arguments' check against the JSON Schema, networknt), {@code AgentTools},
 * {@code MemoryTools}, {@code RunTool}, {@code StatusTool} (the handlers), {@code MemoryFile} (the
 * memory store, opened on first use) and {@code ToolFailure} (a refusal a handler reports).
 *
 * <p>May depend on {@code cfn-core}, {@code cfn-store}, {@code cfn-ai} and the MCP SDK; nothing in
 * cfn depends on it but the {@code cfn mcp serve} command.
 */
package dev.cfn.server.mcp;
