package dev.cfn.core;

/**
 * The lane a message waits in. A mailbox serves the highest non-empty lane first, but ages lower
 * lanes so that a waiting message is served after at most {@code agingLimit} messages from higher
 * lanes (see {@link AgentType.Builder#agingLimit(int)}): low priority is delayed, never starved.
 */
public enum Priority {
  /** Control traffic: shutdown, cancellation, budget exhaustion. */
  CRITICAL,
  /** Urgent work. */
  HIGH,
  /** The default. */
  NORMAL,
  /** Background work. */
  LOW
}
