package dev.cfn.core;

import java.util.List;

/** The dead-letter log: counts by reason, and the most recent letters. */
public interface DeadLetters {

  /** All dead letters since the runtime started. */
  long count();

  /** Dead letters with {@code reason} since the runtime started. */
  long count(DeadLetter.Reason reason);

  /**
   * Dead letters of messages sent with delivery {@code mode} since the runtime started: exact,
   * however many letters passed through the {@link #recent} window. This default counts only the
   * letters still in the window; the runtime's log overrides it with an exact count.
   */
  default long count(DeliveryMode mode) {
    return recent().stream().filter(d -> d.envelope().delivery() == mode).count();
  }

  /** The most recent letters, oldest first (a bounded window). */
  List<DeadLetter> recent();
}
