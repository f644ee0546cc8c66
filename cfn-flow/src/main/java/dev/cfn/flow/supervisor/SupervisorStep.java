package dev.cfn.flow.supervisor;

/**
 * One turn of a {@link Supervisor}, as its progress listener and outcome show it.
 *
 * @param turn the turn, from 1
 * @param kind what happened
 * @param member the member the plan named ({@link Kind#DELEGATED}), else null
 * @param agent the agent that did the work, as {@code type/key}, or null
 * @param input what the member was given, the planner's invalid answer, or the final answer
 * @param output the member's answer or why it failed ({@link Kind#DELEGATED}), why the plan was
 *     invalid ({@link Kind#INVALID_PLAN}), else null
 * @param ok false when the member failed or the plan was invalid
 */
public record SupervisorStep(
    int turn, Kind kind, String member, String agent, String input, String output, boolean ok) {

  /** What a turn did. */
  public enum Kind {
    /** The planner gave a member work, and the member answered (or failed). */
    DELEGATED,
    /** The planner's answer was not a valid plan; the reason goes back to it next turn. */
    INVALID_PLAN,
    /** The planner gave the final answer. */
    FINISHED
  }
}
