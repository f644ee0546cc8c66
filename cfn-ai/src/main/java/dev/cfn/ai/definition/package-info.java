/**
 * Agent definitions: agents described as Markdown files with YAML frontmatter, in the format of
 * Claude Code's {@code .claude/agents/**}{@code /*.md} with claude-flow-novice's extra fields.
 *
 * <p>Public: {@link dev.cfn.ai.definition.AgentDefinition} (the value), {@link
 * dev.cfn.ai.definition.DefinitionLoader} (reads files and folders, validating every file), {@link
 * dev.cfn.ai.definition.LoadResult} and {@link dev.cfn.ai.definition.Problem} (what went wrong,
 * with file, line and fix). Package-private: {@code DefinitionParser}, which reads one file's text
 * from snakeyaml-engine nodes so that every problem knows its line.
 *
 * <p>Depends on snakeyaml-engine, SLF4J and cfn-core (for the message priority a definition's
 * priority maps to). It does not depend on the other {@code dev.cfn.ai} packages: they, and the
 * {@code cfn agent} command, build on it.
 */
package dev.cfn.ai.definition;
