package dev.cfn.bench;

import dev.cfn.testkit.ModelServer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a RELIABLE LLM task costs beside a best-effort one, measured side by side in one JVM against
 * the testkit's instant {@link ModelServer}: for each concurrency it drives {@code cfn-agent} and
 * then {@code cfn-reliable} ({@link CfnContenders}, the contenders of {@code cfn bench agents})
 * with {@link AgentsDriver}, and prints tasks/s, CPU µs per task and, for RELIABLE, the journal's
 * commits (fsyncs) and write operations per task, the mean time of a commit (BEGIN to COMMIT, fsync
 * included), the share of the run the single writer spent in transactions and the CPU time of that
 * writer thread per task and per commit, and the durable call log's records per task
 * (load-independent measures of the durable path's work).
 *
 * <pre>
 * java -cp ... dev.cfn.bench.ReliableCostProbe [--concurrency 16,256] [--warmup-ms 3000]
 *     [--measure-ms 5000] [--rounds 2]
 * </pre>
 *
 * <p>Not a command of {@code cfn bench}: a small driver kept beside the durable path's work.
 */
public final class ReliableCostProbe {
  private ReliableCostProbe() {}

  /**
   * Runs the probe and prints one line per scenario.
   *
   * @param args see the class comment
   * @throws Exception when a contender cannot be built
   */
  public static void main(String[] args) throws Exception {
    int[] concurrency = {16, 256};
    long warmupMs = 3000;
    long measureMs = 5000;
    int rounds = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--concurrency" ->
            concurrency = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--warmup-ms" -> warmupMs = Long.parseLong(args[++i]);
        case "--measure-ms" -> measureMs = Long.parseLong(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + "; use --concurrency 16,256 --warmup-ms MS --measure-ms MS --rounds N");
      }
    }
    int slots = Arrays.stream(concurrency).max().orElse(1);
    Duration warmup = Duration.ofMillis(warmupMs);
    Duration measure = Duration.ofMillis(measureMs);
    System.out.println("ReliableCostProbe: " + Machine.current().describe());
    try (ModelServer server = AgentsScript.startServer();
        CfnContenders.Agent bestEffort =
            new CfnContenders.Agent(server.openAiBaseUrl(), slots, false);
        CfnContenders.Reliable reliable =
            new CfnContenders.Reliable(server.openAiBaseUrl(), slots)) {
      for (int round = 1; round <= rounds; round++) {
        for (int c : concurrency) {
          AgentsDriver.Cell be = AgentsDriver.run("cfn-agent", bestEffort, c, warmup, measure);
          print(round, be, "");
          long[] j0 = reliable.journalCounts();
          long r0 = reliable.callRecords();
          long t0 = System.nanoTime();
          long w0 = writerCpuNanos();
          AgentsDriver.Cell rel = AgentsDriver.run("cfn-reliable", reliable, c, warmup, measure);
          long[] j1 = reliable.journalCounts();
          long r1 = reliable.callRecords();
          long elapsed = System.nanoTime() - t0;
          long writerCpu = writerCpuNanos() - w0;
          // counts over the whole run (warm-up and window) per task of the whole run
          double all = Math.max(1, rel.allTasks());
          print(
              round,
              rel,
              String.format(
                  Locale.ROOT,
                  "  journal %.3f commits/task %.2f writes/task, %.2f ms/commit, writer busy %.0f %%,"
                      + " writer cpu %.0f us/task %.0f us/commit, WAL fsyncs beside it %.3f/task"
                      + " %.2f ms each  call log %.2f records/task  ratio %.2f",
                  (j1[0] - j0[0]) / all,
                  (j1[1] - j0[1]) / all,
                  (j1[2] - j0[2]) / 1e6 / Math.max(1, j1[0] - j0[0]),
                  100.0 * (j1[2] - j0[2]) / elapsed,
                  writerCpu / 1e3 / all,
                  writerCpu / 1e3 / Math.max(1, j1[0] - j0[0]),
                  (j1[3] - j0[3]) / all,
                  (j1[4] - j0[4]) / 1e6 / Math.max(1, j1[3] - j0[3]),
                  (r1 - r0) / all,
                  rel.tasksPerSecond() / be.tasksPerSecond()));
        }
      }
    }
  }

  /**
   * CPU time of the journal's writer threads so far (the single thread that runs every transaction;
   * found by its name), in nanoseconds: the part of a RELIABLE task's CPU that no caller can share.
   */
  private static long writerCpuNanos() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("cfn-journal-writer")) {
        sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
      }
    }
    return sum;
  }

  private static void print(int round, AgentsDriver.Cell cell, String extra) {
    // the end times (wall clock, and CLOCK_MONOTONIC as `perf record -k mono` stamps samples) let
    // a profile recorded beside the probe be cut into its scenarios
    System.out.printf(
        Locale.ROOT,
        "  %s round %d %-13s c=%-4d %,9.0f tasks/s  p50 %,9.1f us  cpu %,7.1f us/task  failed %d  mono %.3f%s%n",
        java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0),
        round,
        cell.scenario(),
        cell.concurrency(),
        cell.tasksPerSecond(),
        cell.p50Us(),
        cell.cpuUsPerTask(),
        cell.failures(),
        System.nanoTime() / 1e9,
        extra);
  }
}
