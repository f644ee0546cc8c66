package dev.cfn.core;

import java.util.List;

/** The dead-letter log: counts by reason, and the most recent letters. */
public interface DeadLetters {

  /** All dead letters since the runtime started. */
  long count();

  /** Dead letters with {@code reason} since the runtime started. */
  long count(DeadLetter.Reason reason);

  /** The most recent letters, oldest first (a bounded window). */
  List<DeadLetter> recent();
}
