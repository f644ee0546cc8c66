package dev.cfn.bench;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.graph.FlowEvent;
import dev.cfn.flow.graph.GraphRunner;
import dev.cfn.flow.graph.RunOutcome;
import dev.cfn.flow.graph.RunStatus;
import dev.cfn.flow.graph.TaskGraph;
import dev.cfn.flow.graph.TaskSpec;
import dev.cfn.flow.graph.TaskWorker;
import dev.cfn.flow.graph.Transition;
import dev.cfn.flow.swarm.Reduce;
import dev.cfn.flow.swarm.RoundResult;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.store.journal.SqliteJournal;
import dev.langchain4j.agentic.Agent;
import dev.langchain4j.agentic.AgenticServices;
import dev.langchain4j.agentic.UntypedAgent;
import dev.langchain4j.service.V;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * {@code cfn bench flow}: what orchestration costs (issue 11, "Measured").
 *
 * <ol>
 *   <li><b>Overhead per agent step</b>, BEST_EFFORT task graphs through the bus with instant agents
 *       (a worker that returns its input): a sequence of 3, a parallel fan-out of 10, a loop of 5.
 *       One run at a time, the caller spinning on the outcome (as the bus bench's forward chain
 *       does), recorded per run as its time / its steps. Beside it in the same JVM and run,
 *       LangChain4j agentic's sequence, parallel and loop workflows of non-AI agents, timed the
 *       same way (they run synchronously in the caller's thread, the parallel one on its executor,
 *       without a bus).
 *   <li><b>Durable steps</b>: one RELIABLE graph of 10,000 instant tasks (100 chains of 100) on a
 *       SQLite journal (fsync per group commit): tasks per second and step latency (a task's QUEUED
 *       event to its SUCCEEDED event, from the events' creation stamps); run with the run
 *       coordinator's batched commits (the default) and with one commit per message, the ratio of
 *       the two taken within the run.
 *   <li><b>Coordination round</b> of 10,000 swarm members: broadcast, every reply, majority; time
 *       per round from start to the reduced result.
 * </ol>
 */
final class FlowBench {
  /** How long and how much. */
  record Settings(
      Duration warmup,
      Duration measure,
      int chains,
      int depth,
      int members,
      int roundWarmup,
      int rounds) {
    static Settings full() {
      return new Settings(Duration.ofSeconds(3), Duration.ofSeconds(10), 100, 100, 10_000, 20, 50);
    }

    static Settings quick() {
      return new Settings(Duration.ofSeconds(1), Duration.ofSeconds(2), 100, 100, 10_000, 5, 15);
    }
  }

  private final Settings s;
  private final PrintStream out;
  private final boolean overheadOnly;
  // CPU per step of each overhead scenario, "scenario system" -> {process us, all but the caller
  // us}
  private final Map<String, double[]> cpuPerStep = new LinkedHashMap<>();

  FlowBench(Settings settings, PrintStream out) {
    this(settings, out, false);
  }

  FlowBench(Settings settings, PrintStream out, boolean overheadOnly) {
    this.s = settings;
    this.out = out;
    this.overheadOnly = overheadOnly;
  }

  Map<String, Object> run() throws Exception {
    Machine machine = Machine.current();
    out.println("cfn bench flow on " + machine.describe());
    out.println(
        "(ratios are within this run; on a busy machine the absolute figures are not the"
            + " machine's)");
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("command", "cfn bench flow");
    json.put("started", Instant.now().toString());
    json.put("machine", machine.asMap());
    json.put("settings", settingsMap());

    out.println();
    out.println("1. orchestration overhead per agent step, instant agents, one run at a time");
    List<Results.Latency> steps = new ArrayList<>();
    steps.addAll(cfnSteps());
    steps.addAll(langChainSteps());
    List<Map<String, Object>> cpuJson = new ArrayList<>();
    for (Results.Latency l : steps) {
      double[] cpu = cpuPerStep.getOrDefault(l.scenario() + " " + l.system(), new double[2]);
      out.printf(
          Locale.ROOT,
          "  %-12s %-12s per step  P50 %8.2f us  P99 %9.2f us  CPU %7.2f us (%7.2f us without"
              + " the caller)  (%d runs, %.2f cores)%n",
          l.scenario(),
          l.system(),
          l.p50Us(),
          l.p99Us(),
          cpu[0],
          cpu[1],
          l.count(),
          l.processCpuCores());
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("scenario", l.scenario());
      c.put("system", l.system());
      c.put("processCpuUsPerStep", cpu[0]);
      c.put("cpuUsPerStepWithoutCaller", cpu[1]);
      cpuJson.add(c);
    }
    out.println(
        "  (CPU per step: the process's CPU time over the measured window / the steps run; cfn's"
            + " caller only spins on the outcome, so 'without the caller' is cfn's own cost, while"
            + " LangChain4j does its work on the caller's thread)");
    json.put("cpuPerStep", cpuJson);
    Map<String, Double> ratios = new LinkedHashMap<>();
    for (String scenario : List.of("sequence-3", "parallel-10", "loop-5")) {
      Results.Latency c = find(steps, scenario, "cfn");
      Results.Latency l = find(steps, scenario, "langchain4j");
      if (c != null && l != null && l.p50Us() > 0) {
        double r = Math.round(c.p50Us() / l.p50Us() * 100) / 100.0;
        ratios.put(scenario + " p50 per step cfn/langchain4j (lower is better)", r);
        out.printf(Locale.ROOT, "  %-12s P50 cfn / langchain4j = %.2fx%n", scenario, r);
      }
    }
    json.put("steps", steps);
    if (overheadOnly) {
      json.put("ratios", ratios);
      json.put("finished", Instant.now().toString());
      return json;
    }

    out.println();
    out.printf(
        Locale.ROOT,
        "2. durable steps: RELIABLE graphs of %,d instant tasks on a SQLite journal, the run"
            + " coordinator batching its commits (up to %,d messages, the default) and committing"
            + " each message alone; after one unmeasured run of each shape (the JIT's warm-up, as"
            + " section 1 has)%n",
        s.chains * s.depth,
        BATCHED);
    durable("wide", BATCHED, false);
    durable("chains", BATCHED, false);
    Map<String, Object> wideBatched = durable("wide", BATCHED);
    Map<String, Object> wideSingle = durable("wide", 1);
    Map<String, Object> chainsBatched = durable("chains", BATCHED);
    Map<String, Object> chainsSingle = durable("chains", 1);
    double wideSpeedup = ratio(wideBatched, wideSingle);
    double chainsSpeedup = ratio(chainsBatched, chainsSingle);
    ratios.put("durable wide tasks/s, coordinator batch " + BATCHED + " / batch 1", wideSpeedup);
    ratios.put(
        "durable chains tasks/s, coordinator batch " + BATCHED + " / batch 1", chainsSpeedup);
    out.printf(
        Locale.ROOT,
        "  batched / one commit per message, tasks/s: wide %.2fx, chains %.2fx%n",
        wideSpeedup,
        chainsSpeedup);
    json.put("durable", List.of(wideBatched, wideSingle, chainsBatched, chainsSingle));
    Map<String, Object> batched = wideBatched;
    out.println();
    out.printf(Locale.ROOT, "3. coordination round of %,d swarm members (majority)%n", s.members);
    Map<String, Object> round = round();
    json.put("round", round);

    List<Results.Target> targets = new ArrayList<>();
    Results.Latency seq = find(steps, "sequence-3", "cfn");
    if (seq != null) {
      targets.add(
          new Results.Target(
              "overhead per step, sequence of 3, P50",
              "<= 4 us",
              seq.p50Us(),
              "us",
              seq.p50Us() <= 4));
    }
    double tps = (double) batched.get("tasksPerSecond");
    double p99 = (double) chainsBatched.get("stepP99Ms");
    targets.add(
        new Results.Target(
            "durable tasks/s (wide graph)", ">= 20000", tps, "tasks/s", tps >= 20_000));
    targets.add(
        new Results.Target("durable step latency P99 (chains)", "<= 10 ms", p99, "ms", p99 <= 10));
    double roundP50 = (double) round.get("p50Ms");
    targets.add(
        new Results.Target(
            "round of " + s.members + " members, P50",
            "<= 100 ms",
            roundP50,
            "ms",
            roundP50 <= 100));
    out.println();
    out.println("targets (issue 11):");
    for (Results.Target t : targets) {
      out.printf(
          Locale.ROOT,
          "  %-40s %-10s %12.2f %-8s %s%n",
          t.name(),
          t.target(),
          t.measured(),
          t.unit(),
          t.met() ? "MET" : "not met");
    }
    json.put("ratios", ratios);
    json.put("targets", targets.stream().map(Results.Target::asMap).toList());
    json.put("finished", Instant.now().toString());
    return json;
  }

  private Map<String, Object> settingsMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("warmupSeconds", s.warmup.toMillis() / 1000.0);
    m.put("measureSeconds", s.measure.toMillis() / 1000.0);
    m.put("durableTasks", s.chains * s.depth);
    m.put("durableChains", s.chains);
    m.put("roundMembers", s.members);
    m.put("rounds", s.rounds);
    return m;
  }

  private static Results.Latency find(List<Results.Latency> all, String scenario, String system) {
    for (Results.Latency l : all) {
      if (l.scenario().equals(scenario) && l.system().equals(system)) {
        return l;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- 1. overhead, cfn

  private static TaskSpec instant(String id) {
    return TaskSpec.of(id).agent(AgentId.of("instant", "1")).input("x");
  }

  private List<Results.Latency> cfnSteps() throws Exception {
    TaskGraph seq =
        TaskGraph.builder("sequence-3").sequence(instant("a"), instant("b"), instant("c")).build();
    TaskGraph.Builder fan = TaskGraph.builder("parallel-10");
    for (int i = 0; i < 10; i++) {
      fan.task(TaskSpec.of("p" + i).agent(AgentId.of("instant", Integer.toString(i))).input("x"));
    }
    TaskGraph loop =
        TaskGraph.builder("loop-5")
            .loop(instant("l"), (r, st) -> st.iteration("l") >= 5, 5)
            .build();
    List<Results.Latency> out = new ArrayList<>();
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).build()) {
      rt.register(AgentType.of("instant", id -> TaskWorker.agent((in, ctx) -> in)));
      try (GraphRunner runner =
          GraphRunner.builder(rt).graph(seq).graph(fan.build()).graph(loop).build()) {
        out.add(cfnScenario(runner, "sequence-3", 3));
        out.add(cfnScenario(runner, "parallel-10", 10));
        out.add(cfnScenario(runner, "loop-5", 5));
      }
    }
    return out;
  }

  private Results.Latency cfnScenario(GraphRunner runner, String graph, int steps)
      throws Exception {
    Histogram perStep = new Histogram(60_000_000_000L, 3);
    long[] n = {0};
    long[] measuredSteps = {0};
    Map<String, String> none = Map.of();
    Cpu cpu =
        CfnScenarios.closedLoop(
            s.warmup,
            s.measure,
            measured -> {
              String id = graph + "-" + n[0]++;
              long t0 = System.nanoTime();
              CompletableFuture<RunOutcome> f = runner.start(graph, id, none).outcome();
              while (!f.isDone()) {
                Thread.onSpinWait();
              }
              long took = System.nanoTime() - t0;
              RunOutcome o = f.join();
              if (o.status() != RunStatus.SUCCEEDED) {
                throw new IllegalStateException(graph + " run " + id + " ended " + o.status());
              }
              runner.forget(id);
              if (measured) {
                perStep.recordValue(took / steps);
                measuredSteps[0] += steps;
              }
            });
    recordCpu(graph + " cfn", cpu, measuredSteps[0]);
    saturated(runner, graph, steps);
    return Results.Latency.of(
        graph, "cfn", "best-effort graph", 0, perStep, cpu.processCores(), cpu.othersCores());
  }

  /** How many runs the saturated measurement keeps under way. */
  private static final int IN_FLIGHT = 64;

  /**
   * CPU per step with {@value #IN_FLIGHT} runs under way at once: the carriers stay busy, so their
   * idle spinning, which one run at a time pays between steps, does not count; the caller polls the
   * outcomes and starts a new run for each one that ended (its CPU is left out).
   */
  @SuppressWarnings("unchecked")
  private void saturated(GraphRunner runner, String graph, int steps) throws Exception {
    CompletableFuture<RunOutcome>[] live = new CompletableFuture[IN_FLIGHT];
    String[] ids = new String[IN_FLIGHT];
    long[] n = {0};
    Map<String, String> none = Map.of();
    long runs = 0;
    Cpu cpu = null;
    long warmEnd = System.nanoTime() + s.warmup.toNanos();
    long end = warmEnd + s.measure.toNanos();
    for (int k = 0; k < IN_FLIGHT; k++) {
      ids[k] = graph + "-s" + n[0]++;
      live[k] = runner.start(graph, ids[k], none).outcome();
    }
    while (true) {
      long now = System.nanoTime();
      if (cpu == null && now - warmEnd >= 0) {
        cpu = new Cpu();
        runs = 0;
      }
      if (now - end >= 0) {
        break;
      }
      for (int k = 0; k < IN_FLIGHT; k++) {
        if (live[k].isDone()) {
          if (live[k].join().status() != RunStatus.SUCCEEDED) {
            throw new IllegalStateException(graph + " run " + ids[k] + " did not succeed");
          }
          runner.forget(ids[k]);
          runs++;
          ids[k] = graph + "-s" + n[0]++;
          live[k] = runner.start(graph, ids[k], none).outcome();
        }
      }
      Thread.onSpinWait();
    }
    cpu.stop();
    for (int k = 0; k < IN_FLIGHT; k++) {
      live[k].get(1, TimeUnit.MINUTES);
      runner.forget(ids[k]);
    }
    recordCpu(graph + " cfn-saturated", cpu, runs * steps);
    double[] c = cpuPerStep.get(graph + " cfn-saturated");
    out.printf(
        Locale.ROOT,
        "  %-12s cfn, %d runs under way: %,.0f steps/s, CPU %.2f us per step without the"
            + " caller%n",
        graph,
        IN_FLIGHT,
        runs * steps / (s.measure.toNanos() / 1e9),
        c == null ? 0 : c[1]);
  }

  private void recordCpu(String key, Cpu cpu, long steps) {
    if (steps > 0) {
      cpuPerStep.put(
          key,
          new double[] {
            Math.round(cpu.processNanos() / 10.0 / steps) / 100.0,
            Math.round(cpu.othersNanos() / 10.0 / steps) / 100.0
          });
    }
  }

  // ---------------------------------------------------------------- 1. overhead, LangChain4j

  /** A non-AI step: reads {@code n}, writes {@code n + 1}. */
  public static final class Step {
    /** Adds one. */
    @Agent(name = "step", description = "adds one", outputKey = "n")
    public long step(@V("n") long n) {
      return n + 1;
    }
  }

  private List<Results.Latency> langChainSteps() throws Exception {
    List<Results.Latency> out = new ArrayList<>();
    UntypedAgent sequence =
        AgenticServices.sequenceBuilder()
            .subAgents(new Step(), new Step(), new Step())
            .output(scope -> scope.readState("n"))
            .build();
    out.add(langChainScenario("sequence-3", 3, sequence, 3));
    UntypedAgent parallel = parallel();
    out.add(langChainScenario("parallel-10", 10, parallel, 0));
    UntypedAgent loop =
        AgenticServices.loopBuilder()
            .subAgents(new Step())
            .maxIterations(5)
            .exitCondition(scope -> false)
            .output(scope -> scope.readState("n"))
            .build();
    out.add(langChainScenario("loop-5", 5, loop, 5));
    return out;
  }

  private static UntypedAgent parallel() {
    Object[] agents = new Object[10];
    for (int i = 0; i < 10; i++) {
      agents[i] = new Step();
    }
    return AgenticServices.parallelBuilder()
        .subAgents(agents)
        .output(scope -> scope.readState("n"))
        .build();
  }

  private Results.Latency langChainScenario(
      String scenario, int steps, UntypedAgent workflow, int adds) throws Exception {
    Histogram perStep = new Histogram(60_000_000_000L, 3);
    long[] n = {0};
    long[] measuredSteps = {0};
    Cpu cpu =
        CfnScenarios.closedLoop(
            s.warmup,
            s.measure,
            measured -> {
              long i = n[0]++;
              long t0 = System.nanoTime();
              Object result = workflow.invoke(Map.of("n", i));
              long took = System.nanoTime() - t0;
              long got = ((Number) result).longValue();
              if (adds > 0 ? got != i + adds : got < i) {
                throw new IllegalStateException(
                    "LangChain4j " + scenario + " returned " + result + " for " + i);
              }
              if (measured) {
                perStep.recordValue(took / steps);
                measuredSteps[0] += steps;
              }
            });
    recordCpu(scenario + " langchain4j", cpu, measuredSteps[0]);
    return Results.Latency.of(
        scenario, "langchain4j", "agentic workflow", 0, perStep, cpu.processCores(), 0);
  }

  // ---------------------------------------------------------------- 2. durable steps

  private static double ratio(Map<String, Object> a, Map<String, Object> b) {
    return Math.round((double) a.get("tasksPerSecond") / (double) b.get("tasksPerSecond") * 100)
        / 100.0;
  }

  /** The run coordinator's batch of the batched runs: the runner's default. */
  private static final int BATCHED = GraphRunner.DEFAULT_COORDINATOR_BATCH;

  private Map<String, Object> durable(String shape, int batch) throws Exception {
    return durable(shape, batch, true);
  }

  /** One RELIABLE run; {@code report} false: a warm-up run, neither printed nor returned. */
  private Map<String, Object> durable(String shape, int batch, boolean report) throws Exception {
    Path dir = Files.createTempDirectory("cfn-bench-flow");
    try {
      return durable(dir, shape, batch, report);
    } finally {
      BenchMain.deleteTree(dir);
    }
  }

  /**
   * One RELIABLE run: {@code wide} is every task at once, each to an agent of its own (what the
   * runtime can do in parallel: throughput); {@code chains} is {@code chains} sequences of {@code
   * depth}, chain c's tasks to agent {@code w<c>} (a task waits for the one before: step latency).
   */
  private Map<String, Object> durable(Path dir, String shape, int batch, boolean report)
      throws Exception {
    TaskGraph.Builder b = TaskGraph.builder(shape);
    if (shape.equals("wide")) {
      for (int i = 0; i < s.chains * s.depth; i++) {
        b.task(TaskSpec.of("t" + i).agent("instant").input("x"));
      }
    } else {
      for (int c = 0; c < s.chains; c++) {
        TaskSpec[] chain = new TaskSpec[s.depth];
        for (int d = 0; d < s.depth; d++) {
          chain[d] =
              TaskSpec.of("c" + c + "-" + d).agent(AgentId.of("instant", "w" + c)).input("x");
        }
        b.sequence(chain);
      }
    }
    TaskGraph g = b.build();
    int tasks = s.chains * s.depth;
    Map<String, Long> queued = new ConcurrentHashMap<>();
    Histogram latency = new Histogram(3_600_000_000_000L, 3);
    long[] succeeded = {0};
    SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("flow.db"))
            .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
            .open();
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).journal(journal).build()) {
      rt.register(AgentType.of("instant", id -> TaskWorker.agent((in, ctx) -> in)));
      rt.register(
          AgentType.builder(
                  "stamps",
                  id ->
                      (m, ctx) -> {
                        FlowEvent e = (FlowEvent) m.payload();
                        if (e.transition() == Transition.QUEUED) {
                          queued.put(e.task(), m.createdNanos());
                        } else if (e.transition() == Transition.SUCCEEDED) {
                          Long q = queued.remove(e.task());
                          if (q != null) {
                            latency.recordValue(Math.max(0, m.createdNanos() - q));
                            succeeded[0]++;
                          }
                        }
                      })
              .mailboxCapacity(1 << 16)
              .build());
      rt.subscribe("cfn.flow.task.queued", AgentId.of("stamps", "1"));
      rt.subscribe("cfn.flow.task.succeeded", AgentId.of("stamps", "1"));
      long commits0 = journal.commitCount();
      try (GraphRunner runner =
          GraphRunner.builder(rt).reliable().coordinatorBatch(batch).graph(g).build()) {
        Cpu cpu = new Cpu();
        long t0 = System.nanoTime();
        RunOutcome o =
            runner.start(shape, shape + "-1", Map.of()).outcome().get(30, TimeUnit.MINUTES);
        long t = System.nanoTime() - t0;
        cpu.stop();
        if (o.status() != RunStatus.SUCCEEDED) {
          throw new IllegalStateException("the RELIABLE graph ended " + o.status());
        }
        long commits = journal.commitCount() - commits0;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (latency.getTotalCount() < tasks && System.nanoTime() - until < 0) {
          Thread.sleep(10); // the last events are on their way
        }
        if (!report) {
          return null;
        }
        double seconds = t / 1e9;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("shape", shape);
        m.put("coordinatorBatch", batch);
        m.put("tasks", tasks);
        m.put("chains", s.chains);
        m.put("seconds", Math.round(seconds * 1000) / 1000.0);
        m.put("tasksPerSecond", Math.round(tasks / seconds * 10) / 10.0);
        m.put("stepSamples", latency.getTotalCount());
        m.put("stepP50Ms", ms(latency.getValueAtPercentile(50)));
        m.put("stepP99Ms", ms(latency.getValueAtPercentile(99)));
        m.put("stepMaxMs", ms(latency.getMaxValue()));
        m.put("commits", commits);
        m.put("processCpuCores", cpu.processCores());
        double cpuUsPerTask = Math.round(cpu.processCores() * seconds * 1e6 / tasks * 10) / 10.0;
        m.put("processCpuUsPerTask", cpuUsPerTask);
        out.printf(
            Locale.ROOT,
            "  %-6s batch %4d: %,9.0f tasks/s (%.1f s), step P50 %.2f ms, P99 %.2f ms,"
                + " %,d commits, %.2f cores, CPU %.1f us per task%n",
            shape,
            batch,
            tasks / seconds,
            seconds,
            ms(latency.getValueAtPercentile(50)),
            ms(latency.getValueAtPercentile(99)),
            commits,
            cpu.processCores(),
            cpuUsPerTask);
        return m;
      }
    }
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 10_000.0) / 100.0;
  }

  // ---------------------------------------------------------------- 3. round

  private Map<String, Object> round() throws Exception {
    Histogram h = new Histogram(3_600_000_000_000L, 3);
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).build()) {
      rt.register(
          AgentType.of(
              "voter",
              id -> (m, ctx) -> ctx.send(m.sender(), id.key().hashCode() % 3 == 0 ? "no" : "yes")));
      Swarm swarm = Swarm.builder("bench", rt).build();
      for (int i = 0; i < s.members; i++) {
        swarm.join(AgentId.of("voter", Integer.toString(i)));
      }
      Cpu cpu = null;
      for (int r = -s.roundWarmup; r < s.rounds; r++) {
        if (r == 0) {
          cpu = new Cpu();
        }
        long t0 = System.nanoTime();
        RoundResult result =
            swarm.round("ship it?").reduce(Reduce.majority()).start().get(5, TimeUnit.MINUTES);
        long took = System.nanoTime() - t0;
        if (!result.complete()) {
          throw new IllegalStateException(
              "round "
                  + result.round()
                  + " missed "
                  + result.missing().size()
                  + " of "
                  + result.asked()
                  + " replies");
        }
        if (r >= 0) {
          h.recordValue(took);
        }
      }
      cpu.stop();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("members", s.members);
      m.put("rounds", h.getTotalCount());
      m.put("p50Ms", ms(h.getValueAtPercentile(50)));
      m.put("p99Ms", ms(h.getValueAtPercentile(99)));
      m.put("maxMs", ms(h.getMaxValue()));
      m.put("processCpuCores", cpu.processCores());
      out.printf(
          Locale.ROOT,
          "  %,d rounds: P50 %.2f ms, P99 %.2f ms, max %.2f ms, %.2f cores%n",
          h.getTotalCount(),
          ms(h.getValueAtPercentile(50)),
          ms(h.getValueAtPercentile(99)),
          ms(h.getMaxValue()),
          cpu.processCores());
      return m;
    }
  }
}
