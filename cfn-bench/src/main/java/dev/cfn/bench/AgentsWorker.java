package dev.cfn.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JVM of one system under test in {@code cfn bench agents}: started by {@link AgentsBench} with
 * the same flags for every system, it builds one contender against the model server's URL, drives
 * it at each concurrency in turn (warm-up, then the measured window) and writes its cells and the
 * machine it ran on as JSON to a file the coordinator reads. Not a user command: its arguments are
 * {@code SCENARIO BASE_URL CONCURRENCIES WARMUP_MS MEASURE_MS OUT_FILE [JVM_WARMUP_MS]}.
 */
public final class AgentsWorker {
  private AgentsWorker() {}

  /** Runs one scenario; exits 0 when it ran (failed tasks are in the file), 1 when it could not. */
  public static void main(String[] args) {
    try {
      run(
          args[0],
          args[1],
          parseInts(args[2]),
          Duration.ofMillis(Long.parseLong(args[3])),
          Duration.ofMillis(Long.parseLong(args[4])),
          Path.of(args[5]),
          Duration.ofMillis(args.length > 6 ? Long.parseLong(args[6]) : 0));
    } catch (Exception e) {
      System.err.println("cfn bench agents: the " + args[0] + " worker failed: " + e);
      if (Boolean.getBoolean("cfn.debug")) {
        e.printStackTrace();
      }
      System.exit(1);
    }
    System.exit(0);
  }

  static void run(
      String scenario,
      String baseUrl,
      int[] concurrencies,
      Duration warmup,
      Duration measure,
      Path out,
      Duration jvmWarmup)
      throws Exception {
    int slots = 0;
    for (int c : concurrencies) {
      slots = Math.max(slots, c);
    }
    List<Map<String, Object>> cells = new ArrayList<>();
    try (AgentsContender contender = contender(scenario, baseUrl, slots)) {
      if (jvmWarmup.isPositive()) {
        int c = Math.min(AgentsBench.Settings.JVM_WARMUP_CONCURRENCY, slots);
        System.out.printf(
            Locale.ROOT,
            "  %-16s JVM warm-up: %.0f s at c=%d (not measured)%n",
            scenario,
            jvmWarmup.toMillis() / 1000.0,
            c);
        AgentsDriver.run(scenario, contender, c, jvmWarmup, Duration.ofMillis(1));
      }
      for (int c : concurrencies) {
        AgentsDriver.Cell cell = AgentsDriver.run(scenario, contender, c, warmup, measure);
        System.out.printf(
            Locale.ROOT,
            "  %-16s c=%-4d %,10.0f tasks/s  p50 %,9.1f us  p99 %,10.1f us  cpu %,7.1f us/task"
                + "  alloc %,8.0f B/task%s%n",
            scenario,
            c,
            cell.tasksPerSecond(),
            cell.p50Us(),
            cell.p99Us(),
            cell.cpuUsPerTask(),
            cell.allocBytesPerTask(),
            cell.failures() == 0
                ? ""
                : "  FAILED " + cell.failures() + " (first: " + cell.firstFailure() + ")");
        cells.add(cell.asMap());
      }
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("scenario", scenario);
    json.put("machine", Machine.current().asMap());
    json.put("cells", cells);
    BusBench.writeJson(json, out);
  }

  static AgentsContender contender(String scenario, String baseUrl, int slots) throws Exception {
    return switch (scenario) {
      case "cfn-agent" -> new CfnContenders.Agent(baseUrl, slots, false);
      case "cfn-provider" -> new CfnContenders.Provider(baseUrl);
      case "cfn-reliable" -> new CfnContenders.Reliable(baseUrl, slots);
      case "cfn-tool" -> new CfnContenders.Agent(baseUrl, slots, true);
      case "lc4j-model" -> new LangChain4jContenders.Model(baseUrl);
      case "lc4j-aiservices" -> new LangChain4jContenders.Service(baseUrl, false);
      case "lc4j-tool" -> new LangChain4jContenders.Service(baseUrl, true);
      default -> throw new IllegalArgumentException("unknown scenario " + scenario);
    };
  }

  static int[] parseInts(String csv) {
    String[] parts = csv.split(",");
    int[] values = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      values[i] = Integer.parseInt(parts[i].trim());
    }
    return values;
  }
}
