package dev.cfn.core;

/** What a send does when the recipient's mailbox lane is full. */
public enum OverflowPolicy {
  /**
   * Wait for space up to the agent type's send deadline, then throw {@link MailboxFullException}.
   */
  BLOCK,
  /** Throw {@link MailboxFullException} at once. */
  REJECT,
  /** Drop the oldest waiting message of the lane (counted and dead-lettered) to make room. */
  DROP_OLDEST
}
