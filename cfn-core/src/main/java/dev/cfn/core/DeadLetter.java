package dev.cfn.core;

import java.time.Instant;

/**
 * A message that could not be delivered or handled, with the reason.
 *
 * @param envelope the message
 * @param reason why it ended here
 * @param detail a human-readable explanation (the exception for a failed handler)
 * @param at when it was dead-lettered
 */
public record DeadLetter(Envelope envelope, Reason reason, String detail, Instant at) {

  /** Why a message was dead-lettered. */
  public enum Reason {
    /** No agent type with the recipient's type is registered. */
    NO_SUCH_AGENT_TYPE,
    /** The recipient stopped before handling it. */
    AGENT_STOPPED,
    /** A publication matched no subscription. */
    NO_SUBSCRIBERS,
    /** Dropped to make room under {@link OverflowPolicy#DROP_OLDEST}. */
    DROPPED_OLDEST,
    /** The handler threw while handling it. */
    HANDLER_FAILED,
    /** A reply arrived after its request timed out or was already answered. */
    LATE_REPLY,
    /** Still queued when a shutdown deadline passed. */
    SHUTDOWN
  }
}
