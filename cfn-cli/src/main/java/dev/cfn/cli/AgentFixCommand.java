package dev.cfn.cli;

import dev.cfn.ai.definition.DefinitionRepair;
import dev.cfn.ai.definition.DefinitionRepair.Change;
import dev.cfn.ai.definition.DefinitionRepair.Outcome;
import dev.cfn.ai.definition.Problem;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn agent fix PATH…}: rewrites the common YAML mistakes of agent files in place, through
 * {@link DefinitionRepair} (unquoted {@code ": "} in a value, tab indentation, blank lines above
 * the frontmatter), keeping each original as {@code NAME.bak}. Files that load are left alone. Exit
 * status: 0 when every file loads afterwards (or would, with {@code --dry-run}), 1 when one does
 * not, 2 when a path is empty.
 */
@Command(
    name = "fix",
    mixinStandardHelpOptions = true,
    description = {
      "Rewrites the common YAML mistakes of agent files in place: an unquoted ': ' in a value,"
          + " tabs in the indentation, blank lines above the frontmatter.",
      "Each rewritten file keeps its original as NAME.bak (an existing backup is never"
          + " overwritten); files that already load are not touched.",
      "Exits with 0 when every file loads afterwards, 1 when one does not."
    })
final class AgentFixCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "1..*",
      paramLabel = "PATH",
      description = "Agent files, or folders whose .md files to repair.")
  List<Path> paths;

  @Option(names = "--dry-run", description = "Print what would change; write nothing.")
  boolean dryRun;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<Outcome> outcomes = DefinitionRepair.repair(paths, dryRun);
    int fixed = 0;
    int loaded = 0;
    int invalid = 0;
    for (Outcome o : outcomes) {
      String file = Problem.printable(o.file().toString());
      switch (o.status()) {
        case ALREADY_LOADS -> {
          loaded++;
          out.println("ok " + file + ": loads already, left alone");
        }
        case FIXED -> {
          fixed++;
          out.println(
              (dryRun ? "would fix " : "fixed ")
                  + file
                  + (o.backup() == null
                      ? ""
                      : " (original kept as " + Problem.printable(o.backup().toString()) + ")"));
          printChanges(o.changes(), out);
        }
        case STILL_INVALID -> {
          invalid++;
          out.println(
              (o.changes().isEmpty()
                      ? "not fixed "
                      : dryRun ? "would partly fix " : "partly fixed ")
                  + file
                  + ": "
                  + (o.changes().isEmpty()
                      ? "nothing cfn agent fix can rewrite"
                      : "it still does not load")
                  + (o.backup() == null
                      ? ""
                      : " (original kept as " + Problem.printable(o.backup().toString()) + ")"));
          printChanges(o.changes(), out);
          for (Problem p : o.remaining()) {
            out.println("  " + p);
          }
        }
      }
    }
    out.println(
        AgentCommand.plural(outcomes.size(), "file")
            + ": "
            + fixed
            + (dryRun ? " would be fixed, " : " fixed, ")
            + loaded
            + " loaded already, "
            + invalid
            + " still invalid"
            + (dryRun ? " (dry run: nothing was written)" : ""));
    out.flush();
    if (invalid > 0) {
      throw CommandFailure.failed(
          AgentCommand.plural(invalid, "file") + " still do not load",
          "edit them by hand; the problems are listed above, with their lines");
    }
    return 0;
  }

  private static void printChanges(List<Change> changes, PrintWriter out) {
    for (Change c : changes) {
      out.println("  line " + c.line() + ": " + c.what());
      for (String line : c.before()) {
        out.println("    - " + Problem.printable(line));
      }
      for (String line : c.after()) {
        out.println("    + " + Problem.printable(line));
      }
    }
  }
}
