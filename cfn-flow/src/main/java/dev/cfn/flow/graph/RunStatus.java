package dev.cfn.flow.graph;

/** Where a run stands. */
public enum RunStatus {
  /** Tasks are still pending or running. */
  RUNNING,
  /** Every task succeeded or was skipped. */
  SUCCEEDED,
  /** A task failed (its dependents were cancelled). */
  FAILED,
  /** The run, or one of its tasks, was cancelled, or the run's deadline passed. */
  CANCELLED
}
