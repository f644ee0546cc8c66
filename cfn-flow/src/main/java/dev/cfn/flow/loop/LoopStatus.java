package dev.cfn.flow.loop;

/** Where a CFN Loop run stands. */
public enum LoopStatus {
  /** Agents are working. */
  RUNNING,
  /** The product owner escalated: the run waits for a person ({@link LoopRunner#decide}). */
  WAITING,
  /** Accepted: the owner (or a person) decided PROCEED. */
  ACCEPTED,
  /** Accepted with follow-ups recorded: the owner (or a person) decided DEFER. */
  DEFERRED,
  /** A bound was reached: the gate or the consensus was not met within its iterations. */
  FAILED,
  /** A person aborted the escalated run. */
  ABORTED;

  /** True when the run will not change any more. */
  public boolean isFinal() {
    return this != RUNNING && this != WAITING;
  }
}
