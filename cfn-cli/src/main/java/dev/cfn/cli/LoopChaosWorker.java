package dev.cfn.cli;

import static dev.cfn.cli.ChaosWorkers.value;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.budget.PriceTable;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.RoutedModel;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.loop.LoopEvent;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The process {@code cfn chaos loop} kills: a RELIABLE runtime on a SQLite journal and a durable
 * call log, running CFN Loops whose agents are {@code LlmAgent}s asking a model server (the test
 * model server the parent runs, on loopback).
 *
 * <p>Started the k-th time (from 0), it resumes runs {@code loop-0} to {@code loop-(k-1)} where
 * they stopped (or starts one whose start never became durable) and starts {@code loop-k}, so that
 * every kill lands in the middle of at least one loop. Each loop has one implementer ({@code
 * coder}), two validators ({@code reviewer}, {@code tester}) and an owner ({@code owner}); the
 * parent's script makes the coder miss the gate twice, so a run is {@value #STEPS} steps.
 *
 * <p>The agents' budgets are members' budgets of the durable swarm {@value #SWARM} on the same
 * journal, so every model call is charged to its ledger, and each worker starts from the spend the
 * ledger restored.
 *
 * <p>It prints, for the parent: {@code ledger-restored CALLS INPUT_TOKENS OUTPUT_TOKENS} (the
 * swarm's spend as restored at the start), {@code recovered N MS}, {@code ready}, {@code
 * first-answer EPOCH_MILLIS} (the first answer recorded after the start), {@code done RUN STATUS}
 * per run and {@code all-done} once every run it knows has settled. With {@code --last} it then
 * exits; otherwise it waits to be killed. With {@code --kill-after-answers N} it SIGKILLs itself
 * once N answers were recorded, so that a test's kill lands at a known point.
 */
final class LoopChaosWorker {
  /** The agents of every loop. */
  static final List<String> AGENTS = List.of("coder", "reviewer", "tester", "owner");

  /** The steps of a run under the parent's script: 3 implementations, 2 verdicts, 1 decision. */
  static final int STEPS = 6;

  /** The validators asked at once: the most calls of one run in flight at a time. */
  static final int PARALLEL_CALLS = 2;

  /**
   * The durable swarm whose budget the loops' agents are charged to: its ledger (agent {@code
   * cfn-swarm-ledger/chaos-loop} in the journal) is what the parent compares with the model
   * server's count. No agent joins it, so it enforces no topology; it only keeps the spend.
   */
  static final String SWARM = "chaos-loop";

  /** The scripted server's model, in the worker's model configuration. */
  static final String MODEL = "chaos-model";

  /**
   * The budget of swarm {@value #SWARM}, without limits: it counts calls and tokens, and prices the
   * scripted model at nothing (so that no budget warns of an unpriced model).
   */
  static Budget swarmBudget() {
    return Budget.builder("swarm " + SWARM)
        .prices(PriceTable.empty().with(MODEL, PriceTable.Price.of("0", "0", "0")))
        .build();
  }

  /** The durable swarm {@value #SWARM} on {@code rt} and its journal, its spend restored. */
  static Swarm swarm(AgentRuntime rt, SqliteJournal journal) {
    return Swarm.builder(SWARM, rt).budget(swarmBudget()).durable(journal).build();
  }

  private LoopChaosWorker() {}

  /** The loop every run runs. */
  static LoopSpec spec() {
    return LoopSpec.builder()
        .implementers(List.of("coder"))
        .validators(List.of("reviewer", "tester"))
        .owner("owner")
        .callTimeout(Duration.ofSeconds(60))
        .build();
  }

  /** The system prompt of agent {@code name}, which the parent's script matches. */
  static String system(String name) {
    return "You are the " + name + " of the cfn chaos loop.";
  }

  /** The task of run {@code runId}: each run's prompts differ, so repeated calls can be told. */
  static String task(String runId) {
    return "Write add(int a, int b) for run " + runId + ".";
  }

  static AgentDefinition definition(String name) {
    return DefinitionLoader.parse(
            "---\nname: "
                + name
                + "\ndescription: The "
                + name
                + " of cfn chaos loop\n---\n"
                + system(name)
                + "\n",
            Path.of(name + ".md"))
        .definitions()
        .getFirst();
  }

  /**
   * {@code --db FILE --calls FILE --base-url URL --index K [--last] [--kill-after-answers N]}: the
   * worker's entry point, read without picocli (as {@link CrashWorker#main}). Fails with one line
   * {@code cfn chaos worker: ...} on standard error, exit 2 for bad arguments, 1 for a failure.
   */
  public static void main(String[] args) {
    Path db = null;
    Path calls = null;
    String baseUrl = null;
    int index = -1;
    int killAfter = Integer.MAX_VALUE;
    boolean last = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--db" -> db = Path.of(value(args, ++i, "--db"));
          case "--calls" -> calls = Path.of(value(args, ++i, "--calls"));
          case "--base-url" -> baseUrl = value(args, ++i, "--base-url");
          case "--index" -> index = Integer.parseInt(value(args, ++i, "--index"));
          case "--kill-after-answers" ->
              killAfter = Integer.parseInt(value(args, ++i, "--kill-after-answers"));
          case "--last" -> last = true;
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
      if (db == null || calls == null || baseUrl == null || index < 0 || killAfter < 1) {
        throw new IllegalArgumentException(
            "--db, --calls, --base-url and --index (0 or more) are needed");
      }
    } catch (IllegalArgumentException e) {
      ChaosWorkers.exitBadArguments(e, "cfn chaos loop");
      return;
    }
    Path dbFile = db;
    Path callsFile = calls;
    String url = baseUrl;
    int k = index;
    boolean lastWorker = last;
    int answers = killAfter;
    ChaosWorkers.runAndExit(() -> run(dbFile, callsFile, url, k, lastWorker, answers, System.out));
  }

  /** The journal of {@code db} with the loop protocol's payload types. */
  static SqliteJournal journal(Path db) {
    return SqliteJournal.builder(db)
        .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
        .open();
  }

  static int run(
      Path db,
      Path callsFile,
      String baseUrl,
      int index,
      boolean last,
      int killAfter,
      PrintStream out)
      throws Exception {
    ModelConfig config =
        ModelConfig.parse(
            "providers:\n  chaos:\n    kind: openai\n    base-url: "
                + baseUrl
                + "\n    api-key: ${CFN_CHAOS_KEY}\n    model: "
                + MODEL
                + "\n",
            "cfn chaos loop",
            Map.of("CFN_CHAOS_KEY", "chaos"));
    AtomicBoolean firstAnswer = new AtomicBoolean();
    AtomicInteger answers = new AtomicInteger();
    try (ModelRouter router = ModelRouter.create(config);
        SqliteCallLogStore calls =
            SqliteCallLogStore.builder(callsFile).sweepEvery(Duration.ZERO).open()) {
      SqliteJournal journal = journal(db);
      // Recovered messages to the agents registered below wait for their types (they are parked),
      // so the swarm's ledger can be restored before the agents that charge it exist.
      AgentRuntime rt = AgentRuntime.builder().journal(journal).jvmMetrics(false).build();
      Swarm swarm = swarm(rt, journal);
      Budget.Spent restored = swarm.budget().spent();
      out.println(
          "ledger-restored "
              + restored.calls()
              + " "
              + restored.inputTokens()
              + " "
              + restored.outputTokens());
      out.flush();
      for (String name : AGENTS) {
        AgentDefinition d = definition(name);
        RoutedModel routed = router.resolve(d.name(), d.type(), null, null);
        rt.register(
            LlmAgent.builder(d)
                .model(routed)
                .modelName(routed.model())
                .callLog(CallLog.durable(calls))
                .budgetPerAgent(swarm::memberBudget) // every call charged to the swarm's ledger
                .type(name));
      }
      rt.register(
          AgentType.of(
              "chaos-loop-observer",
              id ->
                  (m, ctx) -> {
                    if (m.payload() instanceof LoopEvent e && e.kind() == LoopEvent.Kind.ANSWERED) {
                      if (firstAnswer.compareAndSet(false, true)) {
                        out.println("first-answer " + System.currentTimeMillis());
                        out.flush();
                      }
                      if (answers.incrementAndGet() == killAfter) {
                        killSelf();
                      }
                    }
                  }));
      rt.subscribe(LoopEvent.TOPIC + ".answered", AgentId.of("chaos-loop-observer", "1"));
      ChaosWorkers.printRecovered(rt, out);
      LoopRunner runner = LoopRunner.builder(rt).journal(journal).build();
      List<CompletableFuture<LoopRecord>> runs = new ArrayList<>();
      for (int k = 0; k <= index; k++) {
        String runId = "loop-" + k;
        boolean started = runner.record(runId).isPresent();
        runs.add(started ? runner.resume(runId) : runner.start(runId, spec(), task(runId)));
      }
      out.println("ready");
      out.flush();
      for (CompletableFuture<LoopRecord> run : runs) {
        LoopRecord r = run.get();
        out.println("done " + r.runId() + " " + r.status());
        out.flush();
      }
      out.println("all-done");
      out.flush();
      if (!last) {
        Thread.sleep(Duration.ofHours(1)); // the parent kills it
      }
      swarm.awaitLedger(Duration.ofSeconds(30)); // the last charges applied before the close
      swarm.close();
      rt.shutdown(Duration.ofSeconds(30)); // closes the journal too
    }
    return 0;
  }

  /** SIGKILL on this process ({@code kill -9} on its own pid): no shutdown hook runs. */
  static void killSelf() {
    try {
      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
          .inheritIO()
          .start()
          .waitFor();
      Thread.sleep(60_000); // the signal is on its way
    } catch (java.io.IOException | InterruptedException e) {
      Runtime.getRuntime().halt(137);
    }
  }
}
