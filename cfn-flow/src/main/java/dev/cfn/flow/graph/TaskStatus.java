package dev.cfn.flow.graph;

/** Where a task of a run stands. */
public enum TaskStatus {
  /** Waiting for its dependencies. */
  PENDING,
  /** Sent to its agent, attempts under way (or waiting out a retry's backoff). */
  RUNNING,
  /** Finished with a result. */
  SUCCEEDED,
  /** Failed after its last attempt, or a loop reached its bound without its exit condition. */
  FAILED,
  /** Its branch condition did not hold; counts as done for its dependents. */
  SKIPPED,
  /** Cancelled: by a caller, by the run's deadline, or because a dependency failed. */
  CANCELLED;

  /** True once the task will not change any more. */
  public boolean isFinal() {
    return this != PENDING && this != RUNNING;
  }
}
