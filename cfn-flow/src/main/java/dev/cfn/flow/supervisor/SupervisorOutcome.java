package dev.cfn.flow.supervisor;

import java.util.List;

/**
 * How a {@link Supervisor} run ended.
 *
 * @param status how it ended
 * @param answer the final answer ({@link Status#FINISHED}), else null
 * @param steps every turn, in order
 * @param reason why it stopped when it did not finish, else null
 */
public record SupervisorOutcome(
    Status status, String answer, List<SupervisorStep> steps, String reason) {

  /** Copies the steps. */
  public SupervisorOutcome {
    steps = List.copyOf(steps);
  }

  /** How a run ended. */
  public enum Status {
    /** The planner gave the final answer. */
    FINISHED,
    /** The turn bound was reached without a final answer. */
    TURNS_EXHAUSTED,
    /** The budget was used up (by the planner or a member). */
    BUDGET_EXHAUSTED,
    /** The planner failed (its model, its deadline); the reason says which. */
    FAILED
  }

  /** The turns taken (planner answers, valid or not). */
  public int turns() {
    return steps.size();
  }

  /** How many planner answers were not valid plans. */
  public long invalidPlans() {
    return steps.stream().filter(s -> s.kind() == SupervisorStep.Kind.INVALID_PLAN).count();
  }
}
