package dev.cfn.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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

/**
 * Runs the end-to-end bus scenarios on cfn and on Apache Pekko in one JVM, prints a table with the
 * targets beside the figures, and writes every figure to JSON with the machine it ran on.
 */
final class BusBench {

  /** Run settings; {@link #quick()} keeps the whole run near a minute and a half. */
  record Settings(
      int rate,
      Duration latencyWarmup,
      Duration latencyMeasure,
      Duration throughputWarmup,
      Duration throughputMeasure,
      int window,
      int pairs,
      int inFlightPerPair,
      int scaleAgents,
      boolean pekko) {

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rate", rate);
      m.put("latencyWarmupSeconds", latencyWarmup.toMillis() / 1000.0);
      m.put("latencyMeasureSeconds", latencyMeasure.toMillis() / 1000.0);
      m.put("throughputWarmupSeconds", throughputWarmup.toMillis() / 1000.0);
      m.put("throughputMeasureSeconds", throughputMeasure.toMillis() / 1000.0);
      m.put("window", window);
      m.put("pairs", pairs);
      m.put("inFlightPerPair", inFlightPerPair);
      m.put("scaleAgents", scaleAgents);
      m.put("pekko", pekko);
      return m;
    }

    static Settings full() {
      return new Settings(
          10_000,
          Duration.ofSeconds(3),
          Duration.ofSeconds(10),
          Duration.ofSeconds(3),
          Duration.ofSeconds(10),
          8192,
          500,
          64,
          1_000_000,
          true);
    }

    static Settings quick() {
      return new Settings(
          10_000,
          Duration.ofSeconds(2),
          Duration.ofMillis(1500),
          Duration.ofSeconds(1),
          Duration.ofSeconds(5),
          8192,
          500,
          64,
          1_000_000,
          true);
    }
  }

  /** Scenario names accepted by {@code --only}. */
  static final List<String> SCENARIOS =
      List.of("one-way", "request-reply", "1to1", "pairs", "scale", "chain", "oversubscribed");

  /** Busy threads beside the oversubscribed scenario: with the sender, more than 2 cores' work. */
  static final int BUSY_THREADS = 2;

  private final Settings settings;
  private final PrintStream out;
  private final java.util.Set<String> only;

  BusBench(Settings settings, PrintStream out) {
    this(settings, out, java.util.Set.copyOf(SCENARIOS));
  }

  BusBench(Settings settings, PrintStream out, java.util.Set<String> only) {
    for (String name : only) {
      if (!SCENARIOS.contains(name)) {
        throw new IllegalArgumentException(
            "unknown scenario '" + name + "'; choose from " + String.join(", ", SCENARIOS));
      }
    }
    this.settings = settings;
    this.out = out;
    this.only = only;
  }

  Map<String, Object> run() throws Exception {
    Machine machine = Machine.current();
    out.println("cfn bench bus — " + machine.describe());
    out.println(
        "settings: rate "
            + settings.rate()
            + " msg/s; latency warm-up "
            + settings.latencyWarmup()
            + ", measured "
            + settings.latencyMeasure()
            + "; throughput warm-up "
            + settings.throughputWarmup()
            + ", measured "
            + settings.throughputMeasure()
            + "; window "
            + settings.window()
            + "; "
            + settings.pairs()
            + " pairs x "
            + settings.inFlightPerPair()
            + " in flight");
    Instant started = Instant.now();
    List<Results.Latency> latencies = new ArrayList<>();
    List<Results.Throughput> throughputs = new ArrayList<>();
    Settings s = settings;

    for (String profile : only.contains("one-way") ? PROFILES : List.<String>of()) {
      latencies.add(
          step(
              "one-way latency, cfn " + profile,
              () -> CfnScenarios.oneWay(profile, s.rate(), s.latencyWarmup(), s.latencyMeasure())));
    }
    if (s.pekko() && only.contains("one-way")) {
      latencies.add(
          step(
              "one-way latency, pekko",
              () -> PekkoScenarios.oneWay(s.rate(), s.latencyWarmup(), s.latencyMeasure())));
    }
    for (String profile : only.contains("request-reply") ? PROFILES : List.<String>of()) {
      latencies.add(
          step(
              "request-reply, cfn " + profile,
              () ->
                  CfnScenarios.requestReply(
                      profile, s.rate(), s.latencyWarmup(), s.latencyMeasure())));
    }
    if (s.pekko() && only.contains("request-reply")) {
      latencies.add(
          step(
              "request-reply, pekko",
              () -> PekkoScenarios.requestReply(s.rate(), s.latencyWarmup(), s.latencyMeasure())));
    }
    if (only.contains("1to1")) {
      throughputs.add(
          step(
              "1->1 throughput, cfn",
              () ->
                  CfnScenarios.oneToOne(s.throughputWarmup(), s.throughputMeasure(), s.window())));
    }
    if (only.contains("1to1")) {
      throughputs.add(
          step(
              "1->1 throughput, cfn unbounded mailbox",
              () ->
                  CfnScenarios.oneToOne(
                      s.throughputWarmup(), s.throughputMeasure(), s.window(), true)));
    }
    if (s.pekko() && only.contains("1to1")) {
      throughputs.add(
          step(
              "1->1 throughput, pekko",
              () ->
                  PekkoScenarios.oneToOne(
                      s.throughputWarmup(), s.throughputMeasure(), s.window())));
    }
    if (only.contains("pairs")) {
      throughputs.add(
          step(
              s.pairs() + "-pair throughput, cfn",
              () ->
                  CfnScenarios.pairs(
                      s.pairs(),
                      s.inFlightPerPair(),
                      s.throughputWarmup(),
                      s.throughputMeasure())));
    }
    if (s.pekko() && only.contains("pairs")) {
      throughputs.add(
          step(
              s.pairs() + "-pair throughput, pekko",
              () ->
                  PekkoScenarios.pairs(
                      s.pairs(),
                      s.inFlightPerPair(),
                      s.throughputWarmup(),
                      s.throughputMeasure())));
    }
    if (only.contains("chain")) {
      latencies.add(
          step(
              "3-agent forward chain, cfn",
              () -> CfnScenarios.forwardChain(s.latencyWarmup(), s.latencyMeasure())));
      latencies.add(
          step(
              "3-agent sequence, langchain4j agentic",
              () -> LangChainScenarios.sequence(s.latencyWarmup(), s.latencyMeasure())));
    }
    Map<String, Object> preemptions = new LinkedHashMap<>();
    for (String profile : only.contains("oversubscribed") ? PROFILES : List.<String>of()) {
      latencies.add(
          step(
              "one-way latency beside " + BUSY_THREADS + " busy threads, cfn " + profile,
              () -> {
                try (BusyThreads busy = new BusyThreads(BUSY_THREADS)) {
                  return CfnScenarios.oneWay(
                      OVERSUBSCRIBED,
                      profile,
                      s.rate(),
                      s.latencyWarmup(),
                      s.latencyMeasure(),
                      n -> preemptions.put(profile, n));
                }
              }));
    }
    if (s.pekko() && only.contains("oversubscribed")) {
      latencies.add(
          step(
              "one-way latency beside " + BUSY_THREADS + " busy threads, pekko",
              () -> {
                try (BusyThreads busy = new BusyThreads(BUSY_THREADS)) {
                  return PekkoScenarios.oneWay(s.rate(), s.latencyWarmup(), s.latencyMeasure())
                      .as(OVERSUBSCRIBED);
                }
              }));
    }
    Results.Scale scale =
        only.contains("scale")
            ? step(s.scaleAgents() + " agents", () -> CfnScenarios.scale(s.scaleAgents()))
            : null;

    List<Results.Target> targets = targets(latencies, throughputs, scale);
    printTables(latencies, throughputs, scale, targets);

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("benchmark", "cfn bench bus");
    json.put("started", started.toString());
    json.put("finished", Instant.now().toString());
    json.put("machine", machine.asMap());
    json.put("settings", settings.asMap());
    json.put("pekkoDispatcherThroughput", PekkoScenarios.THROUGHPUT);
    json.put("latency", latencies);
    json.put("throughput", throughputs);
    json.put("scale", scale);
    json.put("ratios", ratios(latencies, throughputs));
    json.put("oversubscribedBusyThreads", BUSY_THREADS);
    json.put("oversubscribedCarrierPreemptions", preemptions);
    json.put("targets", targets.stream().map(Results.Target::asMap).toList());
    return json;
  }

  private static final List<String> PROFILES = List.of("default", "low-latency");

  /** The scenario name of the paced one-way run beside busy threads. */
  static final String OVERSUBSCRIBED = "oversubscribed";

  interface Step<T> {
    T run() throws Exception;
  }

  private <T> T step(String name, Step<T> step) throws Exception {
    out.print("  running " + name + " ... ");
    out.flush();
    long t0 = System.nanoTime();
    T result = step.run();
    out.printf(Locale.ROOT, "done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    System.gc();
    return result;
  }

  private static Results.Latency find(
      List<Results.Latency> all, String scenario, String system, String profile) {
    return all.stream()
        .filter(
            l ->
                l.scenario().equals(scenario)
                    && l.system().equals(system)
                    && l.profile().equals(profile))
        .findFirst()
        .orElse(null);
  }

  private static Results.Throughput find(
      List<Results.Throughput> all, String scenario, String sys) {
    return all.stream()
        .filter(t -> t.scenario().equals(scenario) && t.system().equals(sys))
        .findFirst()
        .orElse(null);
  }

  private Map<String, Object> ratios(
      List<Results.Latency> latencies, List<Results.Throughput> throughputs) {
    Map<String, Object> r = new LinkedHashMap<>();
    for (String scenario : List.of("one-way", "request-reply")) {
      Results.Latency pekko = find(latencies, scenario, "pekko", "default");
      for (String profile : List.of("default", "low-latency")) {
        Results.Latency cfn = find(latencies, scenario, "cfn", profile);
        if (pekko != null && cfn != null) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("p50", ratio(cfn.p50Us(), pekko.p50Us()));
          m.put("p95", ratio(cfn.p95Us(), pekko.p95Us()));
          m.put("p99", ratio(cfn.p99Us(), pekko.p99Us()));
          m.put("p99.9", ratio(cfn.p999Us(), pekko.p999Us()));
          r.put(scenario + " latency cfn(" + profile + ")/pekko (lower is better)", m);
        }
      }
    }
    for (String scenario : List.of("1->1", settings.pairs() + " pairs")) {
      Results.Throughput cfn = find(throughputs, scenario, "cfn");
      Results.Throughput pekko = find(throughputs, scenario, "pekko");
      if (cfn != null && pekko != null) {
        r.put(
            scenario + " throughput cfn/pekko (higher is better)",
            ratio(cfn.messagesPerSecond(), pekko.messagesPerSecond()));
      }
    }
    Results.Throughput unbounded = find(throughputs, "1->1 unbounded", "cfn");
    Results.Throughput pekko11 = find(throughputs, "1->1", "pekko");
    if (unbounded != null && pekko11 != null) {
      r.put(
          "1->1 throughput cfn(unbounded mailbox)/pekko (higher is better)",
          ratio(unbounded.messagesPerSecond(), pekko11.messagesPerSecond()));
    }
    Results.Latency chain = find(latencies, "forward-chain", "cfn", "default");
    Results.Latency sequence = find(latencies, "forward-chain", "langchain4j", "sequence");
    if (chain != null && sequence != null) {
      r.put(
          "forward-chain p50 per step cfn/langchain4j (lower is better)",
          ratio(chain.p50Us(), sequence.p50Us()));
    }
    Results.Latency overLow = find(latencies, OVERSUBSCRIBED, "cfn", "low-latency");
    Results.Latency overDefault = find(latencies, OVERSUBSCRIBED, "cfn", "default");
    if (overLow != null && overDefault != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("p50", ratio(overLow.p50Us(), overDefault.p50Us()));
      m.put("p95", ratio(overLow.p95Us(), overDefault.p95Us()));
      m.put("p99", ratio(overLow.p99Us(), overDefault.p99Us()));
      m.put("p99.9", ratio(overLow.p999Us(), overDefault.p999Us()));
      r.put("oversubscribed latency cfn(low-latency)/cfn(default) (lower is better)", m);
    }
    return r;
  }

  private static double ratio(double a, double b) {
    return b == 0 ? Double.NaN : Math.round(a / b * 100) / 100.0;
  }

  private List<Results.Target> targets(
      List<Results.Latency> latencies, List<Results.Throughput> throughputs, Results.Scale scale) {
    List<Results.Target> t = new ArrayList<>();
    Results.Latency ll = find(latencies, "one-way", "cfn", "low-latency");
    Results.Latency def = find(latencies, "one-way", "cfn", "default");
    if (ll != null) {
      t.add(target("one-way p95, low-latency", "<= 2 us", ll.p95Us(), "us", ll.p95Us() <= 2));
      t.add(
          target("one-way p99.9, low-latency", "<= 100 us", ll.p999Us(), "us", ll.p999Us() <= 100));
    }
    if (def != null) {
      t.add(target("one-way p95, default", "<= 20 us", def.p95Us(), "us", def.p95Us() <= 20));
    }
    Results.Throughput one = find(throughputs, "1->1", "cfn");
    if (one != null) {
      double v = one.messagesPerSecond();
      t.add(target("1->1 throughput", ">= 20M msg/s", v, "msg/s", v >= 20e6));
    }
    Results.Throughput pairs = find(throughputs, settings.pairs() + " pairs", "cfn");
    if (pairs != null) {
      double v = pairs.messagesPerSecond();
      t.add(target(settings.pairs() + "-pair throughput", ">= 10M msg/s", v, "msg/s", v >= 10e6));
    }
    if (scale != null) {
      double heapMb = (scale.heapAfterSpawnBytes() - scale.heapBeforeBytes()) / 1048576.0;
      String n = scale.agents() + " agents";
      t.add(target(n + " heap", "<= 1024 MiB", Math.round(heapMb), "MiB", heapMb <= 1024));
      t.add(
          target(
              n + " spawn time", "<= 3 s", scale.spawnSeconds(), "s", scale.spawnSeconds() <= 3));
      t.add(
          target(
              n + " replies counted",
              "= " + scale.agents(),
              scale.repliesCounted(),
              "replies",
              scale.repliesCounted() == scale.agents()));
    }
    for (String scenario : List.of("1->1", settings.pairs() + " pairs")) {
      Results.Throughput cfn = find(throughputs, scenario, "cfn");
      Results.Throughput pekko = find(throughputs, scenario, "pekko");
      if (cfn != null && pekko != null) {
        double r = ratio(cfn.messagesPerSecond(), pekko.messagesPerSecond());
        t.add(target(scenario + " throughput vs pekko", ">= 1.5x", r, "x", r >= 1.5));
      }
    }
    Results.Throughput unbounded = find(throughputs, "1->1 unbounded", "cfn");
    Results.Throughput pekko11 = find(throughputs, "1->1", "pekko");
    if (unbounded != null && pekko11 != null) {
      double r = ratio(unbounded.messagesPerSecond(), pekko11.messagesPerSecond());
      t.add(target("1->1 (cfn unbounded mailbox) vs pekko", ">= 1.5x", r, "x", r >= 1.5));
    }
    Results.Latency rrCfn = find(latencies, "request-reply", "cfn", "default");
    Results.Latency rrPekko = find(latencies, "request-reply", "pekko", "default");
    if (rrCfn != null && rrPekko != null) {
      double r = ratio(rrCfn.p50Us(), rrPekko.p50Us());
      t.add(target("request-reply p50 (default) vs pekko", "<= 0.5x", r, "x", r <= 0.5));
    }
    Results.Latency chain = find(latencies, "forward-chain", "cfn", "default");
    if (chain != null) {
      t.add(
          target("forward-chain p50 per step", "<= 3 us", chain.p50Us(), "us", chain.p50Us() <= 3));
    }
    Results.Latency overLow = find(latencies, OVERSUBSCRIBED, "cfn", "low-latency");
    Results.Latency overDefault = find(latencies, OVERSUBSCRIBED, "cfn", "default");
    if (overLow != null && overDefault != null) {
      double r = ratio(overLow.p999Us(), overDefault.p999Us());
      t.add(target("oversubscribed p99.9, low-latency vs default", "<= 1.0x", r, "x", r <= 1.0));
    }
    for (String scenario : List.of("one-way", "request-reply")) {
      Results.Latency cfn = find(latencies, scenario, "cfn", "default");
      Results.Latency pekko = find(latencies, scenario, "pekko", "default");
      if (cfn != null && pekko != null) {
        double worst =
            Math.max(
                Math.max(ratio(cfn.p50Us(), pekko.p50Us()), ratio(cfn.p95Us(), pekko.p95Us())),
                Math.max(ratio(cfn.p99Us(), pekko.p99Us()), ratio(cfn.p999Us(), pekko.p999Us())));
        t.add(
            target(
                scenario + " latency (default) vs pekko, worst percentile ratio",
                "<= 1.0x",
                worst,
                "x",
                worst <= 1.0));
      }
    }
    return t;
  }

  private static Results.Target target(
      String name, String target, double measured, String unit, boolean met) {
    return new Results.Target(name, target, measured, unit, met);
  }

  private void printTables(
      List<Results.Latency> latencies,
      List<Results.Throughput> throughputs,
      Results.Scale scale,
      List<Results.Target> targets) {
    if (!latencies.isEmpty()) {
      out.println();
      out.println(
          "Latency (µs, from the intended send time; CPU in cores over the measured window)");
      out.printf(
          Locale.ROOT,
          "%-14s %-11s %-12s %9s %9s %9s %9s %9s %9s %9s %10s%n",
          "scenario",
          "system",
          "profile",
          "count",
          "p50",
          "p95",
          "p99",
          "p99.9",
          "max",
          "cpu",
          "cpu-rt");
      for (Results.Latency l : latencies) {
        out.printf(
            Locale.ROOT,
            "%-14s %-11s %-12s %9d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %10.2f%n",
            l.scenario(),
            l.system(),
            l.profile(),
            l.count(),
            l.p50Us(),
            l.p95Us(),
            l.p99Us(),
            l.p999Us(),
            l.maxUs(),
            l.processCpuCores(),
            l.runtimeCpuCores());
      }
      out.println(
          "(cpu = whole process incl. the spinning paced sender; cpu-rt = all but the sender;"
              + " forward-chain: one request at a time, figures per step of 3;"
              + " oversubscribed: one-way beside "
              + BUSY_THREADS
              + " busy threads)");
    }
    if (!throughputs.isEmpty()) {
      out.println();
      out.println("Saturation throughput (arrivals counted by the receiving agents)");
      out.printf(
          Locale.ROOT,
          "%-14s %-6s %14s %12s %8s %6s%n",
          "scenario",
          "system",
          "msg/s",
          "messages",
          "seconds",
          "cpu");
      for (Results.Throughput t : throughputs) {
        out.printf(
            Locale.ROOT,
            "%-14s %-6s %,14.0f %,12d %8.2f %6.2f%n",
            t.scenario(),
            t.system(),
            t.messagesPerSecond(),
            t.messages(),
            t.seconds(),
            t.processCpuCores());
      }
    }
    if (scale != null) {
      out.println();
      out.printf(
          Locale.ROOT,
          "Scale: %,d agents spawned in %.2f s (p50 %.2f µs, p99 %.2f µs per spawn);"
              + " heap %.0f bytes/agent idle, %.0f bytes/agent after one message each;"
              + " %,d replies counted in %.2f s%n",
          scale.agents(),
          scale.spawnSeconds(),
          scale.spawnP50Us(),
          scale.spawnP99Us(),
          scale.heapBytesPerAgent(),
          scale.heapBytesPerAgentAfterMessages(),
          scale.repliesCounted(),
          scale.messageRoundSeconds());
    }
    if (!targets.isEmpty()) {
      out.println();
      out.println("Targets");
      printTargets(out, targets);
    }
  }

  /**
   * The targets as an aligned table: each figure formatted for its unit (whole messages per second
   * and replies, two decimals for microseconds, seconds and ratios), right-aligned in one column.
   */
  static void printTargets(PrintStream out, List<Results.Target> targets) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"target", "wanted", "measured", "", ""});
    for (Results.Target t : targets) {
      rows.add(
          new String[] {
            t.name(),
            t.target(),
            measured(t.measured(), t.unit()),
            t.unit(),
            t.met() ? "MET" : "MISSED"
          });
    }
    int[] w = new int[5];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      out.println(
          String.format(
                  Locale.ROOT,
                  "  %-" + w[0] + "s  %-" + w[1] + "s  %" + w[2] + "s %-" + w[3] + "s  %s",
                  r[0],
                  r[1],
                  r[2],
                  r[3],
                  r[4])
              .stripTrailing());
    }
  }

  static String measured(double value, String unit) {
    if (Double.isNaN(value)) {
      return "-";
    }
    return switch (unit) {
      case "msg/s", "replies", "MiB" -> String.format(Locale.ROOT, "%,.0f", value);
      case "ms" -> String.format(Locale.ROOT, "%,.3f", value);
      default -> String.format(Locale.ROOT, "%,.2f", value);
    };
  }

  static void writeJson(Map<String, Object> json, Path file) throws Exception {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    mapper.writeValue(file.toFile(), json);
  }
}
