package dev.cfn.ai.model;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Stops calling a provider that keeps failing, so that agents fail fast (or fall back) instead of
 * each waiting through its own retries.
 *
 * <p>CLOSED: calls pass; {@code failureThreshold} consecutive failures open the circuit. OPEN:
 * {@link #tryAcquire()} refuses every call until {@code coolDown} has passed. HALF_OPEN: the first
 * call after the cool-down is let through as a trial and the others are refused; its success closes
 * the circuit, its failure opens it for another cool-down. A trial that never reports (its caller
 * died) is replaced by a new one after another cool-down.
 *
 * <p>Time comes from a {@code nanoTime} source, so tests drive it without sleeping. Thread-safe.
 */
public final class CircuitBreaker {
  /** The breaker's state. */
  public enum State {
    /** Calls pass. */
    CLOSED,
    /** Calls are refused until the cool-down has passed. */
    OPEN,
    /** One trial call is in flight; the others are refused. */
    HALF_OPEN
  }

  private final String name;
  private final int failureThreshold;
  private final long coolDownNanos;
  private final LongSupplier nanoTime;

  private State state = State.CLOSED;
  private int consecutiveFailures;
  private long openedAt;
  private long trialStartedAt;

  /**
   * Creates a closed breaker.
   *
   * @param name the provider it guards, for messages
   * @param failureThreshold consecutive failures that open the circuit, at least 1
   * @param coolDown how long it stays open before a trial call
   * @param nanoTime a monotonic time source ({@code System::nanoTime} in production)
   */
  public CircuitBreaker(
      String name, int failureThreshold, Duration coolDown, LongSupplier nanoTime) {
    if (failureThreshold < 1) {
      throw new IllegalArgumentException("failureThreshold must be >= 1, got " + failureThreshold);
    }
    if (coolDown.isNegative() || coolDown.isZero()) {
      throw new IllegalArgumentException("coolDown must be positive, got " + coolDown);
    }
    this.name = Objects.requireNonNull(name, "name");
    this.failureThreshold = failureThreshold;
    this.coolDownNanos = coolDown.toNanos();
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  /**
   * Asks whether a call may go ahead now. A caller that gets true must report the outcome with
   * {@link #onSuccess()}, {@link #onFailure()} or {@link #onAbandoned()}.
   *
   * @return true when the call may proceed (possibly as the half-open trial)
   */
  public synchronized boolean tryAcquire() {
    long now = nanoTime.getAsLong();
    switch (state) {
      case CLOSED -> {
        return true;
      }
      case OPEN -> {
        if (now - openedAt >= coolDownNanos) {
          state = State.HALF_OPEN;
          trialStartedAt = now;
          return true;
        }
        return false;
      }
      case HALF_OPEN -> {
        if (now - trialStartedAt >= coolDownNanos) {
          trialStartedAt = now; // the previous trial never reported: let another one through
          return true;
        }
        return false;
      }
    }
    throw new IllegalStateException("unknown state " + state);
  }

  /** Reports that a call succeeded (the provider answered): the circuit closes. */
  public synchronized void onSuccess() {
    consecutiveFailures = 0;
    state = State.CLOSED;
  }

  /** Reports that a call failed in a way that counts against the provider. */
  public synchronized void onFailure() {
    consecutiveFailures++;
    if (state == State.HALF_OPEN || consecutiveFailures >= failureThreshold) {
      state = State.OPEN;
      openedAt = nanoTime.getAsLong();
    }
  }

  /**
   * Reports that a call ended without telling anything about the provider: the caller was
   * interrupted or cancelled it, or failed itself. Nothing is recorded; a half-open trial is
   * released, so that the next call may be the trial at once instead of after another cool-down.
   */
  public synchronized void onAbandoned() {
    if (state == State.HALF_OPEN) {
      trialStartedAt = nanoTime.getAsLong() - coolDownNanos;
    }
  }

  /**
   * Returns the current state (OPEN stays OPEN until a caller asks after the cool-down).
   *
   * @return the state
   */
  public synchronized State state() {
    return state;
  }

  /**
   * Returns how long until an open circuit lets a trial call through.
   *
   * @return the remaining cool-down, zero when the circuit is not open
   */
  public synchronized Duration remainingCoolDown() {
    if (state != State.OPEN) {
      return Duration.ZERO;
    }
    long left = coolDownNanos - (nanoTime.getAsLong() - openedAt);
    return left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
  }

  /**
   * Returns the provider this breaker guards.
   *
   * @return its name
   */
  public String name() {
    return name;
  }

  @Override
  public synchronized String toString() {
    return "CircuitBreaker[" + name + " " + state + ", failures=" + consecutiveFailures + "]";
  }
}
