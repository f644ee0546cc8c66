package dev.cfn.flow.graph;

/** A change of a task's state, published as a {@link FlowEvent} on {@code cfn.flow.task.NAME}. */
public enum Transition {
  /** Its dependencies finished and its input was computed; it is about to be sent. */
  QUEUED,
  /** Its agent was chosen. */
  ASSIGNED,
  /** The attempt was handed to the agent's mailbox (the bus accepted it). */
  RUNNING,
  /** It finished with a result (a loop: an iteration did). */
  SUCCEEDED,
  /** An attempt failed or timed out and another follows after the backoff. */
  RETRIED,
  /** It failed after its last attempt. */
  FAILED,
  /** It was cancelled (by a caller, the deadline, or a failed dependency). */
  CANCELLED,
  /** Its branch condition did not hold. */
  SKIPPED;

  private final String topic =
      FlowEvent.TASK_TOPIC + "." + name().toLowerCase(java.util.Locale.ROOT);

  /** The topic type events of this transition are published on. */
  public String topic() {
    return topic;
  }
}
