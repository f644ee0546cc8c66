package dev.cfn.ai.hook;

import java.util.Objects;

/**
 * What a hook decided: go on (with text for the agent, possibly empty) or block (with the reason,
 * which the agent reads).
 *
 * @param blocked true when the hook refuses the action (or failed)
 * @param message what the agent is told: feedback when not blocked, the reason when blocked; empty
 *     for nothing
 */
public record HookOutcome(boolean blocked, String message) {
  private static final HookOutcome PROCEED = new HookOutcome(false, "");

  /** Requires the message (use empty text for none). */
  public HookOutcome {
    Objects.requireNonNull(message, "message");
  }

  /** Go on, telling the agent nothing. */
  public static HookOutcome proceed() {
    return PROCEED;
  }

  /** Go on, adding {@code text} to what the agent sees (after a tool call or an edit). */
  public static HookOutcome feedback(String text) {
    return new HookOutcome(false, Objects.requireNonNull(text, "text"));
  }

  /** Refuse the action (at a {@code PRE_} moment); {@code reason} says why and what to do. */
  public static HookOutcome block(String reason) {
    Objects.requireNonNull(reason, "reason");
    return new HookOutcome(true, reason.isBlank() ? "(the hook gave no reason)" : reason);
  }
}
