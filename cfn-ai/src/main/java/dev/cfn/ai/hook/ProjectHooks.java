package dev.cfn.ai.hook;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * A project's hooks file ({@value #DEFAULT_FILE}): the hooks every agent of the project runs, as
 * configured commands, read into {@link Hooks}.
 *
 * <pre>{@code
 * pre-task:                          # before each task; a non-zero exit blocks it
 *   - command: [./scripts/allowed.sh]  # an argument vector, no shell
 *     timeout: 10s                   # default 30s (also: 500ms, 2m, or a number of seconds)
 * post-task:
 *   - shell: "echo done >> .cfn/tasks.log"   # shell text, run with /bin/sh -c
 * pre-tool:                          # tool moments take the tools they watch (a glob, | for or)
 *   - tools: "file_write|file_edit"
 *     command: [./scripts/check-path.sh]
 *     env: [HOME]                    # variables passed on besides PATH (the allow-list)
 * post-tool: []
 * post-edit:
 *   - command: [./gradlew, -q, spotlessApply]
 *     max-output-bytes: 4096
 * }</pre>
 *
 * Each command gets the event as JSON on its standard input, with {@link CommandHook}'s machinery:
 * the timeout, the output limit, the environment allow-list, the process-tree kill. Commands run in
 * the project's folder (the one holding {@code .cfn/}).
 *
 * <p><b>Only with the user's allow.</b> The file comes with the project (a cloned repository), so
 * reading it runs nothing: {@link #read} checks it and builds the hooks, and the caller runs them
 * only when the user allowed it ({@code cfn swarm|task|loop run --trust-hooks}); otherwise it says
 * which it left out. A malformed file is refused with the line's key and the fix, whether allowed
 * or not.
 */
public final class ProjectHooks {
  /** Where a project keeps its hooks, relative to the project's folder. */
  public static final String DEFAULT_FILE = ".cfn/hooks.yaml";

  private static final List<String> ENTRY_KEYS =
      List.of("command", "shell", "tools", "timeout", "env", "max-output-bytes", "name");

  private ProjectHooks() {}

  /**
   * Reads {@code file}; commands run in {@code project}.
   *
   * @param file the hooks file
   * @param project the folder the commands run in
   * @return the hooks (none for an empty file)
   * @throws IOException when the file cannot be read
   * @throws IllegalArgumentException naming the file, the key and the fix, for a malformed file
   */
  public static Hooks read(Path file, Path project) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(project, "project");
    String where = file.toString();
    String text = dev.cfn.core.io.TextFile.readUtf8(file);
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(where).build()).loadFromString(text);
    } catch (YamlEngineException e) {
      throw problem(
          where, "", "is not valid YAML: " + firstLine(e.getMessage()), "correct the YAML");
    }
    if (root == null) {
      return Hooks.none();
    }
    if (!(root instanceof Map<?, ?> moments)) {
      throw problem(
          where,
          "",
          "must be a map of moments to lists of hooks",
          "start with pre-task:, post-task:, pre-tool:, post-tool: or post-edit:");
    }
    Hooks.Builder hooks = Hooks.builder();
    for (Map.Entry<?, ?> e : moments.entrySet()) {
      String key = String.valueOf(e.getKey());
      Moment moment = moment(key);
      if (moment == null) {
        throw problem(
            where,
            key,
            "is not a moment cfn runs hooks at",
            "use pre-task, post-task, pre-tool, post-tool or post-edit");
      }
      if (e.getValue() == null) {
        continue;
      }
      if (!(e.getValue() instanceof List<?> list)) {
        throw problem(
            where, key, "must be a list of hooks", "write " + key + ": then - command: [...]");
      }
      boolean toolMoment = moment == Moment.PRE_TOOL || moment == Moment.POST_TOOL;
      for (int i = 0; i < list.size(); i++) {
        String at = key + "[" + i + "]";
        if (!(list.get(i) instanceof Map<?, ?> entry)) {
          throw problem(where, at, "must be a map", "write - command: [program, arg]");
        }
        for (Object k : entry.keySet()) {
          if (!ENTRY_KEYS.contains(String.valueOf(k))) {
            throw problem(where, at + "." + k, "is not a hook setting", "use one of " + ENTRY_KEYS);
          }
        }
        String glob = null;
        if (toolMoment) {
          Object tools = entry.get("tools");
          if (!(tools instanceof String g) || g.isBlank()) {
            throw problem(
                where,
                at + ".tools",
                "is missing",
                "name the tools this hook watches, e.g. tools: \"file_*\" (or \"*\" for all)");
          }
          glob = g;
        } else if (entry.containsKey("tools")) {
          throw problem(
              where, at + ".tools", "applies to pre-tool and post-tool only", "remove it");
        }
        CommandHook.Builder b = builder(where, at, entry);
        b.workingDirectory(project);
        b.name(entry.get("name") instanceof String n ? n : "hooks file " + where + ": " + at);
        if (entry.containsKey("timeout")) {
          b.timeout(duration(where, at + ".timeout", entry.get("timeout")));
        }
        if (entry.containsKey("env")) {
          List<String> names = strings(where, at + ".env", entry.get("env"));
          for (String n : names) {
            if (!n.matches("[A-Za-z_][A-Za-z0-9_]*")) {
              throw problem(
                  where,
                  at + ".env",
                  "holds '" + n + "', not a variable's name",
                  "list names such as HOME or JAVA_HOME");
            }
          }
          b.inheritEnv(names.toArray(String[]::new));
        }
        if (entry.containsKey("max-output-bytes")) {
          if (!(entry.get("max-output-bytes") instanceof Integer n) || n < 1) {
            throw problem(
                where, at + ".max-output-bytes", "must be a positive number", "e.g. 4096");
          }
          b.maxOutputBytes(n);
        }
        try {
          hooks.on(moment, glob, b.build());
        } catch (IllegalArgumentException bad) {
          throw problem(where, at, bad.getMessage(), "correct this hook");
        }
      }
    }
    return hooks.build();
  }

  private static CommandHook.Builder builder(String where, String at, Map<?, ?> entry) {
    Object command = entry.get("command");
    Object shell = entry.get("shell");
    if ((command == null) == (shell == null)) {
      throw problem(
          where,
          at,
          command == null ? "has neither command nor shell" : "has both command and shell",
          "give command: [program, args...] (no shell), or shell: \"text\" (run with /bin/sh -c)");
    }
    if (shell != null) {
      if (!(shell instanceof String s) || s.isBlank()) {
        throw problem(where, at + ".shell", "must be shell text", "e.g. shell: \"make lint\"");
      }
      return CommandHook.shell(s);
    }
    List<String> argv = strings(where, at + ".command", command);
    if (argv.isEmpty() || argv.getFirst().isBlank()) {
      throw problem(
          where, at + ".command", "is empty", "give the program and its arguments: [program, arg]");
    }
    return CommandHook.builder(argv);
  }

  private static List<String> strings(String where, String at, Object value) {
    if (!(value instanceof List<?> list)) {
      throw problem(where, at, "must be a list of strings", "write [a, b]");
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof String s)) {
        throw problem(where, at, "holds " + o + ", not a string", "quote it");
      }
      out.add(s);
    }
    return out;
  }

  /** A number of seconds, or a number followed by ms, s or m. */
  static Duration duration(String where, String at, Object value) {
    Duration d = null;
    if (value instanceof Integer n) {
      d = Duration.ofSeconds(n);
    } else if (value instanceof String s) {
      String t = s.strip().toLowerCase(Locale.ROOT);
      try {
        if (t.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        } else if (t.endsWith("s")) {
          d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        } else if (t.endsWith("m")) {
          d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
        }
      } catch (NumberFormatException e) {
        d = null;
      }
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw problem(
          where, at, "is " + value + ", not a positive duration", "e.g. 30s, 500ms, 2m or 30");
    }
    return d;
  }

  private static Moment moment(String key) {
    return switch (key) {
      case "pre-task" -> Moment.PRE_TASK;
      case "post-task" -> Moment.POST_TASK;
      case "pre-tool" -> Moment.PRE_TOOL;
      case "post-tool" -> Moment.POST_TOOL;
      case "post-edit" -> Moment.POST_EDIT;
      default -> null;
    };
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static IllegalArgumentException problem(
      String file, String where, String what, String fix) {
    return new IllegalArgumentException(
        file + ": " + (where.isEmpty() ? "" : where + " ") + what + " (fix: " + fix + ")");
  }
}
