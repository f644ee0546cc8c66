package dev.cfn.flow.graph;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The child JVM of {@link ResumeAfterKillTest}: runs (or resumes) the RELIABLE run {@code run-1} of
 * {@link #graph(int)} (fan-out width {@code args[2]}, default {@value #FAN}) on the journal {@code
 * args[0]}, printing {@code OK TASK} for every task that succeeds and {@code DONE STATUS} at the
 * end. Its workers ({@code tally}) count their executions in their journal effects and take a
 * little while, at most {@value #PARALLEL} at a time, so that a kill lands in the middle.
 *
 * <p>With {@code args[3]} = K, the child SIGKILLs itself ({@code kill -9} on its own pid) once it
 * has seen K successes: the kill then lands at a known point of the run however fast or slow the
 * machine is, which a kill from the parent (reading the child's output late) cannot promise.
 */
public final class GraphCrashChild {
  private GraphCrashChild() {}

  static final int CHAIN = 12;
  static final int FAN = 12;
  static final int PARALLEL = 6;
  private static final java.util.concurrent.Semaphore SLOTS =
      new java.util.concurrent.Semaphore(PARALLEL);

  static TaskGraph graph() {
    return graph(FAN);
  }

  /** The chain, then a fan-out of {@code fanWidth} tasks, then "end" joining them. */
  static TaskGraph graph(int fanWidth) {
    List<TaskSpec> chain = new ArrayList<>();
    for (int i = 0; i < CHAIN; i++) {
      chain.add(TaskSpec.of("step-" + i).agent("tally").input("step-" + i));
    }
    List<TaskSpec> fan = new ArrayList<>();
    for (int i = 0; i < fanWidth; i++) {
      fan.add(TaskSpec.of("fan-" + i).agent("tally").input("fan-" + i));
    }
    return TaskGraph.builder("chaos")
        .sequence(chain.toArray(TaskSpec[]::new))
        .fanOutIn(
            "step-" + (CHAIN - 1),
            fan,
            TaskSpec.of("end").agent("tally").input(s -> Workers.fanResults(s, fanWidth)))
        .build();
  }

  /** The runtime with the tally workers and the runner, on the journal {@code db}. */
  static AgentRuntime runtime(Path db, PrintStream out) {
    return runtime(db, out, Integer.MAX_VALUE);
  }

  /** The same, SIGKILLing this process once {@code killAfter} successes were seen. */
  static AgentRuntime runtime(Path db, PrintStream out, int killAfter) {
    java.util.concurrent.atomic.AtomicInteger seen =
        new java.util.concurrent.atomic.AtomicInteger();
    SqliteJournal journal =
        SqliteJournal.builder(db)
            .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
            .open();
    AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal).build();
    rt.register(
        AgentType.builder(
                "tally",
                id ->
                    TaskWorker.agent(
                        (in, ctx) -> {
                          SLOTS.acquire();
                          try {
                            Thread.sleep(25);
                          } finally {
                            SLOTS.release();
                          }
                          int n = Integer.parseInt(ctx.effects().get("n").orElse("0")) + 1;
                          ctx.effects().put("n", Integer.toString(n));
                          return in + "#" + n;
                        }))
            .blocking()
            .build());
    rt.register(
        AgentType.of(
            "printer",
            id ->
                (m, ctx) -> {
                  FlowEvent e = (FlowEvent) m.payload();
                  out.println("OK " + e.task());
                  out.flush();
                  if (seen.incrementAndGet() == killAfter) {
                    killSelf();
                  }
                }));
    rt.subscribe("cfn.flow.task.succeeded", AgentId.of("printer", "1"));
    return rt;
  }

  private static void killSelf() {
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

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    int killAfter = args.length > 3 ? Integer.parseInt(args[3]) : Integer.MAX_VALUE;
    AgentRuntime rt = runtime(Path.of(args[0]), out, killAfter);
    int fanWidth = args.length > 2 ? Integer.parseInt(args[2]) : FAN;
    GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph(fanWidth)).build();
    GraphRun run =
        args[1].equals("start") ? runner.start("chaos", "run-1", Map.of()) : runner.resume("run-1");
    out.println("READY");
    RunOutcome o = run.outcome().get();
    out.println("DONE " + o.status());
    runner.close();
    rt.close();
  }
}
