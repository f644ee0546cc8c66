package dev.cfn.cli;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.spi.JournalException;
import dev.cfn.flow.graph.FlowEvent;
import dev.cfn.flow.graph.GraphRun;
import dev.cfn.flow.graph.GraphRunner;
import dev.cfn.flow.graph.RunOutcome;
import dev.cfn.flow.graph.RunView;
import dev.cfn.flow.spec.GraphFile;
import dev.cfn.flow.spec.GraphFileException;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.SqliteJournal;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn task submit|resume|status|cancel}: durable task graphs on the embedded store, without
 * a server.
 *
 * <ul>
 *   <li>{@code submit GRAPH_FILE} checks the file and the agent definitions (a cycle, an unknown
 *       dependency, agent or capability is refused before anything runs), then runs the graph in
 *       the foreground, RELIABLE, on the journal ({@code .cfn/cfn.db}): every step is journaled,
 *       model calls go through the call log ({@code .cfn/calls.db}). Exit 0 when it succeeded, 1
 *       when it failed or was cancelled.
 *   <li>{@code resume RUN} continues a run whose process was stopped or killed: no finished task
 *       runs again, no recorded model call is made again. Submitting the same file under the same
 *       {@code --run} does the same.
 *   <li>{@code status RUN} reads the journal read-only, also while a process runs the graph.
 *   <li>{@code cancel RUN} or {@code RUN/TASK} records a durable request ({@link RunFiles}) that
 *       the running process honours within a second, or the next {@code resume} at its start.
 * </ul>
 *
 * <p>A graph file naming a swarm ({@code swarm:}, see {@link GraphFile}) runs its tasks through a
 * durable swarm of that name on the same journal: its members are the definitions offering the
 * capabilities the tasks name, each attempt goes to the member the file's strategy picks, and
 * {@code --budget-usd} and {@code --max-calls} limit the swarm's one budget, which counts what the
 * swarm spent before (its ledger, also in earlier processes and runs naming it); a task finding it
 * used up fails with {@code BUDGET_EXHAUSTED}.
 *
 * <p>A run's limits ({@code --budget-usd}, {@code --max-calls}) are kept with it when it is
 * submitted ({@link RunFiles}): {@code resume} (and submitting the same file under the same {@code
 * --run}) applies them without the flags, and refuses a flag giving another value, before anything
 * runs. A run submitted by an earlier version, without kept limits, takes the flags of its next
 * process and keeps them.
 *
 * <p>The journal is held by one process at a time: while a graph runs, another {@code submit} or
 * {@code resume} on the same journal is refused (status and cancel work).
 *
 * <p>With {@code --server URL} ({@link ServerOptions}) each subcommand acts on a running node
 * instead ({@code /v1/graphs}): the node runs the graph on its own journal and agents, {@code
 * submit} and {@code resume} follow the run until it ends (or {@code --timeout}), with the same
 * exit codes; the options naming local files are refused.
 */
@Command(
    name = "task",
    mixinStandardHelpOptions = true,
    description = {
      "Runs durable task graphs (YAML or JSON files) on the embedded journal, or on a running"
          + " node with --server URL.",
      "submit runs a graph in the foreground; resume continues an interrupted run; status and"
          + " cancel work while it runs."
    },
    subcommands = {
      TaskCommand.Submit.class,
      TaskCommand.Resume.class,
      TaskCommand.Status.class,
      TaskCommand.Cancel.class
    })
final class TaskCommand extends CommandGroup {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
  private static final java.security.SecureRandom SUFFIX = new java.security.SecureRandom();

  /** What submit and resume share: the agents, the providers, the journal, the limits. */
  static final class Running {
    @Option(
        names = "--agents",
        paramLabel = "PATH",
        description = "Agent files or folders, repeatable (default: .claude/agents).")
    List<Path> agents;

    @Mixin ModelOptions models = new ModelOptions();

    @Mixin HookOptions hooks = new HookOptions();

    @Mixin StoreOptions store = new StoreOptions();

    @Mixin BudgetOptions spending = new BudgetOptions();

    @Option(
        names = "--max-calls",
        paramLabel = "N",
        description =
            "At most N model calls in each process of the run; for a graph naming a swarm, for the"
                + " swarm (its spend is kept in the journal across processes). Kept with the run"
                + " with --budget-usd: resume applies them and refuses other values.")
    Long maxCalls;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        description =
            "Stop waiting after this long (default: 1h); the run stays in the journal and"
                + " cfn task resume continues it.")
    Duration timeout = Duration.ofHours(1);

    @Option(names = "--json", description = "Print the outcome as one JSON object.")
    boolean json;

    void validate() {
      models.validate();
      hooks.load(models.project, "cfn task", null); // a malformed hooks file: refused here
      ValueConverters.positive("--timeout", timeout);
      spending.validate();
      if (maxCalls != null) {
        ValueConverters.atLeast("--max-calls", maxCalls, 1);
      }
      if (Files.isDirectory(store.db)) {
        throw CommandFailure.usage(
            "--journal " + store.db + " is a folder, not a journal file",
            "give the file, e.g. --journal " + store.db.resolve("cfn.db"));
      }
    }

    /**
     * Takes the limits kept with {@code run} ({@code --budget-usd}, {@code --max-calls}, as it was
     * submitted) in place of the flags, so every process of a run spends under the same limits; a
     * flag giving another value than the kept one is refused before anything runs. A run without
     * kept limits (new, or submitted by an earlier version) takes the flags, kept by {@link
     * #keepLimits}. Returns the limits kept with the run, empty when there are none yet.
     */
    Optional<RunFiles.Limits> limitsOf(RunFiles run, String command) {
      Optional<RunFiles.Limits> kept = run.exists() ? run.limits() : Optional.empty();
      if (kept.isEmpty()) {
        return kept;
      }
      RunFiles.Limits k = kept.get();
      boolean usdDiffers =
          spending.usd != null && (k.usd() == null || k.usd().compareTo(spending.usd) != 0);
      boolean callsDiffer = maxCalls != null && !maxCalls.equals(k.maxCalls());
      if (usdDiffers || callsDiffer) {
        RunFiles.Limits given = new RunFiles.Limits(spending.usd, maxCalls);
        throw CommandFailure.usage(
            command
                + ": run "
                + run.runId()
                + " keeps the limits it was submitted with ("
                + k.flags()
                + "); this command gave "
                + given.flags(),
            "drop the flag (the run's own limits apply), or submit the graph under a new --run"
                + " for other limits");
      }
      spending.usd = k.usd();
      maxCalls = k.maxCalls();
      return kept;
    }

    /** Keeps the limits in force with {@code run} when it has none kept yet. */
    void keepLimits(RunFiles run, Optional<RunFiles.Limits> kept) throws IOException {
      if (kept.isEmpty()) {
        run.keepLimits(new RunFiles.Limits(spending.usd, maxCalls));
      }
    }

    /**
     * The definitions, bound to {@code file}: unknown agents and capabilities refused here, and,
     * with {@code --budget-usd}, an agent whose model has no price.
     */
    GraphFile.Bound bind(GraphFile file, String boundName, List<Path> paths, String command) {
      LoadResult loaded = DefinitionLoader.load(paths);
      try {
        GraphFile.Bound bound = file.bind(loaded.definitions(), boundName);
        models.requirePrices(
            spending.usd,
            bound.definitions().stream().map(n -> loaded.find(n).orElseThrow()).toList(),
            command);
        return bound;
      } catch (GraphFileException e) {
        String unread =
            loaded.invalidFiles().isEmpty()
                ? ""
                : "; "
                    + AgentCommand.plural(loaded.invalidFiles().size(), "agent file")
                    + " could not be read";
        throw fileProblems(e, unread, "cfn agent list shows the agents and their capabilities");
      }
    }

    /**
     * Runs (or resumes) {@code run} in the foreground and prints its outcome. {@code start} holds
     * the initial state when the run is to be started if it is not in the journal yet.
     */
    int run(
        CommandSpec spec,
        RunFiles run,
        GraphFile file,
        GraphFile.Bound bound,
        Map<String, String> start)
        throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      String command = "cfn task " + spec.name();
      Hooks projectHooks = hooks.load(models.project, command, err);
      Budget.Builder limits = Budget.builder(command + " " + run.runId()).prices(models.prices());
      if (spending.usd != null) {
        limits.maxCostUsd(spending.usd);
      }
      if (maxCalls != null) {
        limits.maxCalls(maxCalls);
      }
      Budget budget = limits.build();
      GraphFile.SwarmSpec swarmSpec = file.swarm().orElse(null);
      Budget.Spent[] before = {budget.spent()}; // a swarm's: what its ledger restored
      Map<String, String> assigned = new ConcurrentHashMap<>(); // a swarm's picks, by task
      Progress progress = new Progress(err, json);
      Path db = store.db.toAbsolutePath();
      Path folder = db.getParent();
      if (folder != null) {
        Files.createDirectories(folder);
      }
      List<Class<?>> types = new ArrayList<>(GraphRunner.journalPayloadTypes());
      types.addAll(List.of(Task.class, TaskResult.class, TaskFailed.class));
      RunOutcome outcome = null;
      try (ModelOptions.Models m = models.open(err, command);
          ModelRouter router = ModelRouter.create(m.config());
          SqliteJournal journal = openJournal(db, types);
          SqliteCallLogStore calls = SqliteCallLogStore.open(db.resolveSibling("calls.db"));
          AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).journal(journal).build();
          // durable on the run's journal: its ledger keeps what the members spent across resumes
          Swarm swarm =
              swarmSpec == null
                  ? null
                  : Swarm.builder(swarmSpec.name(), rt)
                      .topology(swarmSpec.topology())
                      .budget(budget)
                      .durable(journal)
                      .build()) {
        before[0] = budget.spent();
        LoadResult loaded = DefinitionLoader.load(paths(run));
        for (String name : bound.definitions()) {
          AgentDefinition d = loaded.find(name).orElseThrow();
          LlmAgent.Builder agent =
              LlmAgent.builder(d)
                  .router(router)
                  .tools(new ToolRegistry())
                  .callLog(CallLog.durable(calls));
          if (swarm != null) {
            agent.budgetPerAgent(swarm::memberBudget); // every call charged to the swarm's budget
          } else {
            agent.budget(budget);
          }
          hooks.apply(agent, projectHooks);
          rt.register(agent.type(d.name()));
        }
        if (swarm != null) {
          for (String name : bound.members()) {
            swarm.join(AgentId.of(name, "1"), loaded.find(name).orElseThrow());
          }
        }
        Map<String, String> taskStatus = new ConcurrentHashMap<>();
        for (String t : file.taskIds()) {
          taskStatus.put(t, "pending");
        }
        rt.register(
            AgentType.of(
                "cfn-cli-progress",
                id ->
                    (msg, ctx) -> {
                      if (msg.payload() instanceof FlowEvent e && e.task() != null) {
                        String t = e.transition().name().toLowerCase(Locale.ROOT);
                        if (swarmSpec != null
                            && e.agent() != null
                            && e.transition().name().equals("ASSIGNED")) {
                          assigned.put(e.task(), e.agent());
                        }
                        taskStatus.put(e.task(), t);
                        if (e.transition().name().equals("SUCCEEDED")
                            || e.transition().name().equals("FAILED")
                            || e.transition().name().equals("RETRIED")
                            || e.transition().name().equals("CANCELLED")) {
                          progress.event(
                              "  task "
                                  + e.task()
                                  + " "
                                  + t
                                  + (e.detail() == null
                                      ? ""
                                      : ": " + DlqCommand.oneLine(e.detail(), 100)));
                        }
                        progress.status(line(run.runId(), taskStatus));
                      }
                    }));
        rt.subscribe("cfn.flow.#", AgentId.of("cfn-cli-progress", "1"));
        GraphRunner.Builder runnerBuilder = GraphRunner.builder(rt).reliable().graph(bound.graph());
        if (swarm != null) {
          runnerBuilder.swarm(swarm, swarmSpec.assignment());
        }
        try (GraphRunner runner = runnerBuilder.build()) {
          if (swarm != null) {
            Budget.Spent was = before[0];
            progress.event(
                command
                    + ": through swarm "
                    + swarm.name()
                    + " ("
                    + String.join(", ", bound.members())
                    + "; strategy "
                    + swarmSpec.strategy()
                    + ", topology "
                    + swarm.status().effective().name().toLowerCase(Locale.ROOT)
                    + "), its budget "
                    + (was.calls() == 0
                        ? "unused so far"
                        : "at "
                            + AgentCommand.plural((int) was.calls(), "model call")
                            + ", $"
                            + was.costUsd().toPlainString()
                            + " from before"));
          }
          boolean started = journal.state("cfn-flow-run/" + run.runId(), "graph").isPresent();
          GraphRun handle;
          if (started) {
            progress.event(
                command
                    + ": resuming run "
                    + run.runId()
                    + " under its limits ("
                    + new RunFiles.Limits(spending.usd, maxCalls).flags()
                    + ")");
            handle = runner.resume(run.runId());
          } else {
            progress.event(
                command
                    + ": run "
                    + run.runId()
                    + " of graph "
                    + file.name()
                    + " ("
                    + AgentCommand.plural(file.taskIds().size(), "task")
                    + ") on "
                    + store.db);
            handle = runner.start(bound.graph().name(), run.runId(), start);
          }
          Set<String> honoured = new HashSet<>();
          long end = System.nanoTime() + timeout.toNanos();
          while (outcome == null) {
            for (String c : run.cancelRequests()) {
              if (honoured.add(c)) {
                progress.event("  cancel requested for " + (c.isEmpty() ? "the run" : "task " + c));
                if (c.isEmpty()) {
                  handle.cancel();
                } else {
                  handle.cancel(c);
                }
              }
            }
            try {
              outcome = handle.outcome().get(250, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
              if (System.nanoTime() > end) {
                break;
              }
            } catch (ExecutionException e) {
              throw CommandFailure.failed(
                  "the run failed: " + e.getCause(), "--debug shows the agents' logs");
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              break;
            }
          }
        }
      } finally {
        progress.done();
        run.addSpent(since(budget.spent(), before[0]));
      }
      try (JournalReader reader = SqliteJournal.openReadOnly(db)) {
        RunView view = RunView.read(reader::stateByPrefix, run.runId(), file.taskIds());
        Budget.Spent spent = since(budget.spent(), before[0]);
        Map<String, String> agents = swarmSpec == null ? bound.agents() : assigned;
        if (json) {
          Map<String, Object> r = view.json();
          r.put("graph", file.name());
          r.put("agents", agents);
          r.put("modelCalls", spent.calls());
          r.put("tokens", spent.totalTokens());
          r.put("costUsd", spent.costUsd());
          Map<String, Object> lim = new LinkedHashMap<>();
          lim.put("budgetUsd", spending.usd);
          lim.put("maxCalls", maxCalls);
          r.put("limits", lim);
          if (swarmSpec != null) {
            Budget.Spent total = budget.spent();
            Map<String, Object> sw = new LinkedHashMap<>();
            sw.put("name", swarmSpec.name());
            sw.put("strategy", swarmSpec.strategy());
            sw.put("members", List.copyOf(bound.members()));
            sw.put("modelCalls", total.calls());
            sw.put("tokens", total.totalTokens());
            sw.put("costUsd", total.costUsd());
            r.put("swarm", sw);
          }
          out.println(AgentCommand.json(r));
        } else {
          printView(out, view, agents);
          out.printf(
              Locale.ROOT,
              "%d model calls, %d tokens, $%s in this process%n",
              spent.calls(),
              spent.totalTokens(),
              spent.costUsd().toPlainString());
          if (swarmSpec != null) {
            Budget.Spent total = budget.spent();
            out.printf(
                Locale.ROOT,
                "swarm %s: %d model calls, %d tokens, $%s in all (its ledger, across processes)%n",
                swarmSpec.name(),
                total.calls(),
                total.totalTokens(),
                total.costUsd().toPlainString());
          }
          if (outcome == null) {
            out.println(
                "still running after --timeout "
                    + timeout
                    + "; the run is kept: cfn task resume "
                    + run.runId()
                    + " continues it");
          }
        }
        out.flush();
        return view.status().equals("SUCCEEDED") ? ExitCode.OK : ExitCode.FAILED;
      }
    }

    /** What was spent between {@code from} and {@code to} (a swarm's budget starts restored). */
    private static Budget.Spent since(Budget.Spent to, Budget.Spent from) {
      return new Budget.Spent(
          to.inputTokens() - from.inputTokens(),
          to.outputTokens() - from.outputTokens(),
          to.cachedTokens() - from.cachedTokens(),
          to.costUsd().subtract(from.costUsd()),
          to.calls() - from.calls(),
          to.elapsed());
    }

    private List<Path> paths(RunFiles run) {
      String saved = run.properties().getProperty("agents", "");
      if (agents != null && !agents.isEmpty()) {
        return agents;
      }
      if (!saved.isEmpty()) {
        return java.util.Arrays.stream(saved.split(java.io.File.pathSeparator))
            .map(Path::of)
            .toList();
      }
      return AgentCommand.pathsOrDefault(null, "cfn task submit");
    }

    private static SqliteJournal openJournal(Path db, List<Class<?>> types) {
      try {
        return SqliteJournal.builder(db).payloadType(types.toArray(new Class<?>[0])).open();
      } catch (JournalException e) {
        throw CommandFailure.failed(
            ErrorReport.oneLine(e.getMessage()),
            "wait for the other cfn task to finish (cfn task status RUN works meanwhile), or use"
                + " another --journal");
      }
    }
  }

  /**
   * A graph file's problems as bad usage, on one line. Each problem carries its own "(fix: ...)",
   * so {@code fix} is added only when one of them has none: never two fixes for one problem.
   */
  static CommandFailure fileProblems(GraphFileException e, String more, String fix) {
    boolean everyOneFixed = e.problems().stream().allMatch(p -> p.contains("(fix: "));
    return CommandFailure.usage(
        String.join("; ", e.problems()) + more, everyOneFixed && more.isEmpty() ? null : fix);
  }

  static String line(String runId, Map<String, String> statuses) {
    Map<String, Integer> counts = new java.util.TreeMap<>();
    statuses.values().forEach(s -> counts.merge(s, 1, Integer::sum));
    StringBuilder b = new StringBuilder("run " + runId + ":");
    counts.forEach((s, n) -> b.append(' ').append(n).append(' ').append(s));
    return b.toString();
  }

  static void printView(PrintWriter out, RunView view, Map<String, String> agents) {
    out.println(
        "run "
            + view.runId()
            + ": "
            + view.status()
            + (view.cancelled() == null ? "" : " (" + view.cancelled() + ")"));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"TASK", "STATUS", "AGENT", "ITER", "ATTEMPTS", "RESULT OR ERROR"});
    for (RunView.Task t : view.tasks()) {
      String text = t.error() != null && !t.status().equals("SUCCEEDED") ? t.error() : t.result();
      rows.add(
          new String[] {
            t.id(),
            t.status(),
            agents.getOrDefault(t.id(), "-"),
            Integer.toString(t.iteration()),
            Integer.toString(t.attempts()),
            text == null ? "" : DlqCommand.oneLine(text, 70)
          });
    }
    Table.print(out, rows);
    // the result of the last task that succeeded, in full: usually what the graph is for
    for (int i = view.tasks().size() - 1; i >= 0; i--) {
      RunView.Task t = view.tasks().get(i);
      if (t.status().equals("SUCCEEDED") && t.result() != null) {
        out.println();
        out.println("result of " + t.id() + ":");
        out.println(t.result());
        break;
      }
    }
  }

  /** The graph's name as the runner knows it: the file's name and a digest of its text. */
  static String boundName(String name, String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      String head = name.length() > 55 ? name.substring(0, 55) : name;
      return head + "-" + HexFormat.of().formatHex(d, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Command(
      name = "submit",
      mixinStandardHelpOptions = true,
      description = {
        "Checks a graph file and runs it in the foreground, RELIABLE, on the journal.",
        "Refused before anything runs: a cycle, an unknown dependency, agent or capability, a"
            + " missing definition. The same file under the same --run resumes the run."
      })
  static final class Submit implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "GRAPH_FILE", description = "The graph (YAML or JSON).")
    Path graphFile;

    @Option(
        names = "--run",
        paramLabel = "ID",
        description = "The run's id (default: the graph's name and the time).")
    String runId;

    @Option(
        names = "--state",
        paramLabel = "KEY=VALUE",
        description = "Initial state, repeatable; added to (and over) the file's state:.")
    Map<String, String> state = new LinkedHashMap<>();

    @Mixin Running running = new Running();

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws Exception {
      PathChecks.existingFile("GRAPH_FILE", graphFile, "graph file");
      if (server.remote()) {
        return remoteSubmit();
      }
      running.validate();
      if (runId != null) {
        RunFiles.checkRunId(runId);
      }
      checkStateKeys(state);
      GraphFile file;
      try {
        file = GraphFile.read(graphFile);
      } catch (GraphFileException e) {
        throw fileProblems(e, "", "correct the file; every problem is listed");
      }
      String text = Files.readString(graphFile, StandardCharsets.UTF_8);
      List<Path> paths = AgentCommand.pathsOrDefault(running.agents, "cfn task submit");
      String bound = boundName(file.name(), text);
      String id =
          runId != null
              ? runId
              : file.name()
                  + "-"
                  + LocalDateTime.now(ZoneOffset.UTC).format(STAMP)
                  + "-"
                  + Integer.toHexString(SUFFIX.nextInt(0x1000, 0x10000));
      RunFiles run = RunFiles.of(running.store.db, id);
      if (run.exists()) {
        String before = run.properties().getProperty("bound", "");
        if (!before.equals(bound)) {
          throw CommandFailure.usage(
              "run " + id + " exists for another graph (or another version of this file)",
              "give a new --run, or cfn task resume " + id + " to continue that one");
        }
      }
      Optional<RunFiles.Limits> kept = running.limitsOf(run, "cfn task submit");
      GraphFile.Bound b = running.bind(file, bound, paths, "cfn task submit");
      if (!run.exists()) {
        run.create(text, file.name(), bound, paths);
      }
      running.keepLimits(run, kept);
      Map<String, String> initial = new LinkedHashMap<>(file.state());
      initial.putAll(state);
      return running.run(spec, run, file, b, initial);
    }

    /** Checks the file here (every problem with its line), then the node runs it; follows it. */
    private int remoteSubmit() throws IOException {
      NodeClient node = server.connect(LOCAL_RUNNING);
      ValueConverters.positive("--timeout", running.timeout);
      if (runId != null) {
        RunFiles.checkRunId(runId);
      }
      checkStateKeys(state);
      try {
        GraphFile.read(graphFile);
      } catch (GraphFileException e) {
        throw fileProblems(e, "", "correct the file; every problem is listed");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("graph", Files.readString(graphFile, StandardCharsets.UTF_8));
      if (runId != null) {
        body.put("run", runId);
      }
      body.put("state", state);
      com.fasterxml.jackson.databind.JsonNode r =
          node.call("POST", "/v1/graphs", body).orElseThrow();
      String id = r.path("run").asText();
      Progress progress = new Progress(spec.commandLine().getErr(), running.json);
      progress.event(
          "cfn task submit: run "
              + id
              + " of graph "
              + r.path("graph").asText()
              + " on "
              + node.base());
      return follow(spec, node, id, running.timeout, running.json, progress);
    }
  }

  /** The options of submit and resume that name local files, refused with {@code --server}. */
  static final String[] LOCAL_RUNNING = {
    "--agents",
    "--project",
    "--replay",
    "--trust-providers",
    "--prices",
    "--trust-hooks",
    "--budget-usd",
    "--max-calls",
    "--journal",
    "--db"
  };

  static void checkStateKeys(Map<String, String> state) {
    for (String k : state.keySet()) {
      if (k.isBlank() || k.contains("\n") || k.length() > 200) {
        throw CommandFailure.usage(
            "--state key '" + k + "' must be 1 to 200 characters on one line",
            "such as --state topic=queues");
      }
    }
  }

  /**
   * Polls run {@code id} on the node until it ends or {@code timeout} passes, then prints it as the
   * local submit does: exit 0 when it succeeded, 1 otherwise.
   */
  static int follow(
      CommandSpec spec,
      NodeClient node,
      String id,
      Duration timeout,
      boolean json,
      Progress progress) {
    long end = System.nanoTime() + timeout.toNanos();
    com.fasterxml.jackson.databind.JsonNode run;
    try {
      while (true) {
        run = remoteRun(node, id);
        String status = run.path("status").asText();
        if (!status.equals("RUNNING") && !status.equals(RunView.NOT_STARTED)) {
          break;
        }
        Map<String, String> statuses = new LinkedHashMap<>();
        run.path("tasks")
            .forEach(
                t ->
                    statuses.put(
                        t.path("id").asText(), t.path("status").asText().toLowerCase(Locale.ROOT)));
        progress.status(line(id, statuses));
        if (System.nanoTime() > end) {
          break;
        }
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    } finally {
      progress.done();
    }
    RunView view = RunView.of(run);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(AgentCommand.json(run));
    } else {
      printView(out, view, Map.of());
      if (!view.isFinal()) {
        out.println(
            "still running on the node after --timeout "
                + timeout
                + "; cfn task status "
                + id
                + " --server "
                + node.base()
                + " follows it");
      }
    }
    out.flush();
    return view.status().equals("SUCCEEDED") ? ExitCode.OK : ExitCode.FAILED;
  }

  static com.fasterxml.jackson.databind.JsonNode remoteRun(NodeClient node, String id) {
    return node.get("/v1/graphs/" + NodeClient.segment(id))
        .orElseThrow(
            () ->
                CommandFailure.failed(
                    "no run '" + id + "' on the node at " + node.base(),
                    "cfn status lists the runs; GET /v1/graphs lists the node's"));
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = {
        "Continues a run whose process stopped or was killed, in the foreground.",
        "Finished tasks do not run again and recorded model calls are not made again."
      })
  static final class Resume implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "The run's id (see cfn status).")
    String runId;

    @Mixin Running running = new Running();

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws Exception {
      if (server.remote()) {
        NodeClient node = server.connect(LOCAL_RUNNING);
        RunFiles.checkRunId(runId);
        ValueConverters.positive("--timeout", running.timeout);
        remoteRun(node, runId);
        node.call("POST", "/v1/graphs/" + NodeClient.segment(runId) + "/resume", null);
        Progress progress = new Progress(spec.commandLine().getErr(), running.json);
        progress.event("cfn task resume: run " + runId + " resumed on " + node.base());
        return follow(spec, node, runId, running.timeout, running.json, progress);
      }
      running.validate();
      RunFiles run = existingRun(running.store.db, runId);
      GraphFile file = run.graph();
      Properties p = run.properties();
      List<Path> paths =
          running.agents != null && !running.agents.isEmpty()
              ? running.agents
              : java.util.Arrays.stream(
                      p.getProperty("agents", "").split(java.io.File.pathSeparator))
                  .filter(s -> !s.isEmpty())
                  .map(Path::of)
                  .toList();
      if (paths.isEmpty()) {
        paths = AgentCommand.pathsOrDefault(null, "cfn task resume");
      }
      Optional<RunFiles.Limits> kept = running.limitsOf(run, "cfn task resume");
      GraphFile.Bound b =
          running.bind(file, p.getProperty("bound", file.name()), paths, "cfn task resume");
      running.keepLimits(run, kept);
      return running.run(spec, run, file, b, file.state());
    }
  }

  static RunFiles existingRun(Path db, String runId) {
    RunFiles run = RunFiles.of(db, runId);
    if (!run.exists()) {
      throw CommandFailure.failed(
          "no run '" + runId + "' beside " + db,
          "cfn status lists the runs (--journal FILE for another journal)");
    }
    return run;
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = {
        "Shows a run's tasks, their status and results, from the journal (read-only).",
        "Works while a process runs the graph."
      })
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "The run's id (see cfn status).")
    String runId;

    @Mixin StoreOptions store = new StoreOptions();

    @Option(names = "--json", description = "Print the run as one JSON object.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() {
      if (server.remote()) {
        NodeClient node = server.connect(DlqCommand.LOCAL_FILE);
        RunFiles.checkRunId(runId);
        com.fasterxml.jackson.databind.JsonNode r = remoteRun(node, runId);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
          out.println(AgentCommand.json(r));
        } else {
          printView(out, RunView.of(r), Map.of());
        }
        out.flush();
        return ExitCode.OK;
      }
      RunFiles run = existingRun(store.db, runId);
      GraphFile file = run.graph();
      PrintWriter out = spec.commandLine().getOut();
      RunView view;
      try (JournalReader reader = SqliteJournal.openReadOnly(store.existing())) {
        view = RunView.read(reader::stateByPrefix, runId, file.taskIds());
      }
      boolean inUse = RunFiles.journalInUse(store.db).orElse(false);
      List<String> cancels = run.cancelRequests();
      Properties p = run.properties();
      if (json) {
        Map<String, Object> r = view.json();
        r.put("graph", file.name());
        r.put("journalInUse", inUse);
        r.put("cancelRequests", cancels);
        r.put("modelCalls", RunFiles.number(p, "spent.calls"));
        r.put("tokens", RunFiles.number(p, "spent.tokens"));
        r.put("costUsd", new BigDecimal(p.getProperty("spent.costUsd", "0")));
        out.println(AgentCommand.json(r));
      } else {
        printView(out, view, Map.of());
        if (!view.isFinal()) {
          out.println(
              inUse
                  ? "a process has the journal open: the run may be under way"
                  : "no process has the journal open: cfn task resume " + runId + " continues it");
        }
        if (!cancels.isEmpty() && !view.isFinal()) {
          out.println(
              "cancel requested for: "
                  + cancels.stream().map(c -> c.isEmpty() ? "the run" : c).toList());
        }
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "cancel",
      mixinStandardHelpOptions = true,
      description = {
        "Cancels a run (RUN) or one task and its dependents (RUN/TASK).",
        "Recorded durably: the process running the run honours it within a second; a stopped run"
            + " honours it when resumed."
      })
  static final class Cancel implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN[/TASK]", description = "The run, or one task of it.")
    String target;

    @Mixin StoreOptions store = new StoreOptions();

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws IOException {
      int slash = target.indexOf('/');
      String runId = slash < 0 ? target : target.substring(0, slash);
      String task = slash < 0 ? null : target.substring(slash + 1);
      RunFiles.checkRunId(runId);
      if (server.remote()) {
        NodeClient node = server.connect(DlqCommand.LOCAL_FILE);
        if (task != null && !task.matches("[A-Za-z0-9_-]{1,64}")) {
          throw CommandFailure.usage(
              "task '" + task + "' is not a task id", "cfn task status " + runId + " lists them");
        }
        remoteRun(node, runId);
        Map<String, Object> body = new LinkedHashMap<>();
        if (task != null) {
          body.put("task", task);
        }
        node.call("POST", "/v1/graphs/" + NodeClient.segment(runId) + "/cancel", body)
            .orElseThrow(
                () ->
                    CommandFailure.failed(
                        "run " + runId + " has no task '" + task + "' on the node",
                        "cfn task status " + runId + " --server " + node.base() + " lists them"));
        PrintWriter out = spec.commandLine().getOut();
        out.println(
            "cancel of "
                + (task == null ? "run " + runId : "task " + task + " of run " + runId)
                + " sent to the node at "
                + node.base()
                + "; cfn task status "
                + runId
                + " --server "
                + node.base()
                + " shows it");
        out.flush();
        return ExitCode.OK;
      }
      RunFiles run = existingRun(store.db, runId);
      GraphFile file = run.graph();
      if (task != null && !file.taskIds().contains(task)) {
        throw CommandFailure.usage(
            "run " + runId + " has no task '" + task + "'",
            "use one of " + String.join(", ", file.taskIds()));
      }
      if (Files.isRegularFile(store.db)) {
        try (JournalReader reader = SqliteJournal.openReadOnly(store.db)) {
          RunView view = RunView.read(reader::stateByPrefix, runId, file.taskIds());
          if (view.isFinal()) {
            throw CommandFailure.failed(
                "run " + runId + " has already ended " + view.status() + "; nothing to cancel",
                "cfn task status " + runId + " shows how it ended");
          }
          if (task != null) {
            RunView.Task t =
                view.tasks().stream().filter(x -> x.id().equals(task)).findFirst().orElseThrow();
            if (t.isFinal()) {
              throw CommandFailure.failed(
                  "task " + task + " of run " + runId + " has already ended " + t.status(),
                  "cancel the whole run with cfn task cancel " + runId);
            }
          }
        }
      }
      run.requestCancel(task, "cancelled with cfn task cancel");
      boolean inUse = RunFiles.journalInUse(store.db).orElse(false);
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "cancel of "
              + (task == null ? "run " + runId : "task " + task + " of run " + runId)
              + " recorded; "
              + (inUse
                  ? "the process running it honours it within a second"
                  : "no process runs it now: it is honoured when cfn task resume "
                      + runId
                      + " starts"));
      out.flush();
      return ExitCode.OK;
    }
  }
}
