package dev.cfn.cli;

import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The kill-restart loop of the {@code cfn chaos} scenarios: worker 0 to {@code --kills} run one
 * after the other on the same journal; each prints {@code recovered N MS} (messages its runtime
 * redelivered, its recovery time), {@code ready} and its first piece of work ({@code FIRST
 * EPOCH_MILLIS}); each but the last is SIGKILLed after a random run of {@code --min-ms} to {@code
 * --max-ms} (or when the scenario's own moment comes), the last must print its done line and exit
 * normally. Recovery is timed from the SIGKILL to the restarted worker's first piece of work, on
 * the wall clock both processes share.
 */
final class KillLoop {
  /** Starts worker {@code index}; {@code last} is the one that must finish. */
  @FunctionalInterface
  interface Start {
    ChildJvm start(int index, boolean last) throws IOException;
  }

  /** Returns when {@code child} (worker {@code index}) is to be killed. */
  @FunctionalInterface
  interface KillMoment {
    void await(ChildJvm child, int index) throws InterruptedException;
  }

  private final KillOptions options;
  private final Random random;

  /** The seed of the kill moments: {@code --seed}, else a fresh one. */
  final long seed;

  final List<Double> recoveryMs = new ArrayList<>();
  final List<Double> journalRecoveryMs = new ArrayList<>();
  long redelivered;

  KillLoop(KillOptions options) {
    this.options = options;
    this.seed = options.seed != null ? options.seed : System.nanoTime();
    this.random = new Random(seed);
  }

  /** Sleeps a random {@code --min-ms} to {@code --max-ms}: the usual kill moment. */
  void pause() throws InterruptedException {
    Thread.sleep(options.minMs + random.nextInt(options.maxMs - options.minMs + 1));
  }

  /**
   * Runs the workers.
   *
   * @param first the prefix of the line a worker prints at its first piece of work
   * @param done the prefix of the line the last worker prints when all is finished
   */
  void run(PrintWriter out, String first, String done, Start start, KillMoment moment)
      throws IOException, InterruptedException {
    long killedAt = 0;
    for (int k = 0; k <= options.kills; k++) {
      boolean last = k == options.kills;
      ChildJvm child = start.start(k, last);
      String[] recovered = child.await("recovered ", 120).split(" ");
      redelivered += Long.parseLong(recovered[1]);
      journalRecoveryMs.add(Double.parseDouble(recovered[2]));
      child.await("ready", 120);
      long firstAt = Long.parseLong(child.await(first, 120).split(" ")[1]);
      if (k > 0) {
        recoveryMs.add((double) (firstAt - killedAt));
      }
      if (last) {
        child.await(done, 600);
        int code = child.exitWithin(60);
        if (code != 0) {
          throw CommandFailure.failed(
              "the last worker exited with " + code + ": " + child.cause(), "see " + child.log());
        }
        return;
      }
      moment.await(child, k);
      killedAt = System.currentTimeMillis();
      child.kill();
      out.printf(Locale.ROOT, "  kill %d/%d%n", k + 1, options.kills);
      out.flush();
    }
  }

  /** The loop's figures: seed, kills, redeliveries and both recoveries' percentiles. */
  void putFigures(Map<String, Object> figures) {
    figures.put("seed", seed);
    figures.put("kills", options.kills);
    figures.put("redeliveries", redelivered);
    figures.put("recoveryMs", ChaosCommand.Crash.percentiles(recoveryMs));
    figures.put("journalRecoveryMs", ChaosCommand.Crash.percentiles(journalRecoveryMs));
  }
}
