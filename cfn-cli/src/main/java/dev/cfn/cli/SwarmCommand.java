package dev.cfn.cli;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.flow.supervisor.Supervisor;
import dev.cfn.flow.supervisor.SupervisorOutcome;
import dev.cfn.flow.supervisor.SupervisorStep;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.flow.swarm.SwarmStatus;
import dev.cfn.flow.swarm.Topology;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cfn swarm run}: a supervised swarm of the project's agents works on one objective. */
@Command(
    name = "swarm",
    mixinStandardHelpOptions = true,
    description = {
      "Runs swarms of the project's agents (run), and the swarms of a running node (status,"
          + " create, join, leave, with --server URL)."
    },
    subcommands = {
      SwarmCommand.Run.class,
      SwarmNodeCommands.Status.class,
      SwarmNodeCommands.Create.class,
      SwarmNodeCommands.Join.class,
      SwarmNodeCommands.Leave.class
    })
final class SwarmCommand extends CommandGroup {

  /** The strategies {@code --strategy} takes. */
  enum Strategy {
    CAPABILITY,
    STICKY,
    ROUND_ROBIN,
    LEAST_LOADED;

    static Strategy parse(String s) {
      for (Strategy v : values()) {
        if (v.name().replace('_', '-').equalsIgnoreCase(s.strip())) {
          return v;
        }
      }
      throw CommandFailure.usage(
          "unknown --strategy '" + s + "'",
          "use one of capability, sticky, round-robin, least-loaded");
    }

    Function<String, Assignment> assignment() {
      return switch (this) {
        case CAPABILITY -> Assignment::capability;
        case STICKY -> Assignment::sticky;
        case ROUND_ROBIN -> m -> Assignment.roundRobin();
        case LEAST_LOADED -> m -> Assignment.leastLoaded();
      };
    }
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = {
        "Forms a swarm from the agent definitions and works on OBJECTIVE under a supervisor.",
        "The supervisor (the definition whose type is coordinator or supervisor, or --supervisor)"
            + " plans each step as JSON: which member does what next, or the final answer. The"
            + " member is picked by --strategy among those the plan names; the swarm's topology"
            + " governs messages between members; one budget covers all."
      })
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "OBJECTIVE",
        description = "What the swarm should do.")
    String objective;

    @Option(
        names = "--id",
        paramLabel = "RUN",
        description =
            "Make the run durable under this id: its model calls are recorded in the call log"
                + " (--calls), its options and what it spent in .cfn/swarms/RUN/, so that"
                + " --resume RUN goes on after a crash without asking a model again what it"
                + " answered, its budget counting what was spent before.")
    String id;

    @Option(
        names = "--resume",
        paramLabel = "RUN",
        description =
            "Go on with durable run RUN (started with --id) after a crash or a failure, with the"
                + " options it was started with; recorded answers come from the call log.")
    String resume;

    @Option(
        names = "--calls",
        paramLabel = "FILE",
        description = "The call log of a durable run (default: .cfn/calls.db).")
    Path calls = SqliteCallLogStore.DEFAULT_FILE;

    @Option(
        names = "--topology",
        paramLabel = "T",
        description = "mesh, hierarchical, star, ring or auto (default: auto).")
    String topology = "auto";

    @Option(
        names = "--max-agents",
        paramLabel = "N",
        description = "At most N members besides the supervisor (default: 8).")
    int maxAgents = 8;

    @Option(
        names = "--strategy",
        paramLabel = "S",
        description =
            "How a plan's member becomes an agent: capability (default: one offering the name the"
                + " plan gives), sticky (one agent per name), round-robin or least-loaded (the plan"
                + " only says what, the strategy picks who).")
    String strategy = "capability";

    @Mixin BudgetOptions spending = new BudgetOptions();

    @Option(
        names = "--max-turns",
        paramLabel = "N",
        description = "At most N supervisor answers (default: 10).")
    int maxTurns = 10;

    @Option(
        names = "--supervisor",
        paramLabel = "AGENT",
        description =
            "The planning agent (default: the one whose type is coordinator or supervisor).")
    String supervisor;

    @Mixin AgentPathOptions agentPaths = new AgentPathOptions();

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        description = "Wall-time limit for the whole run (default: 10m).")
    Duration timeout = Duration.ofMinutes(10);

    @Mixin HookOptions hooks = new HookOptions();

    @Mixin ModelOptions models = new ModelOptions();

    @Option(names = "--json", description = "Print the outcome as one JSON object.")
    boolean json;

    /** The options a durable run keeps, restored by {@code --resume}. */
    private Properties saved() {
      Properties p = new Properties();
      p.setProperty("objective", objective);
      p.setProperty("topology", topology);
      p.setProperty("maxAgents", Integer.toString(maxAgents));
      p.setProperty("strategy", strategy);
      if (spending.usd != null) {
        p.setProperty("budgetUsd", spending.usd.toPlainString());
      }
      p.setProperty("maxTurns", Integer.toString(maxTurns));
      if (supervisor != null) {
        p.setProperty("supervisor", supervisor);
      }
      p.setProperty("timeout", timeout.toString());
      if (agentPaths.agents != null) {
        p.setProperty(
            "agents",
            String.join(
                java.io.File.pathSeparator,
                agentPaths.agents.stream()
                    .map(a -> a.toAbsolutePath().normalize().toString())
                    .toList()));
      }
      return p;
    }

    private void restore(Properties p) {
      objective = p.getProperty("objective");
      topology = p.getProperty("topology", "auto");
      maxAgents = Integer.parseInt(p.getProperty("maxAgents", "8"));
      strategy = p.getProperty("strategy", "capability");
      spending.usd = p.containsKey("budgetUsd") ? new BigDecimal(p.getProperty("budgetUsd")) : null;
      maxTurns = Integer.parseInt(p.getProperty("maxTurns", "10"));
      supervisor = p.getProperty("supervisor");
      timeout = Duration.parse(p.getProperty("timeout", "PT10M"));
      String a = p.getProperty("agents", "");
      agentPaths.agents =
          a.isEmpty()
              ? null
              : java.util.Arrays.stream(a.split(java.io.File.pathSeparator)).map(Path::of).toList();
    }

    /** Where durable run {@code runId} keeps its options and status: beside the call log. */
    private Path runFolder(String runId) {
      Path log = calls.toAbsolutePath();
      Path parent = log.getParent();
      return (parent != null ? parent : log).resolve("swarms").resolve(runId);
    }

    private static Properties load(Path file) throws IOException {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      }
      return p;
    }

    private static void store(Path file, Properties p) throws IOException {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(w, "cfn swarm run: a durable run (its answers are in the call log)");
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public Integer call() throws Exception {
      String runId = null;
      Path runFile = null;
      if (resume != null) {
        if (objective != null || id != null) {
          throw CommandFailure.usage(
              "--resume goes on with a run as it was started; it takes no OBJECTIVE or --id",
              "cfn swarm run --resume " + resume);
        }
        runId = LoopCommand.checkRunId(resume);
        runFile = runFolder(runId).resolve("run.properties");
        if (!Files.isRegularFile(runFile)) {
          throw CommandFailure.failed(
              "no durable swarm run '" + runId + "' in " + runFolder(runId).getParent(),
              "start one with cfn swarm run OBJECTIVE --id "
                  + runId
                  + " (--calls FILE for another"
                  + " call log)");
        }
        Properties p = load(runFile);
        if ("FINISHED".equals(p.getProperty("status"))) {
          throw CommandFailure.usage(
              "swarm run " + runId + " has finished", "start a new one with another --id");
        }
        restore(p);
      } else if (id != null) {
        runId = LoopCommand.checkRunId(id);
        runFile = runFolder(runId).resolve("run.properties");
        if (Files.exists(runFile)) {
          throw CommandFailure.usage(
              "swarm run " + runId + " exists already",
              "cfn swarm run --resume " + runId + " goes on with it, or give another --id");
        }
      }
      if (runId != null && Files.isDirectory(calls)) {
        throw CommandFailure.usage(
            "--calls " + calls + " is a folder, not a call log",
            "give the file, e.g. --calls " + calls.resolve("calls.db"));
      }
      if (objective == null || objective.isBlank()) {
        throw CommandFailure.usage(
            "the OBJECTIVE is blank", "say what the swarm should do, in quotes");
      }
      Topology top;
      try {
        top = Topology.parse(topology);
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage(e.getMessage(), "such as --topology mesh");
      }
      Strategy how = Strategy.parse(strategy);
      ValueConverters.atLeast("--max-agents", maxAgents, 1);
      ValueConverters.atLeast("--max-turns", maxTurns, 1);
      if (maxTurns > 1000) {
        throw CommandFailure.usage(
            "--max-turns must be at most 1000, was " + maxTurns, "such as --max-turns 20");
      }
      ValueConverters.positive("--timeout", timeout);
      spending.validate();
      models.validate();
      List<Path> paths = agentPaths.paths("cfn swarm run");
      LoadResult loaded = DefinitionLoader.load(paths);
      List<AgentDefinition> all =
          loaded.definitions().stream()
              .sorted(Comparator.comparing(AgentDefinition::name))
              .toList();
      AgentDefinition planner = pickSupervisor(all, paths);
      List<AgentDefinition> members =
          all.stream().filter(d -> d != planner).limit(maxAgents).toList();
      if (members.isEmpty()) {
        throw CommandFailure.usage(
            "the swarm has no member besides the supervisor " + planner.name(),
            "add agent files for the members to " + paths.getFirst());
      }
      List<AgentDefinition> working = new ArrayList<>(members);
      working.add(planner);
      models.requirePrices(spending.usd, working, "cfn swarm run");
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Hooks projectHooks = hooks.load(models.project, "cfn swarm run", err);
      Progress progress = new Progress(err, json);
      int skipped = all.size() - 1 - members.size();
      if (skipped > 0) {
        progress.event(
            "cfn swarm run: --max-agents "
                + maxAgents
                + " leaves out "
                + AgentCommand.plural(skipped, "agent"));
      }
      Budget.Builder limits =
          Budget.builder("cfn swarm run").maxWallTime(timeout).prices(models.prices());
      if (spending.usd != null) {
        limits.maxCostUsd(spending.usd);
      }
      Budget budget = limits.build();
      SupervisorOutcome outcome;
      SwarmStatus status;
      SqliteCallLogStore callLog = null;
      SqliteJournal ledger = null;
      if (runId != null) {
        Files.createDirectories(runFolder(runId));
        Properties p = saved();
        p.setProperty("status", "RUNNING");
        store(runFile, p);
        Path folder = calls.toAbsolutePath().getParent();
        if (folder != null) {
          Files.createDirectories(folder);
        }
        callLog = SqliteCallLogStore.open(calls.toAbsolutePath());
        // the swarm's spend and refusals, kept across --resume so that its budget holds
        ledger = SqliteJournal.builder(runFolder(runId).resolve("ledger.db")).open();
        progress.event(
            "cfn swarm run: "
                + (resume != null ? "resuming durable run " : "durable run ")
                + runId
                + ", its calls recorded in "
                + calls);
      }
      AgentRuntime.Builder runtime = AgentRuntime.builder().jvmMetrics(false);
      if (ledger != null) {
        runtime.journal(ledger);
      }
      try (SqliteJournal kept = ledger;
          SqliteCallLogStore recorded = callLog;
          ModelOptions.Models m = models.open(err, "cfn swarm run");
          ModelRouter router = ModelRouter.create(m.config());
          AgentRuntime rt = runtime.build();
          Swarm swarm =
              (kept == null ? Swarm.builder("cli", rt) : Swarm.builder("cli", rt).durable(kept))
                  .topology(top)
                  .budget(budget)
                  .build()) {
        ToolRegistry tools = new ToolRegistry();
        BuiltinTools.builder().messaging().registerIn(tools);
        for (AgentDefinition d : all) {
          if (d == planner || members.contains(d)) {
            LlmAgent.Builder agent =
                LlmAgent.builder(d).router(router).tools(tools).budgetPerAgent(swarm::memberBudget);
            if (recorded != null) {
              agent.callLog(CallLog.durable(recorded));
            }
            hooks.apply(agent, projectHooks);
            rt.register(agent.type(d.name()));
          }
        }
        Supervisor.Builder sup =
            Supervisor.builder(rt, swarm, AgentId.of(planner.name(), "1"))
                .maxTurns(maxTurns)
                .turnTimeout(timeout)
                .assignment(how.assignment());
        for (AgentDefinition d : members) {
          List<String> caps = new ArrayList<>(d.capabilities());
          caps.add(d.name());
          swarm.join(AgentId.of(d.name(), "1"), d.type(), caps);
          sup.member(d.name(), d.description());
        }
        progress.event(
            "cfn swarm run: "
                + planner.name()
                + " supervises "
                + members.stream().map(AgentDefinition::name).toList()
                + ", topology "
                + swarm.status().effective().name().toLowerCase(Locale.ROOT)
                + ", strategy "
                + how.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        sup.listener(s -> progress.event(describe(s)));
        outcome = sup.build().run(runId, objective);
        status = swarm.status();
      } finally {
        progress.done();
      }
      if (runId != null) {
        Properties p = saved();
        p.setProperty("status", outcome.status().name());
        p.setProperty("turns", Integer.toString(outcome.turns()));
        store(runFile, p);
      }
      Budget.Spent spent = status.spent();
      if (json) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", outcome.status().name());
        r.put("run", runId);
        r.put("answer", outcome.answer());
        r.put("reason", outcome.reason());
        r.put("supervisor", planner.name());
        r.put("members", members.stream().map(AgentDefinition::name).toList());
        r.put("topology", status.effective().name().toLowerCase(Locale.ROOT));
        r.put("refusedByTopology", status.refused());
        r.put("turns", outcome.turns());
        r.put("invalidPlans", outcome.invalidPlans());
        List<Map<String, Object>> steps = new ArrayList<>();
        for (SupervisorStep s : outcome.steps()) {
          Map<String, Object> sm = new LinkedHashMap<>();
          sm.put("turn", s.turn());
          sm.put("kind", s.kind().name());
          sm.put("member", s.member());
          sm.put("agent", s.agent());
          sm.put("input", s.input());
          sm.put("output", s.output());
          sm.put("ok", s.ok());
          steps.add(sm);
        }
        r.put("steps", steps);
        r.put("modelCalls", spent.calls());
        r.put("tokens", spent.totalTokens());
        r.put("costUsd", spent.costUsd());
        out.println(AgentCommand.json(r));
      } else {
        if (outcome.answer() != null) {
          out.println(outcome.answer());
        } else {
          err.println("cfn swarm run: " + outcome.status() + ": " + outcome.reason());
          if (runId != null) {
            err.println(
                "cfn swarm run: durable run "
                    + runId
                    + " is kept; cfn swarm run --resume "
                    + runId
                    + " goes on with it, its recorded answers from the call log");
          }
        }
        err.printf(
            Locale.ROOT,
            "%s after %d turns (%d invalid plans); %d members, topology %s, %d messages refused by"
                + " the topology; %d model calls, %d tokens, $%s%n",
            outcome.status(),
            outcome.turns(),
            outcome.invalidPlans(),
            members.size(),
            status.effective().name().toLowerCase(Locale.ROOT),
            status.refused(),
            spent.calls(),
            spent.totalTokens(),
            spent.costUsd().toPlainString());
      }
      out.flush();
      err.flush();
      return outcome.status() == SupervisorOutcome.Status.FINISHED ? ExitCode.OK : ExitCode.FAILED;
    }

    private AgentDefinition pickSupervisor(List<AgentDefinition> all, List<Path> paths) {
      if (supervisor != null) {
        return all.stream()
            .filter(d -> d.name().equals(supervisor))
            .findFirst()
            .orElseThrow(
                () ->
                    CommandFailure.usage(
                        "no valid agent named '"
                            + supervisor
                            + "' for --supervisor; the agents there: "
                            + names(all),
                        "check the name; cfn agent validate shows what is wrong with a file"));
      }
      List<AgentDefinition> able =
          all.stream()
              .filter(
                  d ->
                      d.type() != null
                          && (d.type().equalsIgnoreCase("coordinator")
                              || d.type().equalsIgnoreCase("supervisor")))
              .toList();
      if (able.size() != 1) {
        throw CommandFailure.usage(
            (able.isEmpty()
                    ? "no agent in " + paths.getFirst() + " has type coordinator or supervisor"
                    : "several agents could supervise: " + names(able))
                + "; the agents there: "
                + names(all),
            "name the planner with --supervisor AGENT, or give one agent 'type: coordinator'");
      }
      return able.getFirst();
    }

    private static String names(List<AgentDefinition> defs) {
      return defs.isEmpty()
          ? "none"
          : String.join(", ", defs.stream().map(AgentDefinition::name).toList());
    }

    static String describe(SupervisorStep s) {
      return switch (s.kind()) {
        case DELEGATED ->
            "  turn "
                + s.turn()
                + ": "
                + s.member()
                + (s.agent() == null ? "" : " (" + s.agent() + ")")
                + " <- "
                + DlqCommand.oneLine(s.input(), 60)
                + (s.ok()
                    ? "  -> " + DlqCommand.oneLine(s.output(), 60)
                    : "  -> failed: " + DlqCommand.oneLine(s.output(), 80));
        case INVALID_PLAN ->
            "  turn "
                + s.turn()
                + ": invalid plan, fed back: "
                + DlqCommand.oneLine(s.output(), 90);
        case FINISHED -> "  turn " + s.turn() + ": finished";
      };
    }
  }
}
