package dev.cfn.flow.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A CFN Loop run as it is stored: what it runs (spec, task), every step so far, and what the loop's
 * rules derived from them (the decisions, the status). In a RELIABLE runtime it lives in the
 * journal, in the state of the run's coordinator ({@link LoopRunner#coordinator(String)}, key
 * {@link #STATE_KEY}), written in the same commit as the message that changed it; {@link #fromJson}
 * reads it back, e.g. from a read-only journal for {@code cfn loop show}.
 *
 * @param runId the run's id
 * @param spec the agents, gate, threshold and bounds
 * @param task the task the implementers work on
 * @param keyRun the run id the agents' call-log keys are made of: the run's own id, or the
 *     original's when this is a replay
 * @param forkedFrom the run this one was forked from, or null
 * @param forkedAt the iteration the fork started at (0 when not a fork)
 * @param status where the run stands
 * @param reason why the run ended or waits, for people
 * @param decisions what the rules decided, in order (gate, consensus, owner, person)
 * @param steps every step, in the order they were recorded
 * @param presetDecisions a replay's recorded human decisions, applied instead of waiting
 * @param dispatched the calls sent so far ({@code ITERATION.PHASE.INDEX}), so none is sent twice
 * @param createdAt when the run started, epoch milliseconds
 */
public record LoopRecord(
    String runId,
    LoopSpec spec,
    String task,
    String keyRun,
    String forkedFrom,
    int forkedAt,
    LoopStatus status,
    String reason,
    List<String> decisions,
    List<LoopStep> steps,
    List<LoopStep> presetDecisions,
    List<String> dispatched,
    long createdAt) {

  /** The state key of the record in its coordinator's namespace. */
  public static final String STATE_KEY = "run";

  private static final ObjectMapper JSON = Steps.JSON;

  /** Copies the lists. */
  public LoopRecord {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(status, "status");
    decisions = decisions == null ? List.of() : List.copyOf(decisions);
    steps = steps == null ? List.of() : List.copyOf(steps);
    presetDecisions = presetDecisions == null ? List.of() : List.copyOf(presetDecisions);
    dispatched = dispatched == null ? List.of() : List.copyOf(dispatched);
  }

  /** The last iteration that has a step (0 before the first answer). */
  public int iterations() {
    return steps.stream().mapToInt(LoopStep::iteration).max().orElse(0);
  }

  /** Input plus output tokens of every step. */
  public long tokens() {
    return steps.stream().mapToLong(s -> s.inputTokens() + s.outputTokens()).sum();
  }

  /** The cost of every step. */
  public BigDecimal costUsd() {
    return steps.stream().map(LoopStep::costUsd).reduce(BigDecimal.ZERO, BigDecimal::add);
  }

  /** The accepted work: every implementer's result of the last iteration, or empty. */
  public List<String> results() {
    int last = iterations();
    List<String> out = new ArrayList<>();
    for (LoopStep s : steps) {
      if (s.iteration() == last && s.phase() == LoopStep.Phase.IMPLEMENT && s.result() != null) {
        out.add(s.result());
      }
    }
    return out;
  }

  /** The follow-ups the owner recorded with DEFER. */
  public List<String> followUps() {
    List<String> out = new ArrayList<>();
    for (LoopStep s : steps) {
      if (s.phase() == LoopStep.Phase.DECIDE) {
        out.clear();
        out.addAll(s.followUps());
      }
    }
    return out;
  }

  /** The record as JSON, as it is stored. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a loop record could not be written as JSON", e);
    }
  }

  /**
   * Reads a record stored by {@link #toJson}.
   *
   * @throws IllegalArgumentException when the text is not a loop record
   */
  public static LoopRecord fromJson(String json) {
    try {
      return JSON.readValue(json, LoopRecord.class);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IllegalArgumentException(
          "not a stored CFN Loop run (" + e.getMessage() + "); was it written by a newer cfn?", e);
    }
  }

  LoopRecord with(
      LoopStatus status,
      String reason,
      List<String> decisions,
      List<LoopStep> steps,
      List<String> dispatched) {
    return new LoopRecord(
        runId,
        spec,
        task,
        keyRun,
        forkedFrom,
        forkedAt,
        status,
        reason,
        decisions,
        steps,
        presetDecisions,
        dispatched,
        createdAt);
  }
}
