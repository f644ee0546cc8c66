package dev.cfn.core;

/** What a send does when the recipient's mailbox lane is full. */
public enum OverflowPolicy {
  /**
   * Wait for space up to the agent type's send deadline, then throw {@link MailboxFullException}.
   *
   * <p>A caller's thread (or a blocking agent's virtual thread) waits in the send. A handler on a
   * carrier never parks its carrier: its send returns at once, the message waits for room in order
   * behind the agent's other sends, and the sending agent handles its next message only once they
   * are all in; the carrier runs other agents meanwhile. Past the deadline the message is rejected
   * (counted in {@link CfnMetrics#MAILBOX_REJECTIONS}) and the exception goes to the sending
   * agent's supervision.
   */
  BLOCK,
  /** Throw {@link MailboxFullException} at once. */
  REJECT,
  /** Drop the oldest waiting message of the lane (counted and dead-lettered) to make room. */
  DROP_OLDEST
}
