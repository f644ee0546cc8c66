package dev.cfn.cli;

/**
 * A command cannot go on: carries what is wrong, the fix and the exit status. Commands throw it and
 * {@link ErrorReport} prints it as the one line {@code cfn <command>: what is wrong (fix: ...)}; no
 * stack trace unless {@code --debug}.
 */
final class CommandFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;
  private final String fix;

  CommandFailure(int exitCode, String what, String fix) {
    this(exitCode, what, fix, null);
  }

  CommandFailure(int exitCode, String what, String fix, Throwable cause) {
    super(what, cause);
    this.exitCode = exitCode;
    this.fix = fix;
  }

  /** Bad input (exit 2): a value, a file or a combination of options the command cannot use. */
  static CommandFailure usage(String what, String fix) {
    return new CommandFailure(ExitCode.USAGE, what, fix);
  }

  /** The command ran and failed (exit 1). */
  static CommandFailure failed(String what, String fix) {
    return new CommandFailure(ExitCode.FAILED, what, fix);
  }

  int exitCode() {
    return exitCode;
  }

  /** What to do about it; may be null. */
  String fix() {
    return fix;
  }
}
