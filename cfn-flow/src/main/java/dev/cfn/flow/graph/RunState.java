package dev.cfn.flow.graph;

import java.util.Map;
import java.util.Optional;

/**
 * What a task's input, a branch's condition and a loop's exit condition read: the run's shared
 * state (its blackboard: string keys and values, given at start and written by tasks with {@link
 * TaskSpec#writes}), the results of finished tasks and the iteration of loops. It is stored with
 * the run: in the journal when the run is RELIABLE, in memory otherwise.
 */
public interface RunState {

  /** The run's id. */
  String runId();

  /** The value of {@code key} in the run's state. */
  Optional<String> get(String key);

  /** The result of task {@code task}, once it succeeded (a loop: its latest iteration's). */
  Optional<String> result(String task);

  /** The iteration task {@code task} is at (1 for a task that is not a loop, or not yet run). */
  int iteration(String task);

  /** A copy of the whole state. */
  Map<String, String> snapshot();
}
