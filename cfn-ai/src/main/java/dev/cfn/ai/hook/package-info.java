/**
 * Hooks: what runs at five moments of an agent's work, pre-task, post-task, pre-tool, post-tool and
 * post-edit ({@link dev.cfn.ai.hook.Moment}), as a Java callback ({@link dev.cfn.ai.hook.Hook}) or
 * a configured command ({@link dev.cfn.ai.hook.CommandHook}: an argument vector, no shell unless
 * asked, a timeout, an environment allow-list, an output limit, the event as JSON on stdin). A
 * failing pre hook blocks the action and the agent reads its message; post hooks add feedback the
 * agent reads. The post-edit checks of claude-flow-novice (format, lint, test the edited file, one
 * JSON report) are {@link dev.cfn.ai.hook.PostEditPipeline}, configured per language by file
 * extension.
 *
 * <p>Public: {@link dev.cfn.ai.hook.Hooks} (the set an agent type runs, and what the agent loop and
 * the tool executor call), {@link dev.cfn.ai.hook.Hook}, {@link dev.cfn.ai.hook.HookOutcome},
 * {@link dev.cfn.ai.hook.HookEvent}, {@link dev.cfn.ai.hook.Moment}, {@link
 * dev.cfn.ai.hook.CommandHook}, {@link dev.cfn.ai.hook.PostEditPipeline} and {@link
 * dev.cfn.ai.hook.DefinitionHooks} (an agent definition's {@code hooks:} as hooks, run only with
 * the user's allow) and {@link dev.cfn.ai.hook.ProjectHooks} (a project's {@code .cfn/hooks.yaml},
 * hooks for every agent of the project, run only with the user's allow too). Package-private beside
 * them: {@code ToolGlob} (which tools a tool hook matches) and {@code EventJson} (the JSON mapper).
 *
 * <p>Wired by {@code dev.cfn.ai.tool.ToolExecutor} (pre-tool, post-tool, post-edit after a write of
 * the built-in file tools) and {@code dev.cfn.ai.LlmAgent} (pre-task, post-task, and the
 * definition's hooks when allowed). Depends on cfn-core's {@code AgentId}, {@code
 * dev.cfn.ai.process} (commands run through {@code ProcessSpec.runOnce}: session, process-tree
 * kill, bounded output, allow-listed environment), {@code dev.cfn.ai.definition}, Jackson and
 * SLF4J; not on {@code dev.cfn.ai.tool} or {@code dev.cfn.ai}, which depend on it.
 */
package dev.cfn.ai.hook;
