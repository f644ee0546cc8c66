package dev.cfn.bench;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of the benchmark jar, normally reached through {@code ./cfn bench ...}, which runs it
 * in a JVM of its own with fixed heap settings.
 */
@Command(
    name = "cfn bench",
    mixinStandardHelpOptions = true,
    description = "Measures cfn on this machine, side by side with Apache Pekko.",
    subcommands = {
      BenchMain.Bus.class,
      BenchMain.Reliable.class,
      AgentsCommand.class,
      BenchMain.Flow.class,
      BenchMain.Jmh.class,
      BenchMain.Server.class
    })
public final class BenchMain implements Callable<Integer> {

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** Runs the benchmark command line; exits with its status. */
  public static void main(String[] args) {
    if (System.getProperty("org.slf4j.simpleLogger.log.org.apache.pekko") == null) {
      System.setProperty("org.slf4j.simpleLogger.log.org.apache.pekko", "warn");
    }
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line, with cfn's error convention: a bad argument or a failure is one line, {@code
   * cfn bench <command>: what is wrong (fix: ...)}, exit 2 for bad usage and 1 for a failed run
   * (the stack trace only with {@code -Dcfn.debug=true}).
   */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new BenchMain());
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          ex.getCommandLine()
              .getErr()
              .println(
                  ex.getCommandLine().getCommandSpec().qualifiedName()
                      + ": "
                      + ex.getMessage()
                      + " (fix: "
                      + ex.getCommandLine().getCommandSpec().qualifiedName()
                      + " --help)");
          return 2;
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (Boolean.getBoolean("cfn.debug")) {
            ex.printStackTrace(cmd.getErr());
          }
          boolean usage = ex instanceof IllegalArgumentException;
          cmd.getErr()
              .println(
                  cmd.getCommandSpec().qualifiedName()
                      + ": "
                      + (usage ? "" : "failed: " + ex.getClass().getSimpleName() + ": ")
                      + String.valueOf(ex.getMessage()).replaceAll("\\s*\\R\\s*", " "));
          return usage ? 2 : 1;
        });
    return cl;
  }

  /** Refuses {@code value < min} for option {@code name}. */
  static void atLeast(String name, long value, long min) {
    if (value < min) {
      throw new IllegalArgumentException(
          name
              + " must be at least "
              + min
              + ", was "
              + value
              + " (fix: give "
              + name
              + " "
              + min
              + ")");
    }
  }

  /** Refuses a folder, or a path under a file, as the --json output. */
  static void outputFile(String name, Path file) {
    if (java.nio.file.Files.isDirectory(file)) {
      throw new IllegalArgumentException(
          name
              + " "
              + file
              + " is a folder (fix: give a file name, e.g. "
              + file.resolve("out.json")
              + ")");
    }
  }

  /** Deletes a folder and everything in it. */
  static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = java.nio.file.Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(p);
      }
    }
  }

  @Command(
      name = "bus",
      mixinStandardHelpOptions = true,
      description =
          "End-to-end bus scenarios through the real runtime: paced one-way and request-reply"
              + " latency (default and low-latency idle profiles), the same beside busy threads,"
              + " saturation throughput 1->1 and in pairs, a 3-agent forward chain, a million"
              + " agents; the same on Pekko typed actors (the chain on LangChain4j agentic) in"
              + " the same run.")
  static final class Bus implements Callable<Integer> {
    @Option(
        names = "--quick",
        description = "A shorter run, about 90 s (shorter measuring windows).")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
    Path json;

    @Option(
        names = "--rate",
        paramLabel = "MSG_PER_S",
        description = "Paced rate for the latency scenarios (default 10000).")
    Integer rate;

    @Option(
        names = "--agents",
        paramLabel = "N",
        description = "Agents in the scale scenario (default 1000000).")
    Integer agents;

    @Option(names = "--no-pekko", description = "Skip the Pekko side (no ratios then).")
    boolean noPekko;

    @Option(
        names = "--only",
        split = ",",
        paramLabel = "SCENARIO",
        description =
            "Run only these: one-way, request-reply, 1to1 (cfn bounded and unbounded), pairs,"
                + " scale, chain (3-agent forward chain beside LangChain4j agentic),"
                + " oversubscribed (one-way beside 2 busy threads) (default all).")
    java.util.List<String> only;

    @Override
    public Integer call() throws Exception {
      if (rate != null) {
        atLeast("--rate", rate, 1);
      }
      if (agents != null) {
        atLeast("--agents", agents, 1);
      }
      if (json != null) {
        outputFile("--json", json);
      }
      BusBench.Settings s = quick ? BusBench.Settings.quick() : BusBench.Settings.full();
      if (rate != null || agents != null || noPekko) {
        s =
            new BusBench.Settings(
                rate != null ? rate : s.rate(),
                s.latencyWarmup(),
                s.latencyMeasure(),
                s.throughputWarmup(),
                s.throughputMeasure(),
                s.window(),
                s.pairs(),
                s.inFlightPerPair(),
                agents != null ? agents : s.scaleAgents(),
                !noPekko);
      }
      var bench =
          only == null
              ? new BusBench(s, System.out)
              : new BusBench(s, System.out, java.util.Set.copyOf(only));
      var result = bench.run();
      if (json != null) {
        BusBench.writeJson(result, json);
        System.out.println("wrote " + json.toAbsolutePath());
      }
      return 0;
    }
  }

  @Command(
      name = "reliable",
      mixinStandardHelpOptions = true,
      description =
          "RELIABLE messages on a SQLite journal (fsync per group commit): durable send"
              + " throughput with 1, 16 and 256 senders, paced latency at 1k and 10k msg/s.")
  static final class Reliable implements Callable<Integer> {
    @Option(names = "--quick", description = "Shorter windows (about 30 s in all).")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
    Path json;

    @Option(
        names = "--dir",
        paramLabel = "DIR",
        description = "Where the journals go, kept afterwards (default: a temporary folder).")
    Path dir;

    @Option(
        names = "--senders",
        split = ",",
        paramLabel = "N",
        description = "Concurrent senders of the throughput runs (default: 1,16,256).")
    int[] senders = {1, 16, 256};

    @Option(
        names = "--rates",
        split = ",",
        paramLabel = "MSG_PER_S",
        description = "Rates of the paced latency runs (default: 1000,10000; 0 for none).")
    int[] rates = {1_000, 10_000};

    @Option(
        names = "--encrypted",
        description =
            "Also run every scenario with encryption at rest (AES-256-GCM payloads), beside the"
                + " plain run.")
    boolean encrypted;

    @Override
    public Integer call() throws Exception {
      for (int n : senders) {
        atLeast("--senders", n, 1);
      }
      for (int n : rates) {
        atLeast("--rates", n, 0);
      }
      if (json != null) {
        outputFile("--json", json);
      }
      if (dir != null && java.nio.file.Files.exists(dir) && !java.nio.file.Files.isDirectory(dir)) {
        throw new IllegalArgumentException(
            "--dir "
                + dir
                + " is a file, not a folder (fix: give a folder; it is created if missing)");
      }
      Path work =
          dir != null
              ? java.nio.file.Files.createDirectories(dir)
              : java.nio.file.Files.createTempDirectory("cfn-bench-reliable");
      boolean done = false;
      try {
        java.time.Duration warm = java.time.Duration.ofSeconds(quick ? 1 : 3);
        java.time.Duration measure = java.time.Duration.ofSeconds(quick ? 3 : 10);
        var result =
            new ReliableBench(work, warm, measure, System.out, encrypted).run(senders, rates);
        if (json != null) {
          BusBench.writeJson(result, json);
          System.out.println("wrote " + json.toAbsolutePath());
        }
        done = true;
        return 0;
      } finally {
        if (dir == null) {
          if (done) {
            deleteTree(work); // the journals are scratch: 7 MB a run
          } else {
            System.err.println("cfn bench reliable: kept the journals in " + work);
          }
        }
      }
    }
  }

  @Command(
      name = "flow",
      mixinStandardHelpOptions = true,
      description =
          "Orchestration: overhead per agent step of BEST_EFFORT task graphs (sequence of 3,"
              + " fan-out of 10, loop of 5) beside LangChain4j agentic in the same run; a RELIABLE"
              + " graph of 10,000 tasks (tasks/s, step P99; batched coordinator against one commit"
              + " per message); a swarm round of 10,000 members.")
  static final class Flow implements Callable<Integer> {
    @Option(names = "--quick", description = "Shorter windows (about a minute in all).")
    boolean quick;

    @Option(
        names = "--overhead-only",
        description =
            "Only the overhead per agent step (cfn and LangChain4j): no durable graphs, no round.")
    boolean overheadOnly;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
    Path json;

    @Override
    public Integer call() throws Exception {
      if (json != null) {
        outputFile("--json", json);
      }
      var result =
          new FlowBench(
                  quick ? FlowBench.Settings.quick() : FlowBench.Settings.full(),
                  System.out,
                  overheadOnly)
              .run();
      if (json != null) {
        BusBench.writeJson(result, json);
        System.out.println("wrote " + json.toAbsolutePath());
      }
      return 0;
    }
  }

  @Command(
      name = "server",
      mixinStandardHelpOptions = true,
      description =
          "The HTTP API of cfn serve on loopback: requests/s and P50/P99 of an authenticated send"
              + " and a request round trip with 1, 16 and 256 clients, over TLS 1.3 and plain HTTP"
              + " in the same run; P50/P99 at a fixed rate, corrected for coordinated omission.")
  static final class Server implements Callable<Integer> {
    @Option(names = "--quick", description = "Shorter windows (about a minute and a half).")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
    Path json;

    @Option(
        names = "--rate",
        paramLabel = "REQ_PER_S",
        description = "The fixed rate of the latency runs (default 1000).")
    Integer rate;

    @Override
    public Integer call() throws Exception {
      if (json != null) {
        outputFile("--json", json);
      }
      if (rate != null) {
        atLeast("--rate", rate, 1);
      }
      ServerBench.Settings s = quick ? ServerBench.Settings.quick() : ServerBench.Settings.full();
      if (rate != null) {
        s = new ServerBench.Settings(s.warmup(), s.measure(), rate, s.rateMeasure());
      }
      var result = new ServerBench(s, System.out).run();
      if (json != null) {
        BusBench.writeJson(result, json);
        System.out.println("wrote " + json.toAbsolutePath());
      }
      return 0;
    }
  }

  @Command(
      name = "jmh",
      description =
          "Runs the JMH microbenchmarks (mailbox, dispatch); every argument goes to JMH,"
              + " e.g. -f 1 -wi 3 -i 5 -rf json -rff jmh.json")
  static final class Jmh implements Callable<Integer> {
    @CommandLine.Unmatched java.util.List<String> args = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      org.openjdk.jmh.Main.main(args.toArray(String[]::new));
      return 0;
    }
  }
}
