package dev.cfn.cli;

import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.hook.Moment;
import dev.cfn.ai.hook.ProjectHooks;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The hook options of the commands that run agents ({@code cfn run}, {@code cfn swarm run}, {@code
 * cfn task submit|resume}, {@code cfn loop run}): the project's hooks file and the user's allow to
 * run hooks. Written once here, mixed into each.
 *
 * <p>Trust: the hooks file ({@value ProjectHooks#DEFAULT_FILE} of the project, or {@code --hooks})
 * and the agent definitions' {@code hooks:} come with the project, a cloned repository perhaps, so
 * their commands run only when the user passes {@code --trust-hooks} for that run. Without it the
 * file is still read and checked (a malformed one is refused before anything runs, exit 2), and a
 * warning says how many of its hooks were left out. The allow is per run, not remembered: a file
 * edited between two runs (by a pull, or by an agent during the first) runs only after the user
 * passes the flag again.
 */
final class HookOptions {
  @Option(
      names = "--trust-hooks",
      description =
          "Run the project's hooks (.cfn/hooks.yaml, or --hooks) and the agent definitions' own"
              + " hooks (their hooks: fields) for this run. Read them first: they run on this"
              + " machine as you. Without it they never run, and a warning names them.")
  boolean trustHooks;

  @Option(
      names = "--hooks",
      paramLabel = "FILE",
      description =
          "The project's hooks file (default: .cfn/hooks.yaml in the project, when present); run"
              + " only with --trust-hooks.")
  Path file;

  /**
   * The project's hooks for a run of {@code command}, checked: none when there is no file, or when
   * the user did not pass {@code --trust-hooks} (then a warning on {@code err}, unless null, says
   * what was left out).
   *
   * @throws CommandFailure (exit 2) for a missing {@code --hooks} file or a malformed one
   */
  Hooks load(Path project, String command, PrintWriter err) {
    Path f = file != null ? file : project.resolve(ProjectHooks.DEFAULT_FILE);
    if (file != null) {
      PathChecks.existingFile("--hooks", file, "hooks file");
    } else if (!Files.isRegularFile(f)) {
      return Hooks.none();
    }
    Hooks hooks;
    try {
      Path dir = project.toAbsolutePath().normalize();
      hooks = ProjectHooks.read(f, dir);
    } catch (IOException e) {
      throw CommandFailure.usage(
          "cannot read the hooks file " + f + ": " + e.getMessage(),
          "make it readable, or give another with --hooks");
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      int fix = message.lastIndexOf(" (fix: ");
      if (fix > 0 && message.endsWith(")")) {
        throw CommandFailure.usage(
            message.substring(0, fix), message.substring(fix + 7, message.length() - 1));
      }
      throw CommandFailure.usage(message, "correct the hooks file " + f);
    }
    if (hooks.isEmpty() || trustHooks) {
      return hooks;
    }
    if (err == null) {
      return Hooks.none();
    }
    int n = 0;
    for (Moment m : Moment.values()) {
      n += hooks.count(m);
    }
    err.println(
        command
            + ": warning: the "
            + n
            + " hook"
            + (n == 1 ? "" : "s")
            + " of "
            + f
            + " will not run: a project's commands run only with --trust-hooks (read the file"
            + " first)");
    return Hooks.none();
  }

  /** Gives {@code agent} the project's {@code hooks} and, when allowed, its definition's own. */
  void apply(LlmAgent.Builder agent, Hooks hooks) {
    if (!hooks.isEmpty()) {
      agent.hooks(hooks);
    }
    if (trustHooks) {
      agent.allowDefinitionHooks();
    }
  }
}
