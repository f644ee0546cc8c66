package dev.cfn.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn bench bus|reliable|agents|flow|jmh|server}: runs the benchmark jar in a JVM of its
 * own, with a fixed heap and the same JDK, so a measurement never shares a heap or JIT profile with
 * the command itself and its JVM settings are printed with the results. The benchmark peers (Apache
 * Pekko, LangChain4j) live only in that jar.
 *
 * <p>The options are declared (and checked) here as well as in the jar's {@code BenchMain}, so that
 * a bad value is reported at once, before a 2 GB benchmark JVM starts; the checked options are then
 * passed on to the jar as given.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measures cfn on this machine, side by side with Apache Pekko and LangChain4j, in a JVM of"
          + " its own.",
      "JVM options for the benchmark JVM come from CFN_BENCH_JVM_OPTS"
          + " (default: -Xms2g -Xmx2g -XX:+AlwaysPreTouch)."
    },
    subcommands = {
      BenchCommand.Bus.class,
      BenchCommand.Reliable.class,
      BenchAgentsCommand.class,
      BenchCommand.Flow.class,
      BenchCommand.Jmh.class,
      BenchCommand.Server.class,
      BenchClusterCommand.class
    })
final class BenchCommand extends CommandGroup {
  static final String DEFAULT_JVM_OPTS = "-Xms2g -Xmx2g -XX:+AlwaysPreTouch";

  /** Scenario names {@code bench bus --only} accepts (as in the jar's BusBench). */
  static final List<String> SCENARIOS =
      List.of("one-way", "request-reply", "1to1", "pairs", "scale");

  /** Runs the benchmark jar with {@code args}; returns its exit status. */
  static int runJar(List<String> args) throws Exception {
    Path jar = benchJar();
    if (!Files.isRegularFile(jar)) {
      throw CommandFailure.usage(
          "the benchmark jar " + jar + " is missing",
          "build it with ./mvnw -B -DskipTests package; the ./cfn launcher does this when it is"
              + " stale");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    String opts = System.getenv().getOrDefault("CFN_BENCH_JVM_OPTS", DEFAULT_JVM_OPTS);
    for (String o : opts.trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    if (Runtime.version().feature() >= 23 && !opts.contains("sun-misc-unsafe-memory-access")) {
      // Pekko and Scala use sun.misc.Unsafe; allow it quietly rather than print warnings.
      cmd.add("--sun-misc-unsafe-memory-access=allow");
    }
    cmd.add("--enable-native-access=ALL-UNNAMED"); // sqlite-jdbc loads a native library
    if (Logging.childFlag() != null) {
      cmd.add(Logging.childFlag());
    }
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    return p.waitFor();
  }

  static Path benchJar() {
    String home = System.getProperty("cfn.home");
    Path root = home != null ? Path.of(home) : Path.of(".");
    return root.resolve("cfn-bench/target/cfn-bench.jar").toAbsolutePath().normalize();
  }

  /**
   * The arguments of one run of the benchmark jar: each option is checked as it is added (so a bad
   * value is refused before the jar starts) and then passed on as given; an option whose value is
   * null (or a flag that is off) is left out.
   */
  static final class JarArgs {
    private final List<String> args = new ArrayList<>();

    JarArgs(String command) {
      args.add(command);
    }

    JarArgs flag(String option, boolean on) {
      if (on) {
        args.add(option);
      }
      return this;
    }

    /** A file the jar writes: its folder must exist; passed on as an absolute path. */
    JarArgs outputFile(String option, Path file) {
      if (file != null) {
        args.addAll(
            List.of(option, PathChecks.outputFile(option, file).toAbsolutePath().toString()));
      }
      return this;
    }

    /** A folder, made if missing; passed on as an absolute path. */
    JarArgs folder(String option, Path dir) {
      if (dir != null) {
        args.addAll(List.of(option, PathChecks.folder(option, dir).toAbsolutePath().toString()));
      }
      return this;
    }

    JarArgs atLeast(String option, Integer value, int min) {
      if (value != null) {
        ValueConverters.atLeast(option, value, min);
        args.addAll(List.of(option, value.toString()));
      }
      return this;
    }

    /** A comma-separated list of numbers, each at least {@code min}. */
    JarArgs eachAtLeast(String option, int[] values, int min) {
      if (values != null) {
        for (int n : values) {
          ValueConverters.atLeast(option, n, min);
        }
        ints(option, values);
      }
      return this;
    }

    /** A comma-separated list of numbers the caller has checked. */
    JarArgs ints(String option, int[] values) {
      if (values != null) {
        args.addAll(
            List.of(
                option,
                String.join(",", Arrays.stream(values).mapToObj(Integer::toString).toList())));
      }
      return this;
    }

    /** A comma-separated list of scenario names, each one of {@code known}. */
    JarArgs scenarios(String option, List<String> names, List<String> known) {
      if (names != null) {
        for (String name : names) {
          if (!known.contains(name)) {
            throw CommandFailure.usage(
                "unknown scenario '" + name + "' for " + option,
                "choose from " + String.join(", ", known));
          }
        }
        args.addAll(List.of(option, String.join(",", names)));
      }
      return this;
    }

    /** Runs the jar with these arguments; returns its exit status. */
    int run() throws Exception {
      return runJar(args);
    }
  }

  @Command(
      name = "bus",
      mixinStandardHelpOptions = true,
      description = {
        "End-to-end bus scenarios through the real runtime, beside Pekko typed actors in the same"
            + " run: paced one-way and request-reply latency (default and low-latency idle"
            + " profiles), saturation throughput 1->1 and in pairs, and a million agents.",
        "The full run takes about 4 minutes; --quick under one."
      })
  static final class Bus implements Callable<Integer> {
    @Option(names = "--quick", description = "A run under 60 s (shorter measuring windows).")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
    Path json;

    @Option(
        names = "--rate",
        paramLabel = "MSG_PER_S",
        description = "Paced rate of the latency scenarios (default 10000).")
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
        description = "Run only these: one-way, request-reply, 1to1, pairs, scale (default: all).")
    List<String> only;

    @Override
    public Integer call() throws Exception {
      return new JarArgs("bus")
          .flag("--quick", quick)
          .outputFile("--json", json)
          .atLeast("--rate", rate, 1)
          .atLeast("--agents", agents, 1)
          .flag("--no-pekko", noPekko)
          .scenarios("--only", only, SCENARIOS)
          .run();
    }
  }

  @Command(
      name = "reliable",
      mixinStandardHelpOptions = true,
      description = {
        "RELIABLE messages on a SQLite journal (fsync per group commit): durable send throughput"
            + " with 1, 16 and 256 senders, and paced latency at 1k and 10k msg/s.",
        "The journals go to a temporary folder, removed after a successful run (kept, and named,"
            + " after a failed one)."
      })
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
    int[] senders;

    @Option(
        names = "--rates",
        split = ",",
        paramLabel = "MSG_PER_S",
        description = "Rates of the paced latency runs (default: 1000,10000; 0 for none).")
    int[] rates;

    @Option(
        names = "--encrypted",
        description =
            "Also run every scenario with encryption at rest (payloads sealed with AES-256-GCM"
                + " under a keyring made in the bench folder), each right after its plain run, with"
                + " the cost against it.")
    boolean encrypted;

    @Override
    public Integer call() throws Exception {
      return new JarArgs("reliable")
          .flag("--quick", quick)
          .flag("--encrypted", encrypted)
          .outputFile("--json", json)
          .folder("--dir", dir)
          .eachAtLeast("--senders", senders, 1)
          .eachAtLeast("--rates", rates, 0)
          .run();
    }
  }

  @Command(
      name = "flow",
      mixinStandardHelpOptions = true,
      description = {
        "Orchestration (cfn-flow): overhead per agent step of BEST_EFFORT task graphs (sequence"
            + " of 3, fan-out of 10, loop of 5) beside LangChain4j agentic in the same run; RELIABLE"
            + " graphs of 10,000 tasks on a SQLite journal (tasks/s, step P99; the run coordinator's"
            + " batched commits against one commit per message); a swarm round of 10,000 members.",
        "The full run takes about 3 minutes on a quiet machine; --quick about one."
      })
  static final class Flow implements Callable<Integer> {
    @Option(names = "--quick", description = "Shorter windows and fewer rounds.")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
    Path json;

    @Override
    public Integer call() throws Exception {
      return new JarArgs("flow").flag("--quick", quick).outputFile("--json", json).run();
    }
  }

  @Command(
      name = "server",
      mixinStandardHelpOptions = true,
      description = {
        "The HTTP API of cfn serve on loopback: requests/s and P50/P99 of an authenticated send"
            + " and a request round trip with 1, 16 and 256 clients, over TLS 1.3 and plain HTTP"
            + " in the same run; RELIABLE sends over TLS with records plain and sealed at rest"
            + " (a keyring), back to back; P50/P99/P99.9 at a fixed rate (1,000/s), corrected for"
            + " coordinated omission (HdrHistogram).",
        "The full run takes about 6 minutes; --quick about 2."
      })
  static final class Server implements Callable<Integer> {
    @Option(names = "--quick", description = "Shorter measuring windows.")
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
      return new JarArgs("server")
          .flag("--quick", quick)
          .atLeast("--rate", rate, 1)
          .outputFile("--json", json)
          .run();
    }
  }

  @Command(
      name = "jmh",
      description = {
        "Runs the JMH microbenchmarks (mailbox, dispatch); every other argument goes to JMH,"
            + " e.g. cfn bench jmh -f 1 -wi 3 -i 5 -rf json -rff jmh.json",
        "cfn bench jmh -h lists JMH's own options."
      })
  static final class Jmh implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--help", usageHelp = true, description = "Show this help (JMH's: -h).")
    boolean help;

    @CommandLine.Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      List<String> all = new ArrayList<>(List.of("jmh"));
      all.addAll(args);
      return runJar(all);
    }
  }
}
