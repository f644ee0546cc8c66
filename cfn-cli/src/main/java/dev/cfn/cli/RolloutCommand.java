package dev.cfn.cli;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.rollout.Gates;
import dev.cfn.ai.rollout.RolloutEvent;
import dev.cfn.ai.rollout.RolloutStatus;
import dev.cfn.ai.rollout.RolloutStore;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn rollout start|status|promote|rollback}: canary rollouts of agent versions, kept in
 * {@code HOME/.cfn/rollouts/AGENT.json} ({@link RolloutStore}). The node serving the agent ({@code
 * cfn serve}) routes the share, judges the gates and promotes or rolls back; these commands start a
 * rollout, show it, and step it up or back by hand. Each change is recorded in the rollout's
 * history and, when no server holds it, in the audit log.
 */
@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    description = {
      "Canary rollouts of agent versions: a new definition takes a rising share of new tasks"
          + " (sticky by task key) while its error rate, P95 latency, cost per task and"
          + " validators' approvals hold within 110 %% of the version in use.",
      "State in HOME/.cfn/rollouts; cfn serve routes and judges it."
    },
    subcommands = {
      RolloutCommand.Start.class,
      RolloutCommand.Status.class,
      RolloutCommand.Promote.class,
      RolloutCommand.Rollback.class
    })
final class RolloutCommand extends CommandGroup {

  static RolloutStore store(Path cfn) {
    return RolloutStore.at(cfn.resolve("rollouts"));
  }

  static void requireAgentName(String agent) {
    if (!AgentDefinition.isValidName(agent)) {
      throw CommandFailure.usage(
          "'" + agent + "' is not an agent name",
          "give the agent's name, as its definition's name: field says (such as reviewer)");
    }
  }

  /** Records {@code action} in the audit log, or says on stderr why it could not. */
  static void audit(
      CommandSpec spec, Path cfn, String action, String agent, Map<String, String> detail) {
    try (AuditLog log = AuditLog.open(cfn)) {
      log.append(
          AuditEvent.now(
              KeysCommand.user(), action, "agent:" + agent, AuditEvent.Outcome.SUCCESS, detail));
    } catch (RuntimeException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          "cfn rollout: warning: not in the audit log ("
              + e.getMessage()
              + "); the rollout's history has it");
      err.flush();
    }
  }

  static Map<String, Object> json(RolloutStatus s) {
    return s.toMap();
  }

  static void print(PrintWriter out, RolloutStatus s) {
    out.printf(
        Locale.ROOT,
        "%s: %s, canary %s at %d %% (steps %s, hold %s)%n",
        s.agent(),
        s.phase().name().toLowerCase(Locale.ROOT).replace('_', ' '),
        s.canary().label(),
        s.share(),
        s.steps(),
        ValueConvertersText.duration(s.hold()));
    out.printf(Locale.ROOT, "  baseline %s  %s%n", s.baseline().label(), line(s.baselineFigures()));
    out.printf(Locale.ROOT, "  canary   %s  %s%n", s.canary().label(), line(s.canaryFigures()));
    if (s.reason() != null) {
      out.println("  reason: " + s.reason());
    }
    for (RolloutEvent e : s.events()) {
      out.printf(
          Locale.ROOT,
          "  %s %-11s %3d %%  %s (%s)%n",
          e.at(),
          e.kind(),
          e.share(),
          e.detail(),
          e.by());
    }
  }

  private static String line(RolloutStatus.Figures f) {
    return String.format(
        Locale.ROOT,
        "tasks %d, errors %.1f %%, P95 %.1f ms, cost/task %.6g%s",
        f.tasks(),
        100 * f.errorRate(),
        f.p95Millis(),
        f.costPerTask(),
        f.approvalRate() == null
            ? ""
            : String.format(Locale.ROOT, ", approvals %.1f %%", 100 * f.approvalRate()));
  }

  /** Durations as the options take them. */
  static final class ValueConvertersText {
    private ValueConvertersText() {}

    static String duration(Duration d) {
      long s = d.toSeconds();
      if (d.toMillis() % 1000 != 0) {
        return d.toMillis() + "ms";
      }
      if (s % 86400 == 0 && s > 0) {
        return s / 86400 + "d";
      }
      if (s % 3600 == 0 && s > 0) {
        return s / 3600 + "h";
      }
      if (s % 60 == 0 && s > 0) {
        return s / 60 + "m";
      }
      return s + "s";
    }
  }

  @Command(
      name = "start",
      mixinStandardHelpOptions = true,
      description =
          "Starts rolling FILE out as the new version of AGENT: it takes the first step's share of"
              + " new tasks, is promoted when each step's hold is over and the gates hold, and is"
              + " rolled back when one fails.")
  static final class Start implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Parameters(index = "0", paramLabel = "AGENT", description = "The agent's name.")
    String agent;

    @Option(
        names = "--to",
        required = true,
        paramLabel = "FILE",
        description = "The new version's definition file (same name:, other content).")
    Path to;

    @Option(
        names = "--steps",
        split = ",",
        paramLabel = "PERCENT",
        description = "The canary's shares of new tasks, rising, the last 100 (default: 5,25,100).")
    List<Integer> steps = List.of(5, 25, 100);

    @Option(
        names = "--hold",
        paramLabel = "DURATION",
        description = "How long each step runs before it may be promoted (default: 10m).")
    Duration hold = Duration.ofMinutes(10);

    @Option(
        names = "--min-tasks",
        paramLabel = "N",
        description = "Tasks each version needs before the gates are judged (default: 20).")
    int minTasks = Gates.DEFAULTS.minTasks();

    @Option(
        names = "--agents",
        paramLabel = "PATH",
        description = "The folder of the definitions in use (default: HOME/.claude/agents).")
    Path agents;

    @Option(names = "--json", description = "Print the rollout as JSON.")
    boolean json;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      requireAgentName(agent);
      if (minTasks < 1) {
        throw CommandFailure.usage(
            "--min-tasks must be at least 1, was " + minTasks, "such as --min-tasks 20");
      }
      Path folder = agents != null ? agents : home.home.resolve(".claude").resolve("agents");
      if (!Files.isDirectory(folder)) {
        throw CommandFailure.usage(
            "no agent folder " + folder, "give the folder of the definitions in use with --agents");
      }
      if (!Files.isRegularFile(to)) {
        throw CommandFailure.usage(
            "--to " + to + " is not a file", "give the new version's .md file");
      }
      LoadResult inUse = DefinitionLoader.load(folder);
      AgentDefinition baseline =
          inUse
              .find(agent)
              .orElseThrow(
                  () ->
                      CommandFailure.usage(
                          "no valid definition of " + agent + " in " + folder,
                          "cfn agent list " + folder + " shows the agents there"));
      LoadResult next = DefinitionLoader.load(to);
      if (next.hasErrors() || next.definitions().size() != 1) {
        String problem = next.errors().isEmpty() ? "" : ": " + next.errors().getFirst();
        throw CommandFailure.usage(
            to + " is not a valid agent definition" + problem,
            problem.contains("(fix: ") ? null : "cfn agent validate " + to + " lists its problems");
      }
      RolloutStatus s;
      try {
        s =
            store(cfn)
                .start(
                    baseline,
                    next.definitions().getFirst(),
                    steps,
                    hold,
                    Gates.DEFAULTS.withMinTasks(minTasks),
                    Instant.now(),
                    KeysCommand.user());
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw CommandFailure.usage(e.getMessage(), "nothing was changed");
      } catch (UncheckedIOException e) {
        throw new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
      }
      audit(
          spec,
          cfn,
          "rollout.start",
          agent,
          Map.of("to", s.canary().label(), "steps", steps.toString(), "hold", hold.toString()));
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(AgentCommand.json(json(s)));
      } else {
        print(out, s);
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description =
          "Shows the rollouts (or AGENT's): phase, share, figures of each version, history.")
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Parameters(index = "0", arity = "0..1", paramLabel = "AGENT", description = "One agent.")
    String agent;

    @Option(names = "--json", description = "Print the rollouts as JSON.")
    boolean json;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      List<RolloutStatus> all;
      if (agent != null) {
        requireAgentName(agent);
        all =
            List.of(
                store(cfn)
                    .status(agent)
                    .orElseThrow(
                        () ->
                            new CommandFailure(
                                ExitCode.FAILED,
                                "no rollout of " + agent + " in " + cfn.resolve("rollouts"),
                                "cfn rollout status lists them",
                                null)));
      } else {
        all = store(cfn).list();
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(
            AgentCommand.json(
                agent != null
                    ? json(all.getFirst())
                    : all.stream().map(RolloutCommand::json).toList()));
      } else if (all.isEmpty()) {
        out.println("no rollouts in " + cfn.resolve("rollouts"));
      } else {
        all.forEach(s -> print(out, s));
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description =
          "Takes AGENT's running rollout one step up now, without waiting for its hold or gates;"
              + " from the last step, completes it (the new file replaces the definition).")
  static final class Promote implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Parameters(index = "0", paramLabel = "AGENT", description = "The agent's name.")
    String agent;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      requireAgentName(agent);
      RolloutStatus s;
      try {
        s = store(cfn).promote(agent, Instant.now(), KeysCommand.user());
      } catch (IllegalStateException e) {
        throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
      } catch (UncheckedIOException e) {
        throw new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
      }
      audit(spec, cfn, "rollout.promote", agent, Map.of("share", String.valueOf(s.share())));
      print(spec.commandLine().getOut(), s);
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "rollback",
      aliases = "abort",
      mixinStandardHelpOptions = true,
      description =
          "Rolls AGENT's running rollout back: the version in use takes every task again.")
  static final class Rollback implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Parameters(index = "0", paramLabel = "AGENT", description = "The agent's name.")
    String agent;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why (kept in the history).")
    String reason = "rolled back by hand";

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      requireAgentName(agent);
      if (reason.isBlank()) {
        throw CommandFailure.usage("--reason is empty", "say why, or leave the option out");
      }
      RolloutStatus s;
      try {
        s = store(cfn).rollback(agent, reason, Instant.now(), KeysCommand.user());
      } catch (IllegalStateException e) {
        throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
      } catch (UncheckedIOException e) {
        throw new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
      }
      audit(spec, cfn, "rollout.rollback", agent, Map.of("reason", reason));
      print(spec.commandLine().getOut(), s);
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }
}
