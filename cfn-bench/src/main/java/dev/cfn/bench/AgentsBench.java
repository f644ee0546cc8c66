package dev.cfn.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.testkit.ModelServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * {@code cfn bench agents}: LLM tasks through cfn and through LangChain4j 1.x against one loopback
 * model server that answers at once (cfn-testkit's {@link ModelServer}, OpenAI protocol,
 * non-streaming), so that what is measured is each system's own cost per task.
 *
 * <p>The model server runs in this JVM (the coordinator), which does nothing else while a system is
 * measured. Each system runs in a JVM of its own ({@link AgentsWorker}), started with this JVM's
 * flags, so every system gets the same JVM settings and none shares a heap or JIT profile with
 * another. A run starts each system once, in the order of {@link #SCENARIOS} (a cfn system beside
 * its LangChain4j peer); a full measurement is {@link Settings#runs()} such runs, and the figures
 * reported are the medians over the runs of each (system, concurrency) cell, and the medians of
 * ratios taken within each run (side by side: the two systems of a ratio ran minutes apart at
 * most). Every answer is checked; a failed task is counted, shown and fails the command.
 */
final class AgentsBench {

  /** The systems, in the order a run starts them; {@code --only} takes these names. */
  static final List<String> SCENARIOS =
      List.of(
          "cfn-agent",
          "lc4j-aiservices",
          "cfn-provider",
          "lc4j-model",
          "cfn-reliable",
          "cfn-tool",
          "lc4j-tool");

  /** What each scenario runs, for the table and the JSON. */
  static final Map<String, String> DESCRIPTIONS =
      Map.of(
          "cfn-agent", "cfn best-effort: rt.request -> LlmAgent",
          "lc4j-aiservices", "LangChain4j AiServices",
          "cfn-provider", "cfn provider alone: ModelProvider.chat",
          "lc4j-model", "LangChain4j OpenAiChatModel direct",
          "cfn-reliable", "cfn RELIABLE with the durable call log",
          "cfn-tool", "tool round trip: cfn LlmAgent + tool",
          "lc4j-tool", "tool round trip: LangChain4j AiServices + @Tool");

  /** The ratios reported: name, numerator, denominator. */
  static final List<List<String>> RATIOS =
      List.of(
          List.of("cfn agent / LangChain4j AiServices", "cfn-agent", "lc4j-aiservices"),
          List.of("cfn provider / LangChain4j OpenAiChatModel", "cfn-provider", "lc4j-model"),
          List.of("cfn tool / LangChain4j AiServices + @Tool", "cfn-tool", "lc4j-tool"),
          List.of("cfn RELIABLE / cfn best-effort", "cfn-reliable", "cfn-agent"));

  /**
   * Run settings.
   *
   * @param scenarios the systems to run, in {@link #SCENARIOS} order
   * @param concurrencies the concurrencies each system runs at, in order, in one JVM
   * @param runs how many times each system runs (its own JVM each time); medians over these
   * @param warmup the warm-up before each concurrency's window
   * @param measure each measured window
   * @param jvmWarmup a warm-up each system's JVM runs once, before its first concurrency, at {@link
   *     #JVM_WARMUP_CONCURRENCY} concurrent tasks (or fewer when every cell has fewer), so that the
   *     JIT has compiled the system's hot path before the first window: measured here, a RELIABLE
   *     task's CPU fell from 1.9 ms to 0.47 ms over its first 30 s at c=16 (the durable path runs
   *     more code: SQLite JDBC, the codec, the journal), while the best-effort one settled within
   *     10 s; the same for every system
   */
  record Settings(
      List<String> scenarios,
      int[] concurrencies,
      int runs,
      Duration warmup,
      Duration measure,
      Duration jvmWarmup) {
    /** The concurrency of the JVM warm-up. */
    static final int JVM_WARMUP_CONCURRENCY = 16;

    Settings {
      for (String s : scenarios) {
        if (!SCENARIOS.contains(s)) {
          throw new IllegalArgumentException(
              "unknown scenario '"
                  + s
                  + "' for --only (fix: choose from "
                  + String.join(", ", SCENARIOS)
                  + ")");
        }
      }
      scenarios = SCENARIOS.stream().filter(scenarios::contains).toList();
      if (scenarios.isEmpty()) {
        throw new IllegalArgumentException(
            "--only names no scenario (fix: choose from " + String.join(", ", SCENARIOS) + ")");
      }
      if (concurrencies.length == 0) {
        throw new IllegalArgumentException("--concurrency is empty (fix: e.g. --concurrency 1,16)");
      }
      for (int c : concurrencies) {
        BenchMain.atLeast("--concurrency", c, 1);
        if (c > MAX_CONCURRENCY) {
          throw new IllegalArgumentException(
              "--concurrency "
                  + c
                  + " is more than "
                  + MAX_CONCURRENCY
                  + " (fix: give at most "
                  + MAX_CONCURRENCY
                  + ")");
        }
      }
      concurrencies = concurrencies.clone();
      BenchMain.atLeast("--runs", runs, 1);
      if (jvmWarmup.isNegative()) {
        throw new IllegalArgumentException("the JVM warm-up must not be negative");
      }
    }

    static Settings full() {
      return new Settings(
          SCENARIOS,
          new int[] {1, 16, 256},
          3,
          Duration.ofSeconds(3),
          Duration.ofSeconds(5),
          Duration.ofSeconds(15));
    }

    static Settings quick() {
      return new Settings(
          SCENARIOS,
          new int[] {1, 16, 256},
          1,
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ZERO);
    }

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scenarios", scenarios);
      m.put("concurrencies", Arrays.stream(concurrencies).boxed().toList());
      m.put("runs", runs);
      m.put("warmupSeconds", warmup.toMillis() / 1000.0);
      m.put("measureSeconds", measure.toMillis() / 1000.0);
      m.put("jvmWarmupSeconds", jvmWarmup.toMillis() / 1000.0);
      return m;
    }
  }

  /** The most concurrent tasks a cell may run (each is an agent and a connection). */
  static final int MAX_CONCURRENCY = 4096;

  private final Settings settings;
  private final PrintStream out;

  AgentsBench(Settings settings, PrintStream out) {
    this.settings = settings;
    this.out = out;
  }

  /** Runs every system {@code runs} times; returns the JSON document (see the README). */
  Map<String, Object> run() throws Exception {
    Machine machine = Machine.current();
    out.println("cfn bench agents: " + machine.describe());
    List<String> jvmFlags = workerFlags();
    out.println("  every system in its own JVM with: " + String.join(" ", jvmFlags));
    List<List<AgentsDriver.Cell>> runs = new ArrayList<>();
    List<Map<String, Object>> workers = new ArrayList<>();
    Path work = Files.createTempDirectory("cfn-bench-agents");
    try (ModelServer server = AgentsScript.startServer()) {
      out.println("  model server (this JVM): " + server.openAiBaseUrl());
      for (int r = 1; r <= settings.runs(); r++) {
        out.println("run " + r + " of " + settings.runs());
        List<AgentsDriver.Cell> cells = new ArrayList<>();
        for (String scenario : settings.scenarios()) {
          Path file = work.resolve(scenario + "-" + r + ".json");
          long before = server.received();
          Map<String, Object> worker = launch(jvmFlags, scenario, server.openAiBaseUrl(), file);
          long requests = server.received() - before;
          List<AgentsDriver.Cell> mine = new ArrayList<>();
          @SuppressWarnings("unchecked")
          List<Map<String, Object>> raw = (List<Map<String, Object>>) worker.get("cells");
          for (Map<String, Object> m : raw) {
            mine.add(AgentsDriver.Cell.of(m));
          }
          cells.addAll(mine);
          long allTasks = mine.stream().mapToLong(AgentsDriver.Cell::allTasks).sum();
          Map<String, Object> w = new LinkedHashMap<>();
          w.put("run", r);
          w.put("scenario", scenario);
          w.put("modelRequests", requests);
          w.put("tasks", allTasks);
          w.put(
              "modelRequestsPerTask",
              AgentsDriver.round((double) requests / Math.max(1, allTasks), 3));
          w.put("machine", worker.get("machine"));
          workers.add(w);
        }
        runs.add(cells);
      }
    } finally {
      BenchMain.deleteTree(work);
    }
    List<AgentsDriver.Cell> medians = medians(runs);
    List<Map<String, Object>> ratios = ratios(runs);
    print(medians, ratios);
    out.println("machine: " + machine.describe());
    out.println("every system's JVM: " + String.join(" ", jvmFlags));

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("benchmark", "cfn bench agents");
    json.put("date", Instant.now().toString());
    json.put("machine", machine.asMap());
    json.put("workerJvmFlags", jvmFlags);
    json.put("settings", settings.asMap());
    json.put(
        "method",
        "closed loop: c virtual threads each run a task, check its answer, start the next; latency"
            + " from task start to checked answer (HdrHistogram); tasks/s counted in the measured"
            + " window; cpu = process CPU time (OperatingSystemMXBean.getProcessCpuTime) and alloc"
            + " = com.sun.management.ThreadMXBean.getTotalThreadAllocatedBytes over the window,"
            + " per task, in the system's JVM (the load driver's share included); the model"
            + " server (cfn-testkit ModelServer, OpenAI protocol, non-streaming, instant answers,"
            + " no request history) runs in the coordinator JVM; medians over runs, ratios taken"
            + " within each run, then their median");
    json.put("scenarios", DESCRIPTIONS);
    json.put("medians", medians.stream().map(AgentsDriver.Cell::asMap).toList());
    json.put("ratios", ratios);
    json.put("workers", workers);
    List<List<Map<String, Object>>> rawRuns = new ArrayList<>();
    for (List<AgentsDriver.Cell> run : runs) {
      rawRuns.add(run.stream().map(AgentsDriver.Cell::asMap).toList());
    }
    json.put("runs", rawRuns);
    json.put("failedTasks", totalFailures(runs));
    return json;
  }

  static long totalFailures(List<List<AgentsDriver.Cell>> runs) {
    return runs.stream().flatMap(List::stream).mapToLong(AgentsDriver.Cell::failures).sum();
  }

  /** This JVM's flags, which every worker gets (debug agents left out). */
  static List<String> workerFlags() {
    List<String> flags = new ArrayList<>();
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-agentlib:") && !a.startsWith("-javaagent:")) {
        flags.add(a);
      }
    }
    return flags;
  }

  private Map<String, Object> launch(
      List<String> jvmFlags, String scenario, String baseUrl, Path file) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(jvmFlags);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(AgentsWorker.class.getName());
    cmd.add(scenario);
    cmd.add(baseUrl);
    cmd.add(
        String.join(
            ",", Arrays.stream(settings.concurrencies()).mapToObj(Integer::toString).toList()));
    cmd.add(Long.toString(settings.warmup().toMillis()));
    cmd.add(Long.toString(settings.measure().toMillis()));
    cmd.add(file.toString());
    cmd.add(Long.toString(settings.jvmWarmup().toMillis()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    // the worker's lines (its cells, any error) are passed on as they come
    Thread pump =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (var lines =
                      new BufferedReader(
                          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                      out.println(line);
                    }
                  } catch (IOException e) {
                    out.println("  (the " + scenario + " worker's output ended: " + e + ")");
                  }
                });
    long limit =
        (settings.warmup().toMillis() + settings.measure().toMillis() + 2 * 35_000L)
                * settings.concurrencies().length
            + settings.jvmWarmup().toMillis()
            + 120_000L;
    if (!p.waitFor(limit, TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "the " + scenario + " worker did not finish in " + limit / 1000 + " s; it was killed");
    }
    pump.join(5_000);
    if (p.exitValue() != 0 || !Files.isRegularFile(file)) {
      throw new IllegalStateException(
          "the " + scenario + " worker exited with " + p.exitValue() + " (its error is above)");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> result = new ObjectMapper().readValue(file.toFile(), Map.class);
    return result;
  }

  /** The median of every figure of each (scenario, concurrency) over the runs. */
  List<AgentsDriver.Cell> medians(List<List<AgentsDriver.Cell>> runs) {
    List<AgentsDriver.Cell> result = new ArrayList<>();
    for (String s : settings.scenarios()) {
      for (int c : settings.concurrencies()) {
        List<AgentsDriver.Cell> same = new ArrayList<>();
        for (List<AgentsDriver.Cell> run : runs) {
          run.stream()
              .filter(x -> x.scenario().equals(s) && x.concurrency() == c)
              .findFirst()
              .ifPresent(same::add);
        }
        if (same.isEmpty()) {
          continue;
        }
        String first =
            same.stream()
                .map(AgentsDriver.Cell::firstFailure)
                .filter(f -> f != null)
                .findFirst()
                .orElse(null);
        result.add(
            new AgentsDriver.Cell(
                s,
                c,
                (long) median(same, x -> x.tasks()),
                (long) median(same, x -> x.allTasks()),
                median(same, AgentsDriver.Cell::seconds),
                median(same, AgentsDriver.Cell::tasksPerSecond),
                median(same, AgentsDriver.Cell::p50Us),
                median(same, AgentsDriver.Cell::p99Us),
                median(same, AgentsDriver.Cell::maxUs),
                median(same, AgentsDriver.Cell::cpuUsPerTask),
                median(same, AgentsDriver.Cell::allocBytesPerTask),
                (long) median(same, x -> x.toolCalls()),
                same.stream().mapToLong(AgentsDriver.Cell::failures).sum(),
                first));
      }
    }
    return result;
  }

  /** Each ratio of tasks/s within each run, at each concurrency, and their median. */
  List<Map<String, Object>> ratios(List<List<AgentsDriver.Cell>> runs) {
    List<Map<String, Object>> result = new ArrayList<>();
    for (List<String> ratio : RATIOS) {
      for (int c : settings.concurrencies()) {
        List<Double> perRun = new ArrayList<>();
        for (List<AgentsDriver.Cell> run : runs) {
          Double num = tasksPerSecond(run, ratio.get(1), c);
          Double den = tasksPerSecond(run, ratio.get(2), c);
          if (num != null && den != null && den > 0) {
            perRun.add(AgentsDriver.round(num / den, 3));
          }
        }
        if (perRun.isEmpty()) {
          continue;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", ratio.get(0));
        m.put("numerator", ratio.get(1));
        m.put("denominator", ratio.get(2));
        m.put("concurrency", c);
        m.put("median", AgentsDriver.round(median(perRun), 3));
        m.put("perRun", perRun);
        result.add(m);
      }
    }
    return result;
  }

  private static Double tasksPerSecond(List<AgentsDriver.Cell> run, String scenario, int c) {
    return run.stream()
        .filter(x -> x.scenario().equals(scenario) && x.concurrency() == c)
        .map(AgentsDriver.Cell::tasksPerSecond)
        .findFirst()
        .orElse(null);
  }

  static double median(List<AgentsDriver.Cell> cells, ToDoubleFunction<AgentsDriver.Cell> f) {
    return median(cells.stream().map(f::applyAsDouble).toList());
  }

  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private void print(List<AgentsDriver.Cell> medians, List<Map<String, Object>> ratios) {
    out.println();
    out.printf(
        Locale.ROOT,
        "%s (median of %d run%s)%n",
        "cfn bench agents",
        settings.runs(),
        settings.runs() == 1 ? "" : "s");
    out.printf(
        Locale.ROOT,
        "%-48s %5s %10s %10s %11s %11s %11s %7s%n",
        "scenario",
        "c",
        "tasks/s",
        "p50 us",
        "p99 us",
        "cpu us/task",
        "alloc B/task",
        "failed");
    for (AgentsDriver.Cell cell : medians) {
      out.printf(
          Locale.ROOT,
          "%-48s %5d %,10.0f %,10.1f %,11.1f %,11.1f %,11.0f %7d%n",
          DESCRIPTIONS.get(cell.scenario()),
          cell.concurrency(),
          cell.tasksPerSecond(),
          cell.p50Us(),
          cell.p99Us(),
          cell.cpuUsPerTask(),
          cell.allocBytesPerTask(),
          cell.failures());
    }
    if (!ratios.isEmpty()) {
      out.println();
      out.println("ratios of tasks/s (taken within each run; median)");
      for (Map<String, Object> r : ratios) {
        out.printf(
            Locale.ROOT,
            "  %-48s c=%-4s %6.2f   runs %s%n",
            r.get("name"),
            r.get("concurrency"),
            (Double) r.get("median"),
            r.get("perRun"));
      }
    }
  }
}
