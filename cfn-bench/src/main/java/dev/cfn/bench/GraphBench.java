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
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A quick measurement of task graphs (issue 11), not yet a {@code cfn bench} command: the
 * orchestration overhead per step of BEST_EFFORT graphs with instant agents (a sequence of 3, a
 * fan-out of 10, a loop of 5; runs one after another, per-step time = run time / steps), and the
 * tasks per second and step latency (QUEUED to SUCCEEDED, from the events' creation stamps) of one
 * RELIABLE graph of 10,000 tasks (100 chains of 100) on a SQLite journal.
 *
 * <p>{@code java -cp cfn-bench/target/cfn-bench-*.jar dev.cfn.bench.GraphBench [runs]}
 */
public final class GraphBench {
  private GraphBench() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    System.out.println(Machine.current());
    bestEffort(runs);
    reliable();
    System.exit(0);
  }

  private static TaskSpec instant(String id) {
    return TaskSpec.of(id).agent(AgentId.of("instant", "1")).input("x");
  }

  private static void bestEffort(int runs) throws Exception {
    List<TaskSpec> fan = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      fan.add(instant("f" + i));
    }
    TaskGraph seq =
        TaskGraph.builder("seq3").sequence(instant("a"), instant("b"), instant("c")).build();
    TaskGraph fanOut =
        TaskGraph.builder("fan10")
            .task(instant("root"))
            .fanOutIn("root", fan, instant("join"))
            .build();
    TaskGraph loop =
        TaskGraph.builder("loop5").loop(instant("l"), (r, s) -> s.iteration("l") >= 5, 5).build();
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).build()) {
      rt.register(AgentType.of("instant", id -> TaskWorker.agent((in, ctx) -> in)));
      try (GraphRunner runner =
          GraphRunner.builder(rt).graph(seq).graph(fanOut).graph(loop).build()) {
        measure(runner, "seq3", 3, runs);
        measure(runner, "fan10", 12, runs / 4);
        measure(runner, "loop5", 5, runs / 2);
      }
    }
  }

  private static void measure(GraphRunner runner, String graph, int steps, int runs)
      throws Exception {
    int warmup = runs / 4;
    Histogram perStep = new Histogram(3);
    long start = 0;
    for (int i = -warmup; i < runs; i++) {
      if (i == 0) {
        start = System.nanoTime();
      }
      long t0 = System.nanoTime();
      RunOutcome o =
          runner
              .start(graph, graph + "-" + (i + warmup), Map.of())
              .outcome()
              .get(30, TimeUnit.SECONDS);
      long t = System.nanoTime() - t0;
      if (o.status() != RunStatus.SUCCEEDED) {
        throw new IllegalStateException(graph + " run " + i + " ended " + o.status());
      }
      if (i >= 0) {
        perStep.recordValue(t / steps);
      }
    }
    double meanUs = (System.nanoTime() - start) / 1e3 / runs / steps;
    System.out.printf(
        Locale.ROOT,
        "best-effort %-6s runs=%d steps/run=%d  per step: mean %.2f us, P50 %.2f us, P99 %.2f us%n",
        graph,
        runs,
        steps,
        meanUs,
        perStep.getValueAtPercentile(50) / 1e3,
        perStep.getValueAtPercentile(99) / 1e3);
  }

  private static void reliable() throws Exception {
    Path dir = Files.createTempDirectory("cfn-graph-bench");
    SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("bench.db"))
            .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
            .open();
    int chains = 100;
    int depth = 100;
    TaskGraph.Builder b = TaskGraph.builder("wide");
    for (int c = 0; c < chains; c++) {
      TaskSpec[] chain = new TaskSpec[depth];
      for (int d = 0; d < depth; d++) {
        chain[d] = TaskSpec.of("c" + c + "-" + d).agent(AgentId.of("instant", "w" + c)).input("x");
      }
      b.sequence(chain);
    }
    TaskGraph g = b.build();
    Map<String, Long> queued = new ConcurrentHashMap<>();
    Histogram latency = new Histogram(3);
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
                          }
                        }
                      })
              .mailboxCapacity(1 << 16)
              .build());
      rt.subscribe("cfn.flow.task.#", AgentId.of("stamps", "1"));
      try (GraphRunner runner = GraphRunner.builder(rt).reliable().graph(g).build()) {
        long t0 = System.nanoTime();
        RunOutcome o = runner.start("wide", "wide-1", Map.of()).outcome().get(30, TimeUnit.MINUTES);
        long t = System.nanoTime() - t0;
        if (o.status() != RunStatus.SUCCEEDED) {
          throw new IllegalStateException("the RELIABLE graph ended " + o.status());
        }
        Thread.sleep(500); // the last events
        System.out.printf(
            Locale.ROOT,
            "reliable %d tasks (%d chains of %d): %.1f s, %.0f tasks/s; step latency (queued to"
                + " succeeded, %d samples): P50 %.2f ms, P99 %.2f ms%n",
            chains * depth,
            chains,
            depth,
            t / 1e9,
            chains * depth / (t / 1e9),
            latency.getTotalCount(),
            latency.getValueAtPercentile(50) / 1e6,
            latency.getValueAtPercentile(99) / 1e6);
      }
    }
  }
}
