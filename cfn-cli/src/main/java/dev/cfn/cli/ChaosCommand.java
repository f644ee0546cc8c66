package dev.cfn.cli;

import dev.cfn.core.spi.Journal;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cfn chaos ...}: fault injection against a real runtime. */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = "Fault injection against a real runtime.",
    subcommands = {
      ChaosCommand.Crash.class,
      ChaosClusterCommand.class,
      ChaosCommand.Graph.class,
      ChaosCommand.Loop.class,
      ChaosCommand.Worker.class
    })
final class ChaosCommand extends CommandGroup {

  /** A scenario's run in its work folder, answering the exit code. */
  @FunctionalInterface
  interface ScenarioRun {
    int run(Path work) throws Exception;
  }

  /**
   * Checks the kill options, then runs a scenario in {@code --dir} or in a temporary folder, which
   * is deleted when the scenario passed and kept (and named on standard error) when it failed, so
   * that its journal can be examined. A worker that stopped or never printed what was awaited is a
   * failure (exit 1) naming its log.
   */
  static int inWorkFolder(
      CommandSpec spec, String scenario, KillOptions kill, ScenarioRun scenarioRun)
      throws Exception {
    kill.check();
    if (kill.json != null) {
      PathChecks.outputFile("--json", kill.json);
    }
    if (kill.dir != null) {
      PathChecks.folder("--dir", kill.dir);
    }
    Path work =
        kill.dir != null
            ? Files.createDirectories(kill.dir)
            : Files.createTempDirectory("cfn-chaos");
    boolean passed = false;
    try {
      passed = scenarioRun.run(work) == ExitCode.OK;
      return passed ? ExitCode.OK : ExitCode.FAILED;
    } catch (ChildJvm.Failure e) {
      throw CommandFailure.failed(e.problem(), "see its log " + e.log());
    } finally {
      if (kill.dir == null) {
        if (passed) {
          Crash.deleteTree(work);
        } else {
          spec.commandLine()
              .getErr()
              .println("cfn chaos " + scenario + ": kept the work folder " + work);
          spec.commandLine().getErr().flush();
        }
      }
    }
  }

  /** The prefix of a worker's one-line error on standard error. */
  static final String WORKER_ERROR = "cfn chaos worker: ";

  /**
   * Starts a worker JVM running {@code main} with {@code args} on this JVM's class path, its
   * standard error appended to {@code log}; {@code useArchive} maps classes from an AOT cache,
   * {@code writeArchive} writes one at a normal exit (either may be null).
   */
  static ChildJvm launch(
      Class<?> main, List<String> args, Path log, Path useArchive, Path writeArchive)
      throws IOException {
    return ChildJvm.of(main.getName(), args)
        .nodeDefaults()
        .logTo(log)
        .named("worker", WORKER_ERROR)
        .jvmOption(Logging.childFlag()) // -v and --debug reach the worker's log too
        .jvmOption(useArchive == null ? null : "-XX:AOTCache=" + useArchive)
        .jvmOption(writeArchive == null ? null : "-XX:AOTCacheOutput=" + writeArchive)
        .start();
  }

  /** Kills a worker JVM at random moments and checks the journal for losses and duplicates. */
  @Command(
      name = "crash",
      mixinStandardHelpOptions = true,
      description = {
        "SIGKILLs a worker JVM running reliable agents N times and checks that nothing was lost or"
            + " duplicated.",
        "The worker runs producers that send numbered messages through their outbox and consumers"
            + " that commit one effect per message, on a SQLite journal. It is killed at random"
            + " moments and restarted each time, then left to finish; every acknowledged send must"
            + " have exactly one effect. Exits 1 if anything was lost or duplicated.",
        "Without --dir the work folder is temporary: removed after a pass, kept (and named) after"
            + " a failure."
      })
  static final class Crash implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin KillOptions kill = new KillOptions(25, 50, 600);

    @Option(
        names = "--chains",
        paramLabel = "N",
        description = "Producer/consumer pairs (default ${DEFAULT-VALUE}).")
    int chains = 4;

    @Override
    public Integer call() throws Exception {
      ValueConverters.atLeast("--chains", chains, 1);
      return inWorkFolder(spec, "crash", kill, this::run);
    }

    private int run(Path work) throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      Path db = work.resolve("chaos.db");
      Path stop = work.resolve("stop");
      Files.deleteIfExists(stop);
      KillLoop loop = new KillLoop(kill);
      out.printf(
          Locale.ROOT,
          "cfn chaos crash: %d kills, %d chains, work folder %s, seed %d%n",
          kill.kills,
          chains,
          work,
          loop.seed);
      Path archive = classArchive(work, chains, spec.commandLine().getErr());
      loop.run(
          out,
          "first-handled ",
          "idle",
          (k, last) -> {
            if (last) {
              Files.writeString(stop, "stop");
            }
            Path log = work.resolve("worker-" + k + ".log");
            return crashWorker(db, stop, chains, k == 0, log, archive, null);
          },
          (child, k) -> loop.pause());
      Verdict v = verify(db, chains);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("command", "cfn chaos crash");
      result.put("finished", Instant.now().toString());
      result.put("machine", machine());
      loop.putFigures(result);
      result.put("chains", chains);
      result.put("messages", v.messages);
      result.put("lost", v.lost);
      result.put("deadLettered", v.deadLettered);
      result.put("duplicated", v.duplicated);
      result.put("pendingAtEnd", v.pending);
      result.put("classDataSharing", archive != null);
      result.put(
          "recoveryMeasuredAs",
          "wall-clock time from the SIGKILL to the first handler call in the restarted JVM"
              + " (includes JVM start); journalRecoveryMs is the runtime's own recovery step");
      out.printf(
          Locale.ROOT,
          "kills %d, messages %d, lost %d, duplicated %d, pending at end %d, redeliveries %d,"
              + " dead letters %d%n"
              + "recovery (SIGKILL to first message handled after restart) ms: %s%n"
              + "journal recovery inside the runtime ms: %s%n",
          kill.kills,
          v.messages,
          v.lost,
          v.duplicated,
          v.pending,
          loop.redelivered,
          v.deadLettered,
          percentiles(loop.recoveryMs),
          percentiles(loop.journalRecoveryMs));
      kill.writeFigures(result, out);
      boolean ok = v.lost == 0 && v.duplicated == 0 && v.pending == 0 && v.messages > 0;
      out.println(ok ? "PASS: nothing lost, nothing duplicated" : "FAIL");
      out.flush();
      return ok ? ExitCode.OK : ExitCode.FAILED;
    }

    static void deleteTree(Path root) throws IOException {
      try (var paths = Files.walk(root)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }

    /**
     * What the journal says after the last worker: {@code lost} counts the gaps in each consumer's
     * sequence, {@code deadLettered} the messages the retry policy gave up on (a gap with a dead
     * letter behind it was not lost silently: the dead-letter queue holds it, with its cause).
     */
    record Verdict(long messages, long lost, long duplicated, long pending, long deadLettered) {}

    /**
     * Runs the worker once to completion on a scratch journal with {@code -XX:AOTCacheOutput} (JEP
     * 514), so that every restarted worker maps the classes it loads, already linked, from an
     * ahead-of-time cache instead of loading and verifying them again: what a deployment would do
     * for fast restarts. The cache is only written at a normal exit, which the killed workers never
     * reach, hence the separate run. An AOT cache records the training run's module options, so
     * workers started with the same {@code --enable-native-access} use it silently (the dynamic
     * AppCDS archive used before sat on the JDK's base archive, dumped without that option, and
     * every worker logged three "Mismatched values ... native.access" errors). Returns null (and
     * workers start without it) when the JVM could not write one.
     */
    static Path classArchive(Path work, int chains, PrintWriter err)
        throws IOException, InterruptedException {
      Path archive = work.resolve("worker.aot");
      for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
        if (Files.isDirectory(Path.of(entry))) {
          err.println(
              "cfn chaos crash: no ahead-of-time class cache: the class path holds the folder "
                  + entry
                  + " (the JVM caches classes from jars only; ./cfn runs the jar), so recovery"
                  + " includes full class loading");
          err.flush();
          return null;
        }
      }
      Path scratch = Files.createDirectories(work.resolve("cds-training"));
      Path stop = scratch.resolve("stop");
      Files.writeString(stop, "stop"); // the worker exits once its chains are idle
      ChildJvm child =
          crashWorker(
              scratch.resolve("train.db"),
              stop,
              chains,
              true,
              scratch.resolve("worker.log"),
              null,
              archive);
      try {
        child.await("idle", 120);
        int code = child.exitWithin(120);
        if (code == 0 && Files.size(archive) > 0) {
          return archive;
        }
      } catch (ChildJvm.Failure | IOException e) {
        // fall through: workers start without the archive
      }
      err.println(
          "cfn chaos crash: no ahead-of-time class cache (see "
              + scratch.resolve("worker.log")
              + "); workers start without one, so recovery includes full class loading");
      err.flush();
      return null;
    }

    static Verdict verify(Path db, int chains) {
      try (SqliteJournal journal =
          SqliteJournal.builder(db)
              .payloadType(CrashWorker.Tick.class, CrashWorker.Item.class)
              .open()) {
        List<Journal.JournalEntry> pending = journal.recover();
        long messages = 0;
        long lost = 0;
        long duplicated = 0;
        for (int c = 0; c < chains; c++) {
          String ns = "consumer/" + c;
          long max = 0;
          Map<Long, Long> counts = new LinkedHashMap<>();
          for (String key : journal.stateKeys(ns)) {
            long n = Long.parseLong(key);
            long count = Long.parseLong(journal.state(ns, key).orElse("0"));
            counts.put(n, count);
            max = Math.max(max, n);
          }
          messages += counts.size();
          lost += max - counts.size();
          for (long count : counts.values()) {
            duplicated += Math.max(0, count - 1);
          }
        }
        return new Verdict(
            messages, lost, duplicated, pending.size(), journal.deadLetterQueue().list().size());
      }
    }

    static Map<String, Object> percentiles(List<Double> values) {
      Map<String, Object> m = new LinkedHashMap<>();
      if (values.isEmpty()) {
        return m;
      }
      List<Double> sorted = new ArrayList<>(values);
      Collections.sort(sorted);
      m.put("count", sorted.size());
      m.put("p50", sorted.get((int) Math.ceil(0.50 * sorted.size()) - 1));
      m.put("p99", sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1));
      m.put("max", sorted.get(sorted.size() - 1));
      return m;
    }

    static Map<String, Object> machine() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("cores", Runtime.getRuntime().availableProcessors());
      m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
      m.put("jdk", Runtime.version().toString());
      return m;
    }
  }

  /** Kills a worker JVM in the middle of RELIABLE task graphs and checks every task ran once. */
  @Command(
      name = "graph",
      mixinStandardHelpOptions = true,
      description = {
        "SIGKILLs a worker JVM running RELIABLE task graphs N times and checks that every run"
            + " completes and that no task's effects were applied twice.",
        "Each worker resumes the runs its predecessors left and starts one more (a chain of 4"
            + " tasks, a fan-out of --width tasks, a join), on a SQLite journal; each task's agent"
            + " counts its executions in its journal state. It is killed at random moments, then"
            + " a last worker finishes every run. Exits 1 if a run did not complete or a task ran"
            + " twice.",
        "Without --dir the work folder is temporary: removed after a pass, kept (and named) after"
            + " a failure."
      })
  static final class Graph implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin KillOptions kill = new KillOptions(10, 20, 400);

    @Option(
        names = "--width",
        paramLabel = "N",
        description = "Tasks in each graph's fan-out (default ${DEFAULT-VALUE}).")
    int width = 50;

    /** The most tasks a graph's fan-out may have here. */
    static final int MAX_WIDTH = 10_000;

    @Override
    public Integer call() throws Exception {
      ValueConverters.atLeast("--width", width, 1);
      if (width > MAX_WIDTH) {
        throw CommandFailure.usage(
            "--width " + width + " is more than " + MAX_WIDTH, "give at most " + MAX_WIDTH);
      }
      return inWorkFolder(spec, "graph", kill, this::run);
    }

    private ChildJvm start(Path db, int index, boolean last, Path work) throws IOException {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--db",
                  db.toString(),
                  "--index",
                  Integer.toString(index),
                  "--width",
                  Integer.toString(width)));
      if (last) {
        args.add("--last");
      }
      return launch(
          GraphChaosWorker.class, args, work.resolve("worker-" + index + ".log"), null, null);
    }

    private int run(Path work) throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      Path db = work.resolve("graph-chaos.db");
      KillLoop loop = new KillLoop(kill);
      int[] midGraph = {0};
      out.printf(
          Locale.ROOT,
          "cfn chaos graph: %d kills, graphs of %d tasks, work folder %s, seed %d%n",
          kill.kills,
          GraphChaosWorker.CHAIN + width + 1,
          work,
          loop.seed);
      loop.run(
          out,
          "first-handled ",
          "all-done",
          (k, last) -> start(db, k, last, work),
          (child, k) -> {
            loop.pause();
            if (!child.printed("all-done")) {
              midGraph[0]++;
            }
          });
      Verdict v = verify(db, kill.kills + 1, width);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("command", "cfn chaos graph");
      result.put("finished", Instant.now().toString());
      result.put("machine", Crash.machine());
      loop.putFigures(result);
      result.put("killsMidGraph", midGraph[0]);
      result.put("runs", v.runs);
      result.put("tasksPerRun", GraphChaosWorker.CHAIN + width + 1);
      result.put("tasks", v.tasks);
      result.put("runsIncomplete", v.incomplete);
      result.put("tasksNotRun", v.notRun);
      result.put("duplicated", v.duplicated);
      result.put("pendingAtEnd", v.pending);
      result.put(
          "recoveryMeasuredAs",
          "wall-clock time from the SIGKILL to the first task executed in the restarted JVM"
              + " (includes JVM start); journalRecoveryMs is the runtime's own recovery step");
      out.printf(
          Locale.ROOT,
          "kills %d (%d mid-graph), runs %d, tasks %d, runs incomplete %d, tasks not run %d,"
              + " duplicated %d, pending at end %d, redeliveries %d%n"
              + "recovery (SIGKILL to first task executed after restart) ms: %s%n"
              + "journal recovery inside the runtime ms: %s%n",
          kill.kills,
          midGraph[0],
          v.runs,
          v.tasks,
          v.incomplete,
          v.notRun,
          v.duplicated,
          v.pending,
          loop.redelivered,
          Crash.percentiles(loop.recoveryMs),
          Crash.percentiles(loop.journalRecoveryMs));
      kill.writeFigures(result, out);
      boolean ok =
          v.incomplete == 0 && v.notRun == 0 && v.duplicated == 0 && v.pending == 0 && v.runs > 0;
      out.println(ok ? "PASS: every run completed, no task's effects applied twice" : "FAIL");
      out.flush();
      return ok ? ExitCode.OK : ExitCode.FAILED;
    }

    record Verdict(
        long runs, long tasks, long incomplete, long notRun, long duplicated, long pending) {}

    /**
     * Reads the journal: every run {@code run-0} to {@code run-(runs-1)} must have SUCCEEDED, and
     * every task's agent must have counted exactly one execution.
     */
    static Verdict verify(Path db, int runs, int width) {
      try (SqliteJournal journal = GraphChaosWorker.journal(db)) {
        long tasks = 0;
        long incomplete = 0;
        long notRun = 0;
        long duplicated = 0;
        List<String> ids = GraphChaosWorker.taskIds(width);
        for (int r = 0; r < runs; r++) {
          String runId = "run-" + r;
          String status = journal.state("cfn-flow-run/" + runId, "status").orElse("NOT STARTED");
          if (!status.equals("SUCCEEDED")) {
            incomplete++;
          }
          for (String task : ids) {
            tasks++;
            long n = Long.parseLong(journal.state("tally/" + runId + "." + task, "n").orElse("0"));
            if (n == 0) {
              notRun++;
            }
            duplicated += Math.max(0, n - 1);
          }
        }
        return new Verdict(runs, tasks, incomplete, notRun, duplicated, journal.recover().size());
      }
    }
  }

  /**
   * Kills a worker JVM in the middle of CFN Loops and checks that every run completes, no step is
   * recorded twice, no model call is made again beyond the call log's window, and the swarm ledger
   * the agents are charged to, restored after the last worker, counts the server's requests less at
   * most the calls in flight at the kills.
   */
  @Command(
      name = "loop",
      mixinStandardHelpOptions = true,
      description = {
        "SIGKILLs a worker JVM running CFN Loops N times and checks that every run completes, no"
            + " step is recorded twice and no model call is repeated beyond the documented window.",
        "The worker's agents are LlmAgents with a durable call log, asking a scripted model server"
            + " this process runs on loopback (the coder misses the gate twice, the validators"
            + " approve, the owner proceeds: 6 steps a run). Each worker resumes the runs its"
            + " predecessors left and starts one more. The only model calls allowed twice are those"
            + " in flight at a kill, whose records had not committed: at most 2 per unfinished run"
            + " at each kill.",
        "The agents are charged to a durable swarm budget; after the last worker its ledger is"
            + " restored and compared with the model server's count: it may count fewer calls, by"
            + " at most the calls in flight at the kills, and never more (docs/operations.md"
            + " section 8). Exits 1 when any check fails.",
        "Without --dir the work folder is temporary: removed after a pass, kept (and named) after"
            + " a failure."
      })
  static final class Loop implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin KillOptions kill = new KillOptions(10, 20, 300);

    @Option(
        names = "--reply-ms",
        paramLabel = "MS",
        description = "How long the model server takes per answer, ms (default ${DEFAULT-VALUE}).")
    int replyMs = 25;

    /** Kills after this many recorded answers (tests), instead of at random moments. */
    @Option(names = "--kill-after-answers", hidden = true, paramLabel = "N")
    Integer killAfterAnswers;

    @Override
    public Integer call() throws Exception {
      ValueConverters.atLeast("--reply-ms", replyMs, 0);
      if (replyMs > 60_000) {
        throw CommandFailure.usage(
            "--reply-ms " + replyMs + " is more than a minute", "give at most 60000");
      }
      if (killAfterAnswers != null
          && (killAfterAnswers < 1 || killAfterAnswers >= LoopChaosWorker.STEPS)) {
        throw CommandFailure.usage(
            "--kill-after-answers must be 1 to " + (LoopChaosWorker.STEPS - 1),
            "so that the kill lands in the run each worker starts");
      }
      return inWorkFolder(spec, "loop", kill, this::run);
    }

    private static dev.cfn.testkit.Match agent(String name) {
      return dev.cfn.testkit.Match.systemContains(LoopChaosWorker.system(name));
    }

    /** The tokens every scripted answer bills, so that the server's billed tokens are known. */
    static final int INPUT_TOKENS_PER_CALL = 100;

    static final int OUTPUT_TOKENS_PER_CALL = 20;

    private static dev.cfn.testkit.Reply text(String json, int ms) {
      dev.cfn.testkit.Reply r =
          dev.cfn.testkit.Reply.text(json)
              .withUsage(INPUT_TOKENS_PER_CALL, OUTPUT_TOKENS_PER_CALL, 0);
      return ms == 0 ? r : r.after(java.time.Duration.ofMillis(ms));
    }

    /** The model server's script: the coder misses the gate twice, then all goes well. */
    static dev.cfn.testkit.ModelServer server(int replyMs) {
      dev.cfn.testkit.ModelServer server =
          dev.cfn.testkit.ModelServer.builder().requestHistory(1_000_000).start();
      for (int i = 1; i <= 2; i++) {
        String marker = "(iteration " + i + ":";
        server
            .script()
            .on(
                dev.cfn.testkit.Match.of(
                    "the coder's iteration " + i,
                    r ->
                        r.system() != null
                            && r.system().contains(LoopChaosWorker.system("coder"))
                            && r.lastUserMessage() != null
                            && r.lastUserMessage().contains(marker)))
            .reply(text("{\"result\": \"a + b, try " + i + "\", \"confidence\": 0.5}", replyMs));
      }
      server
          .script()
          .on(agent("coder"))
          .reply(text("{\"result\": \"return a + b;\", \"confidence\": 0.9}", replyMs));
      for (String v : List.of("reviewer", "tester")) {
        server
            .script()
            .on(agent(v))
            .reply(
                text(
                    "{\"verdict\": \"approve\", \"confidence\": 0.95, \"findings\": []}", replyMs));
      }
      server
          .script()
          .on(agent("owner"))
          .reply(
              text(
                  "{\"decision\": \"PROCEED\", \"reason\": \"done\", \"followUps\": []}", replyMs));
      return server;
    }

    private ChildJvm start(Path work, String baseUrl, int index, boolean last) throws IOException {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--db",
                  work.resolve("loop-chaos.db").toString(),
                  "--calls",
                  work.resolve("calls.db").toString(),
                  "--base-url",
                  baseUrl,
                  "--index",
                  Integer.toString(index)));
      if (last) {
        args.add("--last");
      } else if (killAfterAnswers != null) {
        args.addAll(List.of("--kill-after-answers", Integer.toString(killAfterAnswers)));
      }
      return launch(
          LoopChaosWorker.class, args, work.resolve("worker-" + index + ".log"), null, null);
    }

    private int run(Path work) throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      KillLoop loop = new KillLoop(kill);
      int[] midRun = {0};
      long[] window = {0};
      out.printf(
          Locale.ROOT,
          "cfn chaos loop: %d kills, loops of %d steps, model answers after %d ms, work folder %s,"
              + " seed %d%n",
          kill.kills,
          LoopChaosWorker.STEPS,
          replyMs,
          work,
          loop.seed);
      try (dev.cfn.testkit.ModelServer server = server(replyMs)) {
        loop.run(
            out,
            "first-answer ",
            "all-done",
            (k, last) -> start(work, server.openAiBaseUrl(), k, last),
            (child, k) -> {
              if (killAfterAnswers != null) {
                child.exitWithin(600); // it SIGKILLs itself after that many answers
              } else {
                loop.pause();
              }
              int unfinished = k + 1 - child.count("done ");
              if (unfinished > 0) {
                midRun[0]++;
              }
              window[0] += (long) LoopChaosWorker.PARALLEL_CALLS * unfinished;
            });
        LoopVerdict v = verify(work.resolve("loop-chaos.db"), kill.kills + 1, server.requests());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("command", "cfn chaos loop");
        result.put("finished", Instant.now().toString());
        result.put("machine", Crash.machine());
        loop.putFigures(result);
        result.put("killsMidRun", midRun[0]);
        result.put("runs", v.runs());
        result.put("stepsPerRun", LoopChaosWorker.STEPS);
        result.put("runsIncomplete", v.incomplete());
        result.put("stepsMissing", v.missing());
        result.put("stepsRecordedTwice", v.twice());
        result.put("modelRequests", server.received());
        result.put("repeatedModelCalls", v.repeated());
        result.put("repeatWindow", window[0]);
        result.put(
            "repeatWindowMeaning",
            "the model calls that may be in flight at the kills: "
                + LoopChaosWorker.PARALLEL_CALLS
                + " per run not finished when its worker was killed");
        result.put("pendingAtEnd", v.pending());
        result.put(
            "recoveryMeasuredAs",
            "wall-clock time from the SIGKILL to the first answer recorded in the restarted JVM"
                + " (includes JVM start and the model's answer time); journalRecoveryMs is the"
                + " runtime's own recovery step");
        out.printf(
            Locale.ROOT,
            "kills %d (%d mid-run), runs %d, runs incomplete %d, steps missing %d, steps recorded"
                + " twice %d, model requests %d, repeated model calls %d (window %d), pending at"
                + " end %d, redeliveries %d%n"
                + "recovery (SIGKILL to first answer recorded after restart) ms: %s%n"
                + "journal recovery inside the runtime ms: %s%n",
            kill.kills,
            midRun[0],
            v.runs(),
            v.incomplete(),
            v.missing(),
            v.twice(),
            server.received(),
            v.repeated(),
            window[0],
            v.pending(),
            loop.redelivered,
            Crash.percentiles(loop.recoveryMs),
            Crash.percentiles(loop.journalRecoveryMs));
        LedgerCheck ledger =
            LedgerCheck.of(
                restoredSpend(work.resolve("loop-chaos.db")), server.received(), window[0]);
        ledger.putFigures(result);
        out.printf(
            Locale.ROOT,
            "swarm ledger restored after the last worker: %d calls, %d input tokens, %d output"
                + " tokens; model server: %d requests (%d input, %d output tokens billed); allowed"
                + " shortfall 0 to %d calls (one per call in flight at the kills): %s%n",
            ledger.calls(),
            ledger.inputTokens(),
            ledger.outputTokens(),
            ledger.serverRequests(),
            ledger.serverInputTokens(),
            ledger.serverOutputTokens(),
            ledger.allowedShortfall(),
            ledger.ok() ? "pass" : "FAIL");
        kill.writeFigures(result, out);
        boolean ok =
            v.incomplete() == 0
                && v.missing() == 0
                && v.twice() == 0
                && v.pending() == 0
                && v.repeated() <= window[0]
                && ledger.ok()
                && v.runs() > 0;
        out.println(
            ok
                ? "PASS: every run completed, no step recorded twice, no model call repeated"
                    + " beyond the window, the restored ledger within its bound"
                : "FAIL");
        out.flush();
        return ok ? ExitCode.OK : ExitCode.FAILED;
      }
    }

    record LoopVerdict(
        long runs, long incomplete, long missing, long twice, long repeated, long pending) {}

    /**
     * The spend a restart restores from the swarm's ledger in {@code db}: what a durable swarm of
     * the workers' name, built on the journal after the last worker stopped, starts from.
     */
    static dev.cfn.ai.budget.Budget.Spent restoredSpend(Path db) {
      SqliteJournal journal = LoopChaosWorker.journal(db);
      dev.cfn.core.AgentRuntime rt;
      try {
        rt = dev.cfn.core.AgentRuntime.builder().journal(journal).jvmMetrics(false).build();
      } catch (RuntimeException e) {
        journal.close();
        throw e;
      }
      try (dev.cfn.flow.swarm.Swarm swarm = LoopChaosWorker.swarm(rt, journal)) {
        return swarm.budget().spent();
      } finally {
        rt.shutdown(java.time.Duration.ofSeconds(30)); // closes the journal too
      }
    }

    /**
     * The restored ledger against the model server's count (docs/operations.md section 8): it may
     * count fewer calls than the server answered, by at most one per call in flight at the kills
     * ({@code allowedShortfall}), and never more; the tokens likewise, each call billing the
     * script's fixed usage.
     */
    record LedgerCheck(
        long calls,
        long inputTokens,
        long outputTokens,
        long serverRequests,
        long serverInputTokens,
        long serverOutputTokens,
        long allowedShortfall) {

      static LedgerCheck of(dev.cfn.ai.budget.Budget.Spent spent, long received, long allowed) {
        return new LedgerCheck(
            spent.calls(),
            spent.inputTokens(),
            spent.outputTokens(),
            received,
            received * INPUT_TOKENS_PER_CALL,
            received * OUTPUT_TOKENS_PER_CALL,
            allowed);
      }

      long shortfall() {
        return serverRequests - calls;
      }

      boolean ok() {
        long inputShort = serverInputTokens - inputTokens;
        long outputShort = serverOutputTokens - outputTokens;
        return shortfall() >= 0
            && shortfall() <= allowedShortfall
            && inputShort >= 0
            && inputShort <= allowedShortfall * INPUT_TOKENS_PER_CALL
            && outputShort >= 0
            && outputShort <= allowedShortfall * OUTPUT_TOKENS_PER_CALL;
      }

      void putFigures(Map<String, Object> result) {
        result.put("ledgerCalls", calls);
        result.put("ledgerInputTokens", inputTokens);
        result.put("ledgerOutputTokens", outputTokens);
        result.put("serverRequests", serverRequests);
        result.put("serverInputTokens", serverInputTokens);
        result.put("serverOutputTokens", serverOutputTokens);
        result.put("ledgerShortfall", shortfall());
        result.put("ledgerShortfallAllowed", allowedShortfall);
        result.put("ledgerWithinBound", ok());
        result.put(
            "ledgerMeaning",
            "the spend the durable swarm "
                + LoopChaosWorker.SWARM
                + "'s ledger restores after the last worker, against the requests the model"
                + " server counted: it may be lower by at most one call per call in flight at the"
                + " kills (ledgerShortfallAllowed, the repeat window) and never higher"
                + " (docs/operations.md section 8)");
      }
    }

    /**
     * Reads the journal and the model server's requests: every run {@code loop-0} to {@code
     * loop-(runs-1)} must be ACCEPTED with its {@value LoopChaosWorker#STEPS} steps, each recorded
     * once; a prompt the server saw more than once is a repeated model call.
     */
    static LoopVerdict verify(Path db, int runs, List<dev.cfn.testkit.RecordedRequest> requests) {
      long incomplete = 0;
      long missing = 0;
      long twice = 0;
      long pending;
      try (SqliteJournal journal = LoopChaosWorker.journal(db)) {
        for (int r = 0; r < runs; r++) {
          java.util.Optional<dev.cfn.flow.loop.LoopRecord> record =
              journal
                  .state(
                      dev.cfn.flow.loop.LoopRunner.coordinator("loop-" + r),
                      dev.cfn.flow.loop.LoopRecord.STATE_KEY)
                  .map(dev.cfn.flow.loop.LoopRecord::fromJson);
          if (record.isEmpty()) {
            incomplete++;
            missing += LoopChaosWorker.STEPS;
            continue;
          }
          dev.cfn.flow.loop.LoopRecord rec = record.get();
          if (rec.status() != dev.cfn.flow.loop.LoopStatus.ACCEPTED) {
            incomplete++;
          }
          long distinct =
              rec.steps().stream()
                  .map(s -> s.iteration() + "." + s.phase() + "." + s.index())
                  .distinct()
                  .count();
          twice += rec.steps().size() - distinct;
          missing += Math.max(0, LoopChaosWorker.STEPS - distinct);
        }
        pending = journal.recover().size();
      }
      Map<String, Integer> prompts = new java.util.HashMap<>();
      for (dev.cfn.testkit.RecordedRequest q : requests) {
        prompts.merge(q.system() + "\u0000" + q.lastUserMessage(), 1, Integer::sum);
      }
      long repeated = 0;
      for (int n : prompts.values()) {
        repeated += n - 1;
      }
      return new LoopVerdict(runs, incomplete, missing, twice, repeated, pending);
    }
  }

  /** The child process; hidden, started by {@code crash}. */
  @Command(name = "worker", hidden = true)
  static final class Worker implements Callable<Integer> {
    @Option(names = "--db", required = true)
    Path db;

    @Option(names = "--stop-file", required = true)
    Path stopFile;

    @Option(names = "--chains", required = true)
    int chains;

    @Option(names = "--seed-chains")
    boolean seedChains;

    @Override
    public Integer call() throws Exception {
      return CrashWorker.run(db, stopFile, chains, seedChains, System.out);
    }
  }

  /**
   * Starts a {@link CrashWorker} JVM on {@code db} (see {@link #launch} for the archives); {@code
   * seed} has it send the chains' first ticks.
   */
  static ChildJvm crashWorker(
      Path db, Path stop, int chains, boolean seed, Path log, Path useArchive, Path writeArchive)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--db",
                db.toString(),
                "--stop-file",
                stop.toString(),
                "--chains",
                Integer.toString(chains)));
    if (seed) {
      args.add("--seed-chains");
    }
    // CrashWorker's own main, not Main: no command line to build (see there)
    return launch(CrashWorker.class, args, log, useArchive, writeArchive);
  }
}
