package dev.cfn.flow.graph;

import java.util.Map;

/**
 * How a run ended: its status, every task's outcome (in the graph's order) and its final state.
 *
 * @param runId the run
 * @param graph the graph's name
 * @param status how it ended
 * @param tasks each task's outcome, by task id
 * @param state the run's state (blackboard) at the end
 */
public record RunOutcome(
    String runId,
    String graph,
    RunStatus status,
    Map<String, TaskOutcome> tasks,
    Map<String, String> state) {

  /** Copies the maps. */
  public RunOutcome {
    tasks = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tasks));
    state = Map.copyOf(state);
  }

  /**
   * The result of task {@code task}, or null when it has none (a loop that failed at its bound
   * keeps its last iteration's result).
   */
  public String result(String task) {
    TaskOutcome t = tasks.get(task);
    return t == null ? null : t.result();
  }
}
