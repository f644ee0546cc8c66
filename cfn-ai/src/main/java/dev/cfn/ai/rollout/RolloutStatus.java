package dev.cfn.ai.rollout;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A rollout as {@code cfn rollout status} shows it.
 *
 * @param agent the agent rolled out
 * @param phase running, completed or rolled back
 * @param share the canary's share of new tasks now, in percent
 * @param steps the shares of the plan, in percent
 * @param hold how long each step is held before it may be promoted
 * @param stepStartedAt when the current step began
 * @param baseline the version being replaced
 * @param canary the new version
 * @param canaryFile the file the new version was read from
 * @param gates the gates
 * @param baselineFigures the baseline over the whole rollout
 * @param canaryFigures the canary over the current step
 * @param reason why it ended (rolled back or completed), or null while running
 * @param events its history, oldest first
 */
public record RolloutStatus(
    String agent,
    Phase phase,
    int share,
    List<Integer> steps,
    Duration hold,
    Instant stepStartedAt,
    DefinitionVersion baseline,
    DefinitionVersion canary,
    String canaryFile,
    Gates gates,
    Figures baselineFigures,
    Figures canaryFigures,
    String reason,
    List<RolloutEvent> events) {

  /** Where a rollout is. */
  public enum Phase {
    /** Routing its share of new tasks to the canary and judging the gates. */
    RUNNING,
    /** The canary took every task and replaced the definition's file. */
    COMPLETED,
    /** The baseline takes every task again. */
    ROLLED_BACK
  }

  /**
   * What one version did.
   *
   * @param tasks tasks finished
   * @param errorRate the share of them that failed, 0 to 1
   * @param p95Millis P95 latency of the last tasks (at most 2048), in milliseconds
   * @param costPerTask mean cost of a task (US dollars when the model has a price, else tokens)
   * @param approvalRate validators' approvals over verdicts, or null without verdicts
   * @param verdicts validators' verdicts recorded
   */
  public record Figures(
      long tasks,
      double errorRate,
      double p95Millis,
      double costPerTask,
      Double approvalRate,
      long verdicts) {}
}
