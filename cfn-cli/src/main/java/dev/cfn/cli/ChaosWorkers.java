package dev.cfn.cli;

import dev.cfn.core.AgentRuntime;
import java.io.PrintStream;
import java.util.concurrent.Callable;

/**
 * What the chaos workers' entry points ({@link CrashWorker}, {@link GraphChaosWorker}, {@link
 * LoopChaosWorker}) share: their arguments read without picocli, their exits and the {@code
 * recovered} line they print for the parent.
 */
final class ChaosWorkers {
  private ChaosWorkers() {}

  /** The value of {@code option} at {@code args[i]}; fails if the arguments end before it. */
  static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  /**
   * Exits 2 for bad arguments with one line {@code cfn chaos worker: ...} on standard error that
   * names the command which starts the worker ({@code cfn chaos crash}, ...).
   */
  static void exitBadArguments(IllegalArgumentException e, String startedBy) {
    System.err.println(
        "cfn chaos worker: " + e.getMessage() + " (fix: it is started by " + startedBy + ")");
    System.exit(2);
  }

  /**
   * Runs the worker and exits with its code, or with 1 and one line on standard error if it fails.
   */
  static void runAndExit(Callable<Integer> worker) {
    int code;
    try {
      code = worker.call();
    } catch (Exception e) {
      System.err.println("cfn chaos worker: failed: " + e);
      code = 1;
    }
    System.out.flush();
    System.exit(code);
  }

  /** Prints {@code recovered N MS}: the messages {@code rt} recovered and how long it took. */
  static void printRecovered(AgentRuntime rt, PrintStream out) {
    double recoveryMs =
        rt.meterRegistry().get(dev.cfn.core.CfnMetrics.RECOVERY_SECONDS).gauge().value() * 1000;
    out.println(
        "recovered "
            + rt.recoveredMessages()
            + " "
            + String.format(java.util.Locale.ROOT, "%.2f", recoveryMs));
  }
}
