package dev.cfn.ai.process;

/**
 * Thrown by a {@link ProcessAgent} handler when its long-lived process can no longer serve: it
 * exited, did not answer in time, or broke the protocol. The handler has already replied with
 * {@link #result()}; throwing hands the agent to its supervision strategy, whose restart starts a
 * fresh process. The message is the result's detail: it names the program and pid, never the
 * arguments or the environment.
 */
final class ProcessFailure extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient ProcessResult result;

  ProcessFailure(ProcessResult result) {
    super(result.detail());
    this.result = result;
  }

  ProcessResult result() {
    return result;
  }
}
