/**
 * Tools for AI agents: what a model may ask an agent to do, and the one guarded path from a model's
 * {@link dev.cfn.ai.model.ToolCall} to running it.
 *
 * <h2>What lives here</h2>
 *
 * <ul>
 *   <li><b>The tool and its values</b>: {@link dev.cfn.ai.tool.Tool} (a {@link
 *       dev.cfn.ai.model.ToolSpec} for the model, a {@code call}, whether it has side effects),
 *       {@link dev.cfn.ai.tool.ToolHandler} for lambdas ({@link dev.cfn.ai.tool.Tool#of}), {@link
 *       dev.cfn.ai.tool.ToolResult}, {@link dev.cfn.ai.tool.ToolContext} (the calling agent, its
 *       swarm and project, its runtime context inside a handler, the deadline).
 *   <li><b>Annotated tools</b>: {@link dev.cfn.ai.tool.ToolMethod} and {@link
 *       dev.cfn.ai.tool.Param} on the methods of a plain object; the input schema is generated from
 *       the Java parameter types (package-private {@code AnnotatedTool}, {@code JavaTypeSchema}).
 *   <li><b>Registry and execution</b>: {@link dev.cfn.ai.tool.ToolRegistry} (tools by name, input
 *       schemas compiled at registration by package-private {@code ArgumentSchema} on networknt
 *       json-schema-validator), {@link dev.cfn.ai.tool.ToolPermissions} (default deny: exact names
 *       and trailing {@code *} globs from the agent definition's {@code tools}), {@link
 *       dev.cfn.ai.tool.ToolExecutor} (per agent: permitted specs, and {@code execute}: permission
 *       → lookup → validation → run with a timeout → error results), {@link
 *       dev.cfn.ai.tool.ToolAudit} (recent calls, an INFO log line each, the {@code cfn.tool.calls}
 *       counter; never argument values).
 *   <li><b>Built-in tools</b>, chosen with {@link dev.cfn.ai.tool.BuiltinTools}: memory on the a
 *       {@link dev.cfn.core.spi.MemoryStore} (cfn-store's SQLite one, say) as the calling agent
 *       ({@code MemoryTools}), messages through the agent's context ({@code MessagingTools}), files
 *       inside a workspace that no path may leave, opened beneath it by the kernel and never cfn's
 *       own files ({@code FileTools}, {@code Workspace}, refusals as {@code ToolRefusedException},
 *       output lines made safe by {@code ControlChars}).
 *   <li><b>MCP</b>: {@link dev.cfn.ai.tool.McpToolSource} connects to an MCP server over stdio or
 *       streamable HTTP with the official MCP Java SDK and wraps each of its tools ({@code
 *       McpTool}) as {@code mcp__<server>__<tool>}.
 * </ul>
 *
 * <h2>Rules every call follows</h2>
 *
 * A tool runs only when the agent's permissions name it and its arguments are a JSON object valid
 * against its input schema; otherwise the model gets an error result saying why (each schema
 * problem listed) and the tool is not run. Failures, timeouts and refusals are results for the
 * model, not exceptions for the agent. Every call is audited without its argument values. Hooks
 * ({@code dev.cfn.ai.hook}, {@link dev.cfn.ai.tool.ToolExecutor.Builder#hooks}) run around each
 * call: a pre-tool hook may refuse it, post-tool hooks and, after a successful {@code file_write},
 * post-edit hooks add to the result (package-private {@code FileEditingTool} marks the tool that
 * writes a file).
 *
 * <h2>Dependencies</h2>
 *
 * This package depends on {@code dev.cfn.ai.model} (ToolSpec, ToolCall), {@code
 * dev.cfn.ai.definition} (AgentDefinition, for permissions), {@code dev.cfn.ai.hook} (the hooks it
 * runs), {@code dev.cfn.ai.internal.os} (Linux {@code openat2} and friends for the workspace, the
 * JVM's hardening before an MCP stdio server starts), {@code dev.cfn.core} (AgentId, AgentContext,
 * TopicId), the memory SPI ({@code dev.cfn.core.spi}: MemoryStore and its values; never cfn-store's
 * classes), Jackson databind, networknt json-schema-validator, the MCP Java SDK ({@code mcp-core},
 * {@code mcp-json-jackson2}), Micrometer and SLF4J. {@code dev.cfn.ai.model} and {@code
 * dev.cfn.ai.definition} must not depend on it; the agent loop that talks to models may.
 */
package dev.cfn.ai.tool;
