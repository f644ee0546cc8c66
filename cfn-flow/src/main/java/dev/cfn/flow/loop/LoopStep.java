package dev.cfn.flow.loop;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * One recorded step of a CFN Loop run: an agent's answer (or a person's decision) with what it cost
 * and when. The steps of a run are its whole history; {@link LoopRecord#decisions()} and the run's
 * status are derived from them by the loop's rules, so a run replays to the same decisions.
 *
 * @param iteration the iteration (1, 2, ...): one Loop 3 attempt and, when its gate passed, its
 *     validation and the owner's decision
 * @param phase which loop the step belongs to
 * @param agent the agent type asked ({@code person} for a human decision)
 * @param index the implementer's or validator's position in the spec (0 for the owner)
 * @param ok whether the answer was readable; a failed call or an unreadable answer is not
 * @param text the agent's answer as it came, or why there is none
 * @param result an implementer's result
 * @param confidence an implementer's or validator's confidence
 * @param verdict a validator's {@code approve} or {@code reject}
 * @param findings a validator's findings
 * @param decision the owner's or person's decision
 * @param note why the answer was not readable, the owner's reason, or the person's note
 * @param followUps the owner's follow-ups
 * @param inputTokens input tokens of the call (replayed calls included)
 * @param outputTokens output tokens of the call
 * @param costUsd the call's cost by the price table, 0 when unknown
 * @param startedAt when the call started, epoch milliseconds
 * @param endedAt when its answer came, epoch milliseconds
 * @param copied true when the step was copied from the run this one was forked from
 */
public record LoopStep(
    int iteration,
    Phase phase,
    String agent,
    int index,
    boolean ok,
    String text,
    String result,
    BigDecimal confidence,
    String verdict,
    List<String> findings,
    String decision,
    String note,
    List<String> followUps,
    long inputTokens,
    long outputTokens,
    BigDecimal costUsd,
    long startedAt,
    long endedAt,
    boolean copied) {

  /** The loop a step belongs to. */
  public enum Phase {
    /** Loop 3: an implementer's work. */
    IMPLEMENT,
    /** Loop 2: a validator's verdict. */
    VALIDATE,
    /** Loop 4: the product owner's decision. */
    DECIDE,
    /** A person's decision on an escalated run. */
    HUMAN
  }

  /** Checks the parts and copies the lists. */
  public LoopStep {
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(agent, "agent");
    text = text == null ? "" : text;
    note = note == null ? "" : note;
    findings = findings == null ? List.of() : List.copyOf(findings);
    followUps = followUps == null ? List.of() : List.copyOf(followUps);
    costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
  }

  /** The same step marked as copied from another run. */
  LoopStep asCopied() {
    return new LoopStep(
        iteration,
        phase,
        agent,
        index,
        ok,
        text,
        result,
        confidence,
        verdict,
        findings,
        decision,
        note,
        followUps,
        inputTokens,
        outputTokens,
        costUsd,
        startedAt,
        endedAt,
        true);
  }

  /** True when this step answers the call {@code (iteration, phase, index)}. */
  boolean answers(int iteration, Phase phase, int index) {
    return this.iteration == iteration && this.phase == phase && this.index == index;
  }
}
