package dev.cfn.core;

import java.time.Duration;
import java.util.Objects;

/**
 * What happens when an agent's handler throws. The failed message always goes to the dead-letter
 * log with the cause; the strategy decides what happens to the agent.
 */
public sealed interface SupervisionStrategy
    permits SupervisionStrategy.Resume, SupervisionStrategy.Restart, SupervisionStrategy.Stop {

  /** Keep the same instance and go on with the next message. */
  static SupervisionStrategy resume() {
    return new Resume();
  }

  /** Stop the agent; its remaining mail goes to dead letters. */
  static SupervisionStrategy stop() {
    return new Stop();
  }

  /**
   * Replace the instance with a fresh one from the factory, keeping the mailbox. Allows at most
   * {@code maxRestarts} within {@code window}, else the agent stops. Before the n-th restart within
   * the window the agent pauses {@code minBackoff * 2^(n-1)}, capped at {@code maxBackoff}; its
   * mail waits meanwhile.
   */
  static SupervisionStrategy restart(
      int maxRestarts, Duration window, Duration minBackoff, Duration maxBackoff) {
    return new Restart(maxRestarts, window, minBackoff, maxBackoff);
  }

  /** Continue with the same instance. */
  record Resume() implements SupervisionStrategy {}

  /** Stop the agent. */
  record Stop() implements SupervisionStrategy {}

  /**
   * Restart with a budget and exponential backoff; see {@link #restart}.
   *
   * @param maxRestarts restarts allowed within {@code window}
   * @param window the sliding window the budget counts over
   * @param minBackoff pause before the first restart in the window
   * @param maxBackoff the cap on the pause
   */
  record Restart(int maxRestarts, Duration window, Duration minBackoff, Duration maxBackoff)
      implements SupervisionStrategy {
    /** Validates the budget. */
    public Restart {
      Objects.requireNonNull(window, "window");
      Objects.requireNonNull(minBackoff, "minBackoff");
      Objects.requireNonNull(maxBackoff, "maxBackoff");
      if (maxRestarts < 0) {
        throw new IllegalArgumentException("maxRestarts is " + maxRestarts + "; use 0 or more");
      }
      if (window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("restart window must be positive, was " + window);
      }
      if (minBackoff.isNegative() || maxBackoff.compareTo(minBackoff) < 0) {
        throw new IllegalArgumentException(
            "backoff must satisfy 0 <= minBackoff <= maxBackoff, was "
                + minBackoff
                + " and "
                + maxBackoff);
      }
    }

    /** The pause before the {@code n}-th restart within the window (n starts at 1). */
    public Duration backoff(int n) {
      long min = minBackoff.toNanos();
      if (min == 0) {
        return Duration.ZERO;
      }
      long max = maxBackoff.toNanos();
      int shift = Math.min(Math.max(n - 1, 0), 30);
      // min << shift overflows (possibly wrapping to a small positive value) once the shift
      // reaches the leading zeros of min; anything that large is past the cap anyway.
      if (shift >= Long.numberOfLeadingZeros(min)) {
        return Duration.ofNanos(max);
      }
      return Duration.ofNanos(Math.min(min << shift, max));
    }
  }
}
