package dev.cfn.flow.graph;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A handle on one run: its outcome, and cancellation of the run or of one task. Cancelling is a
 * message to the run's coordinator (RELIABLE in a RELIABLE run), so it is ordered with everything
 * else the run does; a task already final is not changed.
 */
public final class GraphRun {
  private final GraphRunner runner;
  private final String runId;
  private final CompletableFuture<RunOutcome> outcome;

  GraphRun(GraphRunner runner, String runId, CompletableFuture<RunOutcome> outcome) {
    this.runner = runner;
    this.runId = runId;
    this.outcome = outcome;
  }

  /** The run's id. */
  public String id() {
    return runId;
  }

  /**
   * Completes with the run's outcome when it ends: SUCCEEDED, FAILED or CANCELLED (a failed run
   * completes normally; its outcome says which task failed and why). A RELIABLE run's outcome
   * completes only once the turn that ended the run has committed: an outcome seen is durable.
   */
  public CompletableFuture<RunOutcome> outcome() {
    return outcome;
  }

  /** Cancels the whole run: running tasks stop being retried, pending ones never start. */
  public void cancel() {
    runner.cancel(runId, null, "the run was cancelled");
  }

  /** Cancels task {@code task}; its dependents are cancelled with it, the run ends CANCELLED. */
  public void cancel(String task) {
    runner.cancel(runId, Objects.requireNonNull(task, "task"), "cancelled by a caller");
  }

  @Override
  public String toString() {
    return "GraphRun[" + runId + "]";
  }
}
