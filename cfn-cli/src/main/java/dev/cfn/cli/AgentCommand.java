package dev.cfn.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.definition.Problem;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn agent list|show|validate}: agent definitions, the Markdown files with YAML frontmatter
 * that Claude Code keeps in {@code .claude/agents}. Without a path, each command reads {@code
 * .claude/agents} in the current folder. Exit status: 0 when all is well, 1 when a file is invalid
 * ({@code list}, {@code validate}) or the agent is not found ({@code show}), 2 when there is
 * nothing to read (a path that does not exist, an empty path, no {@code .claude/agents}).
 */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = "Lists, shows and validates agent definitions (.claude/agents/*.md files).",
    subcommands = {
      AgentCommand.ListAgents.class,
      AgentCommand.Show.class,
      AgentCommand.Validate.class,
      AgentFixCommand.class
    })
final class AgentCommand extends CommandGroup {
  /** Where Claude Code keeps a project's agents, and so where we look when given no path. */
  static final Path DEFAULT_FOLDER = Path.of(".claude", "agents");

  /** The sample agents of this repository, suggested when run from its root. */
  static final Path QUICKSTART = Path.of("examples", "quickstart", "agents");

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper ONE_LINE_JSON = new ObjectMapper();

  /**
   * The paths to read: those given, else {@code .claude/agents} if it exists; otherwise bad usage
   * saying what to pass. {@code command} is the command as typed, such as {@code cfn agent list}.
   */
  static List<Path> pathsOrDefault(List<Path> given, String command) {
    if (given != null && !given.isEmpty()) {
      return given; // a path that does not exist is reported by the loader, as an invalid file
    }
    if (Files.isDirectory(DEFAULT_FOLDER)) {
      return List.of(DEFAULT_FOLDER);
    }
    throw CommandFailure.usage(
        "no agents given and there is no "
            + DEFAULT_FOLDER
            + " folder in "
            + Path.of("").toAbsolutePath(),
        "give agent files or folders, e.g. "
            + command
            + " --agents "
            + (Files.isDirectory(QUICKSTART) ? QUICKSTART : "~/.claude/agents"));
  }

  static String json(Object value) {
    return json(JSON, value);
  }

  static String json(ObjectMapper mapper, Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String orDash(Object value) {
    return value == null ? "-" : value.toString();
  }

  static String tools(AgentDefinition d) {
    if (d.allowsAllTools()) {
      return "* (every tool)";
    }
    return d.tools().isEmpty() ? "(none)" : String.join(", ", d.tools());
  }

  static String clip(String s, int max) {
    String flat = s.replace('\n', ' ');
    return flat.length() <= max ? flat : flat.substring(0, max - 1) + "…";
  }

  static String plural(int n, String word) {
    return n + " " + word + (n == 1 ? "" : "s");
  }

  /** A definition as JSON-ready fields, the prompt included when asked. */
  static Map<String, Object> fields(AgentDefinition d, boolean withPrompt) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", d.name());
    m.put("description", d.description());
    m.put("type", d.type());
    m.put("model", d.model());
    m.put("provider", d.provider());
    m.put("tools", d.tools());
    m.put("capabilities", d.capabilities());
    m.put("priority", d.priority() == null ? null : d.priority().label());
    m.put("color", d.color());
    Map<String, Object> lifecycle = new LinkedHashMap<>();
    lifecycle.put("max_retries", d.lifecycle().maxRetries());
    lifecycle.put(
        "timeout_ms", d.lifecycle().timeout() == null ? null : d.lifecycle().timeout().toMillis());
    lifecycle.put("max_turns", d.lifecycle().maxTurns());
    m.put("lifecycle", lifecycle);
    m.put("hooks", d.hooks());
    m.put("extra", d.extra());
    m.put("file", d.source().toString());
    if (withPrompt) {
      m.put("systemPrompt", d.systemPrompt());
    }
    return m;
  }

  /**
   * A subcommand that reads the agent files or folders given as parameters ({@code .claude/agents}
   * by default) and then works on what it read; exits with 2 when there is nothing to read.
   */
  abstract static class AgentFilesCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        arity = "0..*",
        paramLabel = "PATH",
        description = "Agent files or folders (default: .claude/agents).")
    List<Path> paths;

    @Option(
        names = "--agents",
        paramLabel = "PATH",
        description = "Agent files or folders, repeatable; the same as giving them as PATH.")
    List<Path> agents;

    @Override
    public final Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      List<Path> given = new ArrayList<>();
      if (paths != null) {
        given.addAll(paths);
      }
      if (agents != null) {
        given.addAll(agents);
      }
      List<Path> read = pathsOrDefault(given, spec.qualifiedName());
      return run(DefinitionLoader.load(read), read, spec.commandLine().getOut(), err);
    }

    /** Works on the files read; returns the exit code. */
    abstract int run(LoadResult r, List<Path> read, PrintWriter out, PrintWriter err);
  }

  /** Says which files were skipped because they are invalid, on the error stream. */
  static void reportSkipped(LoadResult r, String command, List<Path> paths, PrintWriter err) {
    List<Path> invalid = r.invalidFiles();
    if (!invalid.isEmpty()) {
      err.println(
          "cfn agent "
              + command
              + ": skipped "
              + plural(invalid.size(), "invalid file")
              + " ("
              + invalid.stream()
                  .map(p -> Problem.printable(p.toString()))
                  .collect(Collectors.joining(", "))
              + ") (fix: cfn agent validate "
              + paths.stream().map(Path::toString).collect(Collectors.joining(" "))
              + " says what is wrong)");
      err.flush();
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "Lists the valid agents: name, type, model, provider, tools and file.",
        "Exits with 1 when a file could not be read (it is skipped; cfn agent validate says why)."
      })
  static final class ListAgents extends AgentFilesCommand {
    @Option(names = "--json", description = "Print the agents as a JSON array.")
    boolean json;

    @Override
    int run(LoadResult r, List<Path> read, PrintWriter out, PrintWriter err) {
      if (json) {
        out.println(json(r.definitions().stream().map(d -> fields(d, false)).toList()));
      } else {
        printTable(r.definitions(), out);
      }
      out.flush();
      reportSkipped(r, "list", read, err);
      return r.invalidFiles().isEmpty() ? ExitCode.OK : ExitCode.FAILED;
    }

    private static void printTable(List<AgentDefinition> definitions, PrintWriter out) {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"NAME", "TYPE", "MODEL", "PROVIDER", "TOOLS", "FILE"});
      for (AgentDefinition d : definitions) {
        rows.add(
            new String[] {
              d.name(),
              orDash(d.type()),
              orDash(d.model()),
              orDash(d.provider()),
              clip(tools(d), 48),
              d.source().toString()
            });
      }
      Table.print(out, rows);
      out.println(plural(definitions.size(), "agent"));
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Shows one agent: every field, then its system prompt.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "The agent's name (see cfn agent list).")
    String name;

    @Option(
        names = "--agents",
        paramLabel = "PATH",
        description =
            "Where the agents are: a folder or file, repeatable (default: .claude/agents).")
    List<Path> dirs;

    @Option(names = "--dir", paramLabel = "PATH", hidden = true, description = "Same as --agents.")
    void dir(Path path) {
      if (dirs == null) {
        dirs = new ArrayList<>();
      }
      dirs.add(path);
    }

    @Option(names = "--json", description = "Print the agent as a JSON object.")
    boolean json;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      List<Path> read = pathsOrDefault(dirs, spec.qualifiedName());
      LoadResult r = DefinitionLoader.load(read);
      Optional<AgentDefinition> found = r.find(name);
      if (found.isEmpty()) {
        String where = read.stream().map(Path::toString).collect(Collectors.joining(" "));
        String known =
            r.definitions().stream().map(AgentDefinition::name).collect(Collectors.joining(", "));
        throw CommandFailure.failed(
            "no valid agent named '"
                + name
                + "' in "
                + where
                + (known.isEmpty() ? "; it holds no valid agents" : "; the agents there: " + known)
                + (r.invalidFiles().isEmpty()
                    ? ""
                    : "; " + plural(r.invalidFiles().size(), "file") + " could not be read"),
            r.invalidFiles().isEmpty()
                ? "cfn agent list " + where + " shows the names"
                : "cfn agent validate " + where + " says what is wrong");
      }
      AgentDefinition d = found.get();
      List<Problem> warnings =
          r.problems().stream().filter(p -> p.file().equals(d.source())).toList();
      if (json) {
        Map<String, Object> m = fields(d, true);
        m.put("warnings", warnings.stream().map(Problem::fields).toList());
        out.println(json(m));
        out.flush();
        return 0;
      }
      field(out, "name", d.name());
      field(out, "description", d.description());
      field(out, "file", d.source().toString());
      field(out, "type", orDash(d.type()));
      field(out, "model", orDash(d.model()));
      field(out, "provider", orDash(d.provider()));
      field(out, "tools", tools(d));
      field(
          out,
          "capabilities",
          d.capabilities().isEmpty() ? "-" : String.join(", ", d.capabilities()));
      field(out, "priority", d.priority() == null ? "-" : d.priority().label());
      field(out, "color", orDash(d.color()));
      AgentDefinition.Lifecycle lc = d.lifecycle();
      field(
          out,
          "lifecycle",
          lc.equals(AgentDefinition.Lifecycle.NONE)
              ? "-"
              : "max_retries "
                  + orDash(lc.maxRetries())
                  + ", timeout_ms "
                  + (lc.timeout() == null ? "-" : lc.timeout().toMillis())
                  + ", max_turns "
                  + orDash(lc.maxTurns()));
      map(out, "hooks", d.hooks());
      map(out, "extra", d.extra());
      for (Problem p : warnings) {
        out.println(p);
      }
      out.println("--- system prompt ---");
      out.println(d.systemPrompt());
      out.flush();
      return 0;
    }

    private static void field(PrintWriter out, String label, String value) {
      String indent = " ".repeat(14);
      out.printf("%-14s%s%n", label + ":", value.strip().replace("\n", "\n" + indent));
    }

    private static void map(PrintWriter out, String label, Map<String, Object> map) {
      if (map.isEmpty()) {
        field(out, label, "-");
        return;
      }
      out.println(label + ":");
      map.forEach(
          (k, v) -> {
            String text = v instanceof String s ? s : json(ONE_LINE_JSON, v);
            if (text.contains("\n")) {
              out.println("  " + k + ": |");
              out.println("    " + text.stripTrailing().replace("\n", "\n    "));
            } else {
              out.println("  " + k + ": " + text);
            }
          });
    }
  }

  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      description = {
        "Checks agent files and prints every problem as file:line: error|warning: message (fix:"
            + " ...).",
        "Exits with 1 when any file is invalid."
      })
  static final class Validate extends AgentFilesCommand {
    @Option(names = "--json", description = "Print the result as a JSON object.")
    boolean json;

    @Override
    int run(LoadResult r, List<Path> read, PrintWriter out, PrintWriter err) {
      int files = r.files().size();
      int invalid = r.invalidFiles().size();
      int warnings = r.warnings().size();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", files);
        m.put("valid", files - invalid);
        m.put("invalid", invalid);
        m.put("warnings", warnings);
        m.put("invalidFiles", r.invalidFiles().stream().map(Path::toString).toList());
        m.put("problems", r.problems().stream().map(Problem::fields).toList());
        out.println(json(m));
      } else {
        for (Problem p : r.problems()) {
          out.println(p);
        }
        for (Path file : r.invalidFiles()) {
          out.println("invalid: " + Problem.printable(file.toString()));
        }
        out.println(
            plural(files, "file")
                + ", "
                + (files - invalid)
                + " valid, "
                + invalid
                + " invalid, "
                + plural(warnings, "warning"));
      }
      out.flush();
      if (invalid > 0) {
        throw CommandFailure.failed(
            plural(invalid, "invalid file") + " (listed above)",
            "correct each problem as its line says");
      }
      return ExitCode.OK;
    }
  }
}
