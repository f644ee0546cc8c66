package dev.cfn.ai.hook;

import dev.cfn.ai.definition.AgentDefinition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The {@code hooks:} of an agent definition as {@link Hooks}. Two forms are read:
 *
 * <ul>
 *   <li>claude-flow-novice's shell snippets by moment: {@code pre} (also {@code pre-task}, {@code
 *       pre_task}) and {@code post} ({@code post-task}, {@code post_task}) run before and after
 *       each task; {@code pre-tool}, {@code post-tool} (every tool) and {@code post-edit} too. A
 *       value is a snippet or a list of them. The prompt is in {@code $TASK}, as there.
 *   <li>Claude Code's structured hooks: {@code PreToolUse} and {@code PostToolUse} (tool hooks
 *       whose {@code matcher} is read as a {@code |}-separated tool glob, Claude Code's names of
 *       the file tools translated: {@code Write} is {@code file_write}, {@code Read} {@code
 *       file_read}, {@code LS} and {@code Glob} {@code file_list}), {@code UserPromptSubmit}
 *       (before the task) and {@code Stop}, {@code SubagentStop} (after it); each a list of {@code
 *       {matcher, hooks: [{type: command, command, timeout}]}} ({@code timeout} in seconds).
 * </ul>
 *
 * Snippets and Claude Code's commands are shell text, so they run with {@code bash -c} (an explicit
 * shell: the definition's format is shell), with {@link CommandHook}'s machinery otherwise: the
 * timeout, the output limit, the environment allow-list, the process-tree kill. Unlike Claude Code,
 * where only exit code 2 blocks, any non-zero exit of a pre hook blocks.
 *
 * <p><b>Only with the user's allow.</b> A definition file may come with a cloned repository, so its
 * commands must not run because the file is there: call this only when the user allowed the
 * definition's hooks ({@code LlmAgent.Builder.allowDefinitionHooks()}); without that allow, {@code
 * LlmAgent} runs none of them and logs which it left out.
 */
public final class DefinitionHooks {
  /**
   * Claude Code's names of the file tools, as {@code ToolPermissions.CLAUDE_CODE_NAMES} has them.
   */
  static final Map<String, String> CLAUDE_CODE_NAMES =
      Map.of("Read", "file_read", "Write", "file_write", "LS", "file_list", "Glob", "file_list");

  private DefinitionHooks() {}

  /**
   * Whether the definition has hooks at all.
   *
   * @param definition the definition
   * @return true when its {@code hooks:} is not empty
   */
  public static boolean present(AgentDefinition definition) {
    return !definition.hooks().isEmpty();
  }

  /**
   * The definition's hooks, with {@link CommandHook}'s defaults. Run them only with the user's
   * allow (see the class comment).
   *
   * @param definition the definition
   * @return its hooks
   * @throws IllegalArgumentException naming the file, the hook and the fix, when a hook is not one
   *     of the forms read
   */
  public static Hooks read(AgentDefinition definition) {
    return read(definition, UnaryOperator.identity());
  }

  /**
   * The definition's hooks, each command configured by {@code commands} as well (an environment
   * allow-list, an output limit, a timeout that a Claude Code {@code timeout} overrides).
   *
   * @param definition the definition
   * @param commands applied to every command's builder
   * @return its hooks
   * @throws IllegalArgumentException naming the file, the hook and the fix, when a hook is not one
   *     of the forms read
   */
  public static Hooks read(
      AgentDefinition definition, UnaryOperator<CommandHook.Builder> commands) {
    Objects.requireNonNull(commands, "commands");
    Hooks.Builder hooks = Hooks.builder();
    String file = definition.source().toString();
    for (Map.Entry<String, Object> e : definition.hooks().entrySet()) {
      String key = e.getKey();
      Object value = e.getValue();
      Moment snippetMoment = snippetMoment(key);
      if (snippetMoment != null) {
        for (String snippet : snippets(file, key, value)) {
          hooks.on(
              snippetMoment,
              "*",
              command(file, "hooks." + key, snippet, null, definition, commands));
        }
        continue;
      }
      Moment moment =
          switch (key) {
            case "PreToolUse" -> Moment.PRE_TOOL;
            case "PostToolUse" -> Moment.POST_TOOL;
            case "UserPromptSubmit" -> Moment.PRE_TASK;
            case "Stop", "SubagentStop" -> Moment.POST_TASK;
            default ->
                throw problem(
                    file,
                    "hooks." + key,
                    "is not a hook cfn runs",
                    "use pre, post, pre-tool, post-tool or post-edit (claude-flow-novice), or"
                        + " PreToolUse, PostToolUse, UserPromptSubmit, Stop or SubagentStop"
                        + " (Claude Code)");
          };
      if (!(value instanceof List<?> groups)) {
        throw problem(
            file,
            "hooks." + key,
            "must be a list of {matcher, hooks} entries",
            "write - matcher: file_write, then hooks: - type: command, command: ...");
      }
      int i = 0;
      for (Object g : groups) {
        String where = "hooks." + key + "[" + i++ + "]";
        if (!(g instanceof Map<?, ?> group)) {
          throw problem(file, where, "must be a map with matcher and hooks", "see Claude Code's");
        }
        String glob = translate(group.get("matcher") == null ? "*" : text(group.get("matcher")));
        if (!(group.get("hooks") instanceof List<?> list)) {
          throw problem(file, where + ".hooks", "must be a list", "write hooks: - type: command");
        }
        int j = 0;
        for (Object h : list) {
          String at = where + ".hooks[" + j++ + "]";
          if (!(h instanceof Map<?, ?> hook) || !"command".equals(text(hook.get("type")))) {
            throw problem(
                file, at, "is not a command hook", "give it type: command and command: ...");
          }
          Object cmd = hook.get("command");
          if (cmd == null || text(cmd).isBlank()) {
            throw problem(file, at + ".command", "is missing", "give the command to run");
          }
          Duration timeout = seconds(file, at + ".timeout", hook.get("timeout"));
          hooks.on(moment, glob, command(file, at, text(cmd), timeout, definition, commands));
        }
      }
    }
    return hooks.build();
  }

  private static CommandHook command(
      String file,
      String where,
      String script,
      Duration timeout,
      AgentDefinition definition,
      UnaryOperator<CommandHook.Builder> commands) {
    CommandHook.Builder b =
        commands.apply(
            CommandHook.builder("bash", "-c", script)
                .name(where + " of agent " + definition.name() + " (" + file + ")"));
    if (timeout != null) {
      b.timeout(timeout);
    }
    return b.build();
  }

  private static Moment snippetMoment(String key) {
    return switch (key.toLowerCase(java.util.Locale.ROOT).replace('_', '-')) {
      case "pre", "pre-task" -> Moment.PRE_TASK;
      case "post", "post-task" -> Moment.POST_TASK;
      case "pre-tool" -> Moment.PRE_TOOL;
      case "post-tool" -> Moment.POST_TOOL;
      case "post-edit" -> Moment.POST_EDIT;
      default -> null;
    };
  }

  private static List<String> snippets(String file, String key, Object value) {
    List<String> out = new ArrayList<>();
    if (value instanceof List<?> list) {
      for (Object o : list) {
        out.add(text(o));
      }
    } else if (value instanceof Map<?, ?>) {
      throw problem(
          file, "hooks." + key, "must be a shell snippet or a list of them", "write pre: echo hi");
    } else {
      out.add(text(value));
    }
    return out;
  }

  private static String translate(String matcher) {
    List<String> alternatives = new ArrayList<>();
    for (String alt : matcher.split("\\|", -1)) {
      String a = alt.strip();
      alternatives.add(CLAUDE_CODE_NAMES.getOrDefault(a, a));
    }
    return String.join("|", alternatives);
  }

  private static Duration seconds(String file, String where, Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= 86_400) {
      return Duration.ofMillis(Math.round(n.doubleValue() * 1000));
    }
    throw problem(file, where, "must be a number of seconds, 1 to 86400", "write timeout: 30");
  }

  private static String text(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  private static IllegalArgumentException problem(
      String file, String where, String what, String fix) {
    return new IllegalArgumentException(file + ": " + where + " " + what + " (fix: " + fix + ")");
  }
}
