package dev.cfn.ai.process;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link ProcessAgent} replies for each message: how it ended, the exit code, the output
 * (bounded by the spec: a cut is flagged, never silent), how long it took and which process served
 * it.
 *
 * <p>A per-message run that exits with a non-zero code is {@link Outcome#COMPLETED}: the command
 * ran; {@link #succeeded()} tells whether it also exited 0. In long-lived mode a reply has no exit
 * code ({@link #NO_EXIT_CODE}) unless the process exited.
 *
 * @param outcome how the message ended
 * @param exitCode the process's exit code, or {@link #NO_EXIT_CODE} when it has none (a long-lived
 *     process that answered, or a process that never started)
 * @param stdout the reply: all stdout of a per-message run, or the reply line(s) of a long-lived
 *     process, cut at the spec's bound
 * @param stderrTail the last stderr bytes written during the message, at most the spec's bound
 * @param stdoutTruncated true when stdout was longer than the bound and was cut
 * @param stderrTruncated true when more stderr was written than the tail holds
 * @param duration from the start of the run (or the write of the line) to the end
 * @param pid the process that served the message, or {@code -1} if none started
 * @param detail what went wrong, in words, naming the fix; empty for a run that exited 0 or a reply
 *     that was answered
 */
public record ProcessResult(
    Outcome outcome,
    int exitCode,
    String stdout,
    String stderrTail,
    boolean stdoutTruncated,
    boolean stderrTruncated,
    Duration duration,
    long pid,
    String detail) {

  /** The exit code of a result whose process did not exit. */
  public static final int NO_EXIT_CODE = -1;

  /** Requires every part. */
  public ProcessResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(stdout, "stdout");
    Objects.requireNonNull(stderrTail, "stderrTail");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(detail, "detail");
  }

  /** True when the process answered and, if it exited, exited 0. */
  public boolean succeeded() {
    return outcome == Outcome.COMPLETED && (exitCode == 0 || exitCode == NO_EXIT_CODE);
  }

  /** Shows the output sizes, not the output, which may be large or private. */
  @Override
  public String toString() {
    return "ProcessResult[outcome="
        + outcome
        + ", exitCode="
        + exitCode
        + ", stdout="
        + stdout.length()
        + " chars"
        + (stdoutTruncated ? " (truncated)" : "")
        + ", stderrTail="
        + stderrTail.length()
        + " chars"
        + (stderrTruncated ? " (truncated)" : "")
        + ", duration="
        + duration
        + ", pid="
        + pid
        + (detail.isEmpty() ? "" : ", detail=" + detail)
        + "]";
  }

  /** A result for a message that never reached a process. */
  static ProcessResult failure(Outcome outcome, long pid, String detail) {
    return new ProcessResult(
        outcome, NO_EXIT_CODE, "", "", false, false, Duration.ZERO, pid, detail);
  }

  /** How a message ended. */
  public enum Outcome {
    /** The per-message process exited (with any code), or the long-lived process answered. */
    COMPLETED,
    /** No exit or answer within the timeout: the process tree was killed. */
    TIMED_OUT,
    /** The long-lived process exited before it answered; the agent restarts it. */
    EXITED,
    /** The long-lived process answered with a line that breaks the protocol; it is restarted. */
    PROTOCOL_ERROR,
    /** The command could not be started (missing program, bad directory). */
    START_FAILED,
    /**
     * The run was interrupted because the runtime is shutting down; the process tree was killed.
     */
    CANCELLED,
    /** The message could not be turned into input (wrong payload type, disallowed variable...). */
    REJECTED
  }
}
