package dev.cfn.ai.model;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * Stops calling a provider that is failing, so that agents fail fast (or fall back) instead of each
 * waiting through its own retries, without tripping on the noise a busy provider always has (a
 * stale pooled connection, one 503 in a hundred calls).
 *
 * <p>It works as resilience4j's count-based breaker. CLOSED: calls pass, and the outcome of each
 * call goes into a ring of the last {@code windowSize} outcomes; once the ring holds at least
 * {@code minimumCalls} outcomes and {@code failureRatePercent} percent or more of them are
 * failures, the circuit opens. OPEN: {@link #tryAcquire()} refuses every call until {@code
 * coolDown} has passed. HALF_OPEN: {@code halfOpenProbes} calls are let through as probes and the
 * others refused; when every probe has succeeded the circuit closes with an empty window, and one
 * failed probe opens it for another cool-down. A probe that never reports (its caller died) is
 * replaced by a new one after another cool-down.
 *
 * <p>The caller reports one outcome per call, not per attempt ({@link ResilientProvider} does): a
 * failure that a retry fixed is a success.
 *
 * <p>Every change of state goes to the {@link Listener}s once, after the breaker's lock is released
 * ({@link ResilientProvider} logs it at WARN; {@link ModelRouter#bindTo} makes the state a gauge).
 *
 * <p>Time comes from a {@code nanoTime} source, so tests drive it without sleeping. Thread-safe:
 * the state is a volatile field, so a closed breaker admits a call without taking the lock;
 * recording an outcome takes the lock for a few array operations.
 */
public final class CircuitBreaker {
  /** The breaker's state. */
  public enum State {
    /** Calls pass; their outcomes fill the window. */
    CLOSED,
    /** Calls are refused until the cool-down has passed. */
    OPEN,
    /** A few probe calls are let through; the others are refused. */
    HALF_OPEN
  }

  /** Told of every change of state, once, outside the breaker's lock. */
  @FunctionalInterface
  public interface Listener {
    /**
     * The breaker moved from one state to another.
     *
     * @param breaker the breaker (its {@link #name()} is the provider's)
     * @param from the state it left
     * @param to the state it entered
     * @param reason why, in words, e.g. "12 of the last 20 calls failed (60 %, threshold 50 %)"
     */
    void onTransition(CircuitBreaker breaker, State from, State to, String reason);
  }

  private final String name;
  private final ProviderConfig.Circuit settings;
  private final long coolDownNanos;
  private final LongSupplier nanoTime;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  // Written under the lock; read without it only by tryAcquire's CLOSED fast path and state().
  private volatile State state = State.CLOSED;
  // The window: outcomes[i] is true for a failure; `size` outcomes are held, `next` is where the
  // next one goes, `failures` counts the trues among the held ones. Guarded by `this`.
  private final boolean[] outcomes;
  private int next;
  private int size;
  private int failures;
  private long openedAt;
  private String openReason = "";
  // Half-open: probes let through (not abandoned), probes that succeeded, when the last one left.
  private int probesAdmitted;
  private int probesSucceeded;
  private long lastProbeAt;

  /**
   * Creates a closed breaker.
   *
   * @param name the provider it guards, for messages
   * @param settings the window, the minimum calls, the failure rate, the cool-down and the probes
   * @param nanoTime a monotonic time source ({@code System::nanoTime} in production)
   */
  public CircuitBreaker(String name, ProviderConfig.Circuit settings, LongSupplier nanoTime) {
    this.name = Objects.requireNonNull(name, "name");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.coolDownNanos = settings.coolDown().toNanos();
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.outcomes = new boolean[settings.windowSize()];
  }

  /**
   * Creates a closed breaker that opens after {@code failureThreshold} consecutive failed calls and
   * closes after one successful probe ({@link ProviderConfig.Circuit#consecutive}).
   *
   * @param name the provider it guards, for messages
   * @param failureThreshold consecutive failures that open the circuit, at least 1
   * @param coolDown how long it stays open before a probe
   * @param nanoTime a monotonic time source ({@code System::nanoTime} in production)
   */
  public CircuitBreaker(
      String name, int failureThreshold, Duration coolDown, LongSupplier nanoTime) {
    this(name, ProviderConfig.Circuit.consecutive(failureThreshold, coolDown), nanoTime);
  }

  /**
   * Adds a listener told of every change of state from now on.
   *
   * @param listener the listener; it must not block or throw
   */
  public void addListener(Listener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Asks whether a call may go ahead now. A caller that gets true must report the call's outcome
   * with {@link #onSuccess()}, {@link #onFailure()} or {@link #onAbandoned()}, once.
   *
   * @return true when the call may proceed (possibly as a half-open probe)
   */
  public boolean tryAcquire() {
    if (state == State.CLOSED) {
      return true; // the common case, without the lock
    }
    Transition t;
    boolean admitted;
    synchronized (this) {
      long now = nanoTime.getAsLong();
      t = null;
      admitted = false;
      switch (state) {
        case CLOSED -> admitted = true;
        case OPEN -> {
          if (now - openedAt >= coolDownNanos) {
            t = move(State.HALF_OPEN, "the cool-down of " + settings.coolDown() + " passed");
            probesAdmitted = 1;
            probesSucceeded = 0;
            lastProbeAt = now;
            admitted = true;
          }
        }
        case HALF_OPEN -> {
          if (probesAdmitted < settings.halfOpenProbes()) {
            probesAdmitted++;
            lastProbeAt = now;
            admitted = true;
          } else if (now - lastProbeAt >= coolDownNanos) {
            lastProbeAt = now; // a probe never reported: let another one through in its place
            admitted = true;
          }
        }
      }
    }
    fire(t);
    return admitted;
  }

  /**
   * Reports that a call succeeded: the provider answered (an error that is the caller's, such as a
   * 400, counts as an answer), possibly after retries.
   */
  public void onSuccess() {
    Transition t = null;
    synchronized (this) {
      switch (state) {
        case CLOSED -> record(false);
        case HALF_OPEN -> {
          probesSucceeded++;
          if (probesSucceeded >= settings.halfOpenProbes()) {
            clearWindow();
            t = move(State.CLOSED, probesSucceeded + " probe call(s) succeeded");
          }
        }
        case OPEN -> {
          // a call admitted before the circuit opened: its success does not reopen the provider
        }
      }
    }
    fire(t);
  }

  /** Reports that a call failed in a way that counts against the provider, after its retries. */
  public void onFailure() {
    Transition t = null;
    synchronized (this) {
      switch (state) {
        case CLOSED -> {
          record(true);
          if (size >= settings.minimumCalls()
              && (long) failures * 100 >= (long) settings.failureRatePercent() * size) {
            String why =
                failures
                    + " of the last "
                    + size
                    + " calls failed ("
                    + (failures * 100 / size)
                    + " %, threshold "
                    + settings.failureRatePercent()
                    + " %)";
            t = open(why);
          }
        }
        case HALF_OPEN -> t = open("a probe call failed");
        case OPEN -> {
          // already open: a call admitted before it opened
        }
      }
    }
    fire(t);
  }

  /**
   * Reports that a call ended without telling anything about the provider: the caller was
   * interrupted or cancelled it, or failed itself. Nothing is recorded; a half-open probe is
   * released, so that the next call may be a probe at once instead of after another cool-down.
   */
  public synchronized void onAbandoned() {
    if (state == State.HALF_OPEN && probesAdmitted > 0) {
      probesAdmitted--;
    }
  }

  /**
   * Returns the current state (OPEN stays OPEN until a caller asks after the cool-down).
   *
   * @return the state
   */
  public State state() {
    return state;
  }

  /**
   * Returns why the circuit last opened, for messages.
   *
   * @return e.g. "12 of the last 20 calls failed (60 %, threshold 50 %)", empty if it never opened
   */
  public synchronized String openReason() {
    return openReason;
  }

  /**
   * Returns the failure rate over the window, in percent.
   *
   * @return the rate, or -1 while the window holds fewer than {@code minimumCalls} outcomes
   */
  public synchronized int failureRatePercent() {
    return size < settings.minimumCalls() || size == 0 ? -1 : failures * 100 / size;
  }

  /**
   * Returns how long until an open circuit lets a probe through.
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

  /**
   * Returns the settings this breaker runs with.
   *
   * @return the settings
   */
  public ProviderConfig.Circuit settings() {
    return settings;
  }

  @Override
  public synchronized String toString() {
    return "CircuitBreaker["
        + name
        + " "
        + state
        + ", failures="
        + failures
        + "/"
        + size
        + " of window "
        + settings.windowSize()
        + "]";
  }

  // ---- under the lock

  private void record(boolean failed) {
    if (size == outcomes.length) {
      if (outcomes[next]) {
        failures--; // the oldest outcome leaves the window
      }
    } else {
      size++;
    }
    outcomes[next] = failed;
    if (failed) {
      failures++;
    }
    next = next + 1 == outcomes.length ? 0 : next + 1;
  }

  private void clearWindow() {
    java.util.Arrays.fill(outcomes, false);
    next = 0;
    size = 0;
    failures = 0;
  }

  private Transition open(String why) {
    openedAt = nanoTime.getAsLong();
    openReason = why;
    clearWindow();
    probesAdmitted = 0;
    probesSucceeded = 0;
    return move(State.OPEN, why);
  }

  private Transition move(State to, String why) {
    State from = state;
    state = to;
    return from == to ? null : new Transition(from, to, why);
  }

  private record Transition(State from, State to, String reason) {}

  private void fire(Transition t) {
    if (t == null) {
      return;
    }
    for (Listener l : listeners) {
      try {
        l.onTransition(this, t.from(), t.to(), t.reason());
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(CircuitBreaker.class)
            .warn("a circuit breaker listener failed on {} -> {}", t.from(), t.to(), e);
      }
    }
  }
}
