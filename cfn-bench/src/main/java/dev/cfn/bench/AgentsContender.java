package dev.cfn.bench;

/**
 * One system under test of {@code cfn bench agents}: it runs one task (a model call, or an agent's
 * whole turn with its tool round trip) for a slot of the load driver and returns the answer's text,
 * which the driver checks against {@link #expected()}. A slot is used by one driver thread at a
 * time, so a contender may keep per-slot state (an agent per slot, say) without locking.
 */
interface AgentsContender extends AutoCloseable {

  /**
   * Runs one task for {@code slot} and returns the answer's text.
   *
   * @param slot the driver thread's number, {@code 0 <= slot < maxConcurrency}
   * @throws Exception when the task failed; the driver counts it as a failure
   */
  String task(int slot) throws Exception;

  /** The answer every task must return. */
  String expected();

  /** How many model requests one task makes (1, or 2 with a tool round trip). */
  int modelCallsPerTask();

  /** How many times a tool of this contender has run so far (0 for a contender without tools). */
  default long toolCalls() {
    return 0;
  }

  @Override
  void close() throws Exception;
}
