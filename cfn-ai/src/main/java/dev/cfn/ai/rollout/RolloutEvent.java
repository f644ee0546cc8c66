package dev.cfn.ai.rollout;

import java.time.Instant;
import java.util.Objects;

/**
 * One step of a rollout, kept in its history, given to the rollout's listener (which the server
 * publishes on {@code cfn.rollout.KIND} and appends to the audit log).
 *
 * @param at when it happened
 * @param agent the agent rolled out
 * @param kind {@code started}, {@code promoted}, {@code completed} or {@code rolled-back}
 * @param share the canary's share of new tasks after the event, in percent
 * @param detail why, for people: the measures that held or the gate that failed
 * @param by who: {@code gates} for the automatic decisions, else the operator's command
 */
public record RolloutEvent(
    Instant at, String agent, String kind, int share, String detail, String by) {
  /** The kinds of events. */
  public static final String STARTED = "started";

  /** A step up. */
  public static final String PROMOTED = "promoted";

  /** The canary serves every task and replaced the definition's file. */
  public static final String COMPLETED = "completed";

  /** The baseline serves every task again. */
  public static final String ROLLED_BACK = "rolled-back";

  /** Checks the parts. */
  public RolloutEvent {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(agent, "agent");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(by, "by");
  }
}
