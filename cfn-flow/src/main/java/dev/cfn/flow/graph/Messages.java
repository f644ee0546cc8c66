package dev.cfn.flow.graph;

import java.util.List;
import java.util.Map;

/**
 * The messages of the graph protocol. In a RELIABLE run they travel as RELIABLE messages, so they
 * are records of strings and numbers that a journal stores as JSON (see {@link
 * GraphRunner#journalPayloadTypes()}).
 *
 * <p>To a run's coordinator ({@code cfn-flow-run/RUN}): {@link StartRun}, {@link TaskFinished},
 * {@link CancelRun}, {@link CancelTask}, {@link ResumeRun}, {@link RunDeadline}, {@link RetryDue},
 * the replies of the tasks' agents; in a RELIABLE run also {@link TimersDue}, in a BEST_EFFORT run
 * {@link AttemptDone}. The rest belongs to runs started by an earlier version, whose task
 * iterations went through an attempts agent ({@code cfn-flow-task/RUN.TASK.ITERATION}, {@link
 * TaskAttempts}): {@link Execute}, {@link AttemptTimeout}, {@link RetryAttempt}, {@link
 * CancelAttempts}, {@link Rearm}, {@link WorkerAnswer} to it and {@link TaskFinished} from it; they
 * stay so that such runs finish after an upgrade.
 */
final class Messages {
  private Messages() {}

  /** Starts a run of graph {@code graph} with {@code state}; {@code deadlineAt} 0 for none. */
  record StartRun(String graph, Map<String, String> state, long deadlineAt) {}

  /** A task's iteration ended: {@code status} is SUCCEEDED or FAILED. */
  record TaskFinished(
      String task, int iteration, String status, String result, String error, int attempts) {}

  /** Cancels the run. */
  record CancelRun(String reason) {}

  /** Cancels one task. */
  record CancelTask(String task, String reason) {}

  /** After a restart: re-arm timers, or report the outcome of a finished run. */
  record ResumeRun(long at) {}

  /** The run's deadline passed. */
  record RunDeadline(long at) {}

  /** BEST_EFFORT runs: an attempt's answer (or failure), back on the coordinator's turn. */
  record AttemptDone(String task, int iteration, int attempt, boolean ok, String text) {}

  /** BEST_EFFORT runs: a retry's backoff is over, send attempt {@code attempt}. */
  record RetryDue(String task, int iteration, int attempt) {}

  /**
   * RELIABLE runs: the coordinator's timer went off (set for {@code at}, nanoTime): time out the
   * attempts and end the backoffs that are due.
   */
  record TimersDue(long at) {}

  /** Runs one task iteration: what to send to whom, how long to wait, how often to try. */
  record Execute(
      String runId,
      String task,
      int iteration,
      String target,
      String input,
      long timeoutMillis,
      int attempts,
      long backoffMillis) {}

  /** Attempt {@code attempt} had no answer within its timeout. */
  record AttemptTimeout(int attempt) {}

  /** Attempt {@code attempt}'s backoff is over: send it. */
  record RetryAttempt(int attempt) {}

  /** Stop trying; the coordinator has already recorded the task as cancelled. */
  record CancelAttempts(String reason) {}

  /** After a restart: arm the timer of the attempt under way again. */
  record Rearm(long at) {}

  /** A worker's answer that arrived BEST_EFFORT, passed on to the agent itself RELIABLE. */
  record WorkerAnswer(boolean ok, String text) {}

  /** Every payload class above that a RELIABLE run journals. */
  static final List<Class<?>> RELIABLE_TYPES =
      List.of(
          StartRun.class,
          TaskFinished.class,
          CancelRun.class,
          CancelTask.class,
          ResumeRun.class,
          RunDeadline.class,
          Execute.class,
          AttemptTimeout.class,
          RetryAttempt.class,
          CancelAttempts.class,
          Rearm.class,
          WorkerAnswer.class,
          TimersDue.class,
          dev.cfn.ai.TaskFailed.class,
          dev.cfn.ai.TaskResult.class);
}
