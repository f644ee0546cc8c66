package dev.cfn.flow.loop;

import java.util.List;

/**
 * The loop's protocol. Every message travels RELIABLE, so they are records of strings and numbers a
 * journal stores as JSON ({@link LoopRunner#journalPayloadTypes()}).
 *
 * <p>To a run's coordinator ({@code cfn-loop/RUN}): {@link StartLoop}, {@link StepDone}, {@link
 * Decide}, {@link ResumeLoop}. To a call's agent ({@code cfn-loop-call/RUN.ITERATION.PHASE.INDEX}):
 * {@link Call}. To the index ({@code cfn-loop-index/runs}): {@link Indexed}.
 */
final class Messages {
  private Messages() {}

  /** Starts a run from its initial record (a fork's or a replay's carries its prefix). */
  record StartLoop(String recordJson) {}

  /** A call's answer, as a raw step (not yet read by the rules). */
  record StepDone(String callId, String stepJson) {}

  /** A person's decision on an escalated run: PROCEED, DEFER or ABORT. */
  record Decide(String decision, String note, long at) {}

  /** After a restart, or to learn a run's state: report it if it settled. */
  record ResumeLoop(long at) {}

  /** Asks agent {@code agent} the {@code prompt}, for step {@code iteration.phase.index}. */
  record Call(
      String runId,
      String keyRun,
      int iteration,
      String phase,
      int index,
      String agent,
      String prompt,
      long timeoutMillis) {}

  /** A run's status changed; {@code recordJson} is the committed record when it settled. */
  record Indexed(String runId, String status, long at, String recordJson) {}

  static final List<Class<?>> RELIABLE_TYPES =
      List.of(
          StartLoop.class,
          StepDone.class,
          Decide.class,
          ResumeLoop.class,
          Call.class,
          Indexed.class);
}
