package dev.cfn.ai.rollout;

import java.time.Duration;
import java.util.Objects;

/**
 * What a canary must hold to be promoted, compared with the baseline (the version it replaces)
 * measured during the same rollout. The defaults are the seed's: no critical alert firing, and
 * performance within 110 % of the baseline ({@link #maxRatio} 1.10).
 *
 * <ul>
 *   <li>error rate: canary &le; baseline &times; maxRatio + {@link #errorTolerance};
 *   <li>P95 latency: canary &le; baseline &times; maxRatio + {@link #latencySlack} (the slack keeps
 *       scheduling noise of fast agents from failing a good version);
 *   <li>cost per task: canary &le; baseline &times; maxRatio;
 *   <li>validators' approval rate, when both versions have at least {@link #minVerdicts}: canary
 *       &ge; baseline / maxRatio.
 * </ul>
 *
 * <p>A gate is judged only once the canary has {@link #minTasks} tasks in the current step and the
 * baseline as many in the whole rollout; before that nothing is promoted or rolled back by measure
 * (a critical alert rolls back at once).
 *
 * @param maxRatio how much worse than the baseline the canary may be, as a ratio (1.10: 10 %)
 * @param errorTolerance an absolute allowance added to the error-rate limit (0.01: one point)
 * @param latencySlack an absolute allowance added to the P95 latency limit
 * @param minTasks tasks needed on each side before the measures are judged
 * @param minVerdicts validator verdicts needed on each side before approval rates are compared
 */
public record Gates(
    double maxRatio, double errorTolerance, Duration latencySlack, int minTasks, int minVerdicts) {

  /** The seed's gates: 110 %, one point of errors, 25 ms of latency, 20 tasks, 5 verdicts. */
  public static final Gates DEFAULTS = new Gates(1.10, 0.01, Duration.ofMillis(25), 20, 5);

  /** Checks the values. */
  public Gates {
    Objects.requireNonNull(latencySlack, "latencySlack");
    if (!(maxRatio >= 1.0) || Double.isInfinite(maxRatio)) {
      throw new IllegalArgumentException("maxRatio must be at least 1.0, was " + maxRatio);
    }
    if (!(errorTolerance >= 0 && errorTolerance <= 1)) {
      throw new IllegalArgumentException("errorTolerance must be 0 to 1, was " + errorTolerance);
    }
    if (latencySlack.isNegative()) {
      throw new IllegalArgumentException("latencySlack cannot be negative");
    }
    if (minTasks < 1 || minVerdicts < 1) {
      throw new IllegalArgumentException("minTasks and minVerdicts must be at least 1");
    }
  }

  /** These gates with {@code n} tasks needed on each side. */
  public Gates withMinTasks(int n) {
    return new Gates(maxRatio, errorTolerance, latencySlack, n, minVerdicts);
  }

  /** These gates with another latency slack. */
  public Gates withLatencySlack(Duration slack) {
    return new Gates(maxRatio, errorTolerance, slack, minTasks, minVerdicts);
  }
}
