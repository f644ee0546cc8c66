package dev.cfn.cli;

import static dev.cfn.cli.ChaosWorkers.value;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.graph.GraphRun;
import dev.cfn.flow.graph.GraphRunner;
import dev.cfn.flow.graph.RunOutcome;
import dev.cfn.flow.graph.TaskGraph;
import dev.cfn.flow.graph.TaskSpec;
import dev.cfn.flow.graph.TaskWorker;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The process {@code cfn chaos graph} kills: a runtime on a SQLite journal running RELIABLE task
 * graphs.
 *
 * <p>Started the k-th time (from 0), it resumes runs {@code run-0} to {@code run-(k-1)} where they
 * stopped (or starts one whose start never became durable) and starts {@code run-k}, so that every
 * kill lands in the middle of at least one graph. A graph ({@link #graph}) is a chain of {@value
 * #CHAIN} tasks, then a fan-out of {@code width} tasks, then a task that joins them. Every task has
 * an agent of its own ({@code tally/RUN.TASK}) that counts its executions in its journal state,
 * committed with its answer: a count above 1 is a task whose effects were applied twice.
 *
 * <p>It prints, for the parent: {@code recovered N MS}, {@code ready}, {@code first-handled
 * EPOCH_MILLIS}, {@code done RUN STATUS} per run and {@code all-done} once every run it knows has
 * ended. With {@code --last} it then exits; otherwise it waits to be killed.
 */
final class GraphChaosWorker {
  /** Tasks in the chain before the fan-out. */
  static final int CHAIN = 4;

  private GraphChaosWorker() {}

  /** The graph every run runs. */
  static TaskGraph graph(int width) {
    TaskSpec[] chain = new TaskSpec[CHAIN];
    for (int i = 0; i < CHAIN; i++) {
      chain[i] = TaskSpec.of("step-" + i).agent("tally").input("step-" + i);
    }
    List<TaskSpec> fan = new ArrayList<>();
    for (int i = 0; i < width; i++) {
      fan.add(TaskSpec.of("fan-" + i).agent("tally").input("fan-" + i));
    }
    return TaskGraph.builder("chaos")
        .sequence(chain)
        .fanOutIn("step-" + (CHAIN - 1), fan, TaskSpec.of("join").agent("tally").input("join"))
        .build();
  }

  /** The ids of every task of {@link #graph}. */
  static List<String> taskIds(int width) {
    return graph(width).taskIds();
  }

  /**
   * {@code --db FILE --index K --width W [--last]}: the worker's entry point, read without picocli
   * (as {@link CrashWorker#main}). Fails with one line {@code cfn chaos worker: ...} on standard
   * error, exit 2 for bad arguments, 1 for a failure.
   */
  public static void main(String[] args) {
    Path db = null;
    int index = -1;
    int width = -1;
    boolean last = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--db" -> db = Path.of(value(args, ++i, "--db"));
          case "--index" -> index = Integer.parseInt(value(args, ++i, "--index"));
          case "--width" -> width = Integer.parseInt(value(args, ++i, "--width"));
          case "--last" -> last = true;
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
      if (db == null || index < 0 || width < 1) {
        throw new IllegalArgumentException("--db, --index (0 or more) and --width (1 or more)");
      }
    } catch (IllegalArgumentException e) {
      ChaosWorkers.exitBadArguments(e, "cfn chaos graph");
      return;
    }
    Path dbFile = db;
    int k = index;
    int w = width;
    boolean lastWorker = last;
    ChaosWorkers.runAndExit(() -> run(dbFile, k, w, lastWorker, System.out));
  }

  /** The journal of {@code db} with the graph protocol's payload types. */
  static SqliteJournal journal(Path db) {
    return SqliteJournal.builder(db)
        .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
        .open();
  }

  static int run(Path db, int index, int width, boolean last, PrintStream out) throws Exception {
    AtomicBoolean firstHandled = new AtomicBoolean();
    SqliteJournal journal = journal(db);
    AgentRuntime rt = AgentRuntime.builder().journal(journal).jvmMetrics(false).build();
    rt.register(
        AgentType.builder(
                "tally",
                id ->
                    TaskWorker.agent(
                        (in, ctx) -> {
                          Thread.sleep(2); // a little work, so that kills land mid-graph
                          long n = ctx.effects().getLong("n").orElse(0) + 1;
                          ctx.effects().put("n", Long.toString(n));
                          if (!firstHandled.get() && firstHandled.compareAndSet(false, true)) {
                            out.println("first-handled " + System.currentTimeMillis());
                          }
                          return in + "#" + n;
                        }))
            .blocking()
            .build());
    ChaosWorkers.printRecovered(rt, out);
    GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph(width)).build();
    List<GraphRun> runs = new ArrayList<>();
    for (int k = 0; k <= index; k++) {
      String runId = "run-" + k;
      boolean started = journal.state(AgentId.of("cfn-flow-run", runId), "graph").isPresent();
      runs.add(started ? runner.resume(runId) : runner.start("chaos", runId, Map.of()));
    }
    out.println("ready");
    for (GraphRun run : runs) {
      RunOutcome o = run.outcome().get();
      out.println("done " + o.runId() + " " + o.status());
    }
    out.println("all-done");
    if (!last) {
      Thread.sleep(Duration.ofHours(1)); // the parent kills it
    }
    runner.close();
    rt.shutdown(Duration.ofSeconds(30));
    return 0;
  }
}
