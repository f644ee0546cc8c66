package dev.cfn.cli;

/**
 * The exit statuses of every {@code cfn} command, listed in {@code cfn --help} and the README. A
 * command returns one of these; {@link ErrorReport} maps exceptions onto them.
 */
final class ExitCode {
  /** The command did what was asked; a check found nothing wrong. */
  static final int OK = 0;

  /**
   * The command ran and the answer is no: a check found a problem, a task or run failed, or what
   * was asked for (an agent, an entry, a dead letter) does not exist.
   */
  static final int FAILED = 1;

  /** Bad usage or input: an unknown option, a bad value, a missing or unreadable file. */
  static final int USAGE = 2;

  /** Refused: an access level or a permission forbids it; nothing was changed. */
  static final int DENIED = 3;

  /** An unexpected error (a bug, or the machine: disk full, out of memory); see --debug. */
  static final int ERROR = 4;

  /** The lines {@code cfn --help} prints under "Exit codes". */
  static final String[] HELP = {
    "0:done; a check found nothing wrong",
    "1:failed: a check found a problem, a run failed, or the agent, entry or dead letter asked"
        + " for does not exist",
    "2:usage: an unknown option, a bad value, a missing or unreadable file; nothing was changed",
    "3:denied: an access level or permission forbids it; nothing was changed",
    "4:unexpected error (a bug, or disk full); rerun with --debug for the stack trace"
  };

  private ExitCode() {}
}
