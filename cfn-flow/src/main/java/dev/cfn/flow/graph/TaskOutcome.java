package dev.cfn.flow.graph;

/**
 * How one task of a run ended, or stands.
 *
 * @param status where it stands
 * @param result its result when it succeeded, else null
 * @param error why it failed or was cancelled, else null
 * @param iterations the iterations run (1 unless a loop)
 */
public record TaskOutcome(TaskStatus status, String result, String error, int iterations) {

  /**
   * True when the task failed for want of budget (its agent's, or its swarm's when it was sent
   * through one): its error begins with {@value GraphRunner#BUDGET_EXHAUSTED}. Such a task is not
   * retried.
   */
  public boolean budgetExhausted() {
    return status == TaskStatus.FAILED && Answers.exhausted(error);
  }
}
