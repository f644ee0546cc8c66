/**
 * Agent definitions: agents described as Markdown files with YAML frontmatter, in the format of
 * Claude Code's {@code .claude/agents/**}{@code /*.md} with claude-flow-novice's extra fields.
 *
 * <p>Public: {@link dev.cfn.ai.definition.AgentDefinition} (the value), {@link
 * dev.cfn.ai.definition.DefinitionLoader} (reads files and folders, validating every file), {@link
 * dev.cfn.ai.definition.LoadResult} and {@link dev.cfn.ai.definition.Problem} (what went wrong,
 * with file, line and fix), {@link dev.cfn.ai.definition.DefinitionRepair} (rewrites the common
 * YAML mistakes in place: {@code cfn agent fix}). Package-private: {@code DefinitionParser}, which
 * reads one file's text from snakeyaml-engine nodes so that every problem knows its line.
 *
 * <p>Agent files come from anywhere (a cloned repository, a downloaded collection), so reading one
 * is bounded: at most {@link dev.cfn.ai.definition.DefinitionLoader#MAX_FILE_BYTES} (1 MiB, checked
 * from the file's size before it is opened), at most {@link
 * dev.cfn.ai.definition.DefinitionLoader#MAX_FRONTMATTER_CHARS} (256 KiB) of frontmatter, at most
 * 64 nested lists or maps and no YAML aliases (both refused while parsing), at most 100 problems
 * per file. A file that breaks a limit is one error; the other files still load. Values printed on
 * one line (names, types, models, providers, tools) may hold no control characters, and {@link
 * dev.cfn.ai.definition.Problem#toString()} escapes any it quotes.
 *
 * <p>Depends on snakeyaml-engine, SLF4J and cfn-core (for the message priority a definition's
 * priority maps to). It does not depend on the other {@code dev.cfn.ai} packages: they, and the
 * {@code cfn agent} command, build on it.
 */
package dev.cfn.ai.definition;
