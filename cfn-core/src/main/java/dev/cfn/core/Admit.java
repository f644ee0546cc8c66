package dev.cfn.core;

import java.util.concurrent.atomic.LongAdder;

/**
 * Stage 2 of the message path, admission: whether the runtime still takes a message (running;
 * draining, when only agents may send; terminated), and the two counts the drain at shutdown relies
 * on.
 *
 * <p>Drain accounting: every message is counted {@link #accepted} before it is offered to a mailbox
 * and, after reading the state, either offered or refused; it is counted finished when its handler
 * returns (the dispatchers count those) or, in {@link #finishedElsewhere}, when it ends without a
 * handler (rejected, dropped, dead-lettered from a mailbox). A sender that counts before it reads
 * the state either sees the shutdown and is refused, or is counted, so the drain never misses it.
 */
final class Admit {
  static final int RUNNING = 0;
  static final int DRAINING = 1;
  static final int TERMINATED = 2;

  // Senders off the carriers count here; a handler on a carrier counts on its carrier instead
  // (Carrier.countAccepted), and AgentRuntime.acceptedCount adds the two.
  final LongAdder accepted = new LongAdder();
  final LongAdder finishedElsewhere = new LongAdder();
  private volatile int state = RUNNING;

  /** True when a message from an agent ({@code internal}) or from outside may enter now. */
  boolean admits(boolean internal) {
    int s = state;
    return s == RUNNING || (internal && s == DRAINING);
  }

  boolean isRunning() {
    return state == RUNNING;
  }

  boolean isTerminated() {
    return state == TERMINATED;
  }

  void draining() {
    state = DRAINING;
  }

  void terminated() {
    state = TERMINATED;
  }

  /** Throws unless the runtime is running (spawning, RELIABLE sends from outside). */
  void requireRunning(String what) {
    if (state != RUNNING) {
      throw new IllegalStateException("the runtime is shutting down; " + what);
    }
  }

  /** The refusal of a send from outside after shutdown began. */
  static IllegalStateException refusal() {
    return new IllegalStateException("the runtime has shut down; no more messages are accepted");
  }
}
