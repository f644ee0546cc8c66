package dev.cfn.ai.rollout;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running rollout as the node serving the agent drives it: it {@linkplain #route routes} each new
 * task by its key, records what each version did, and {@linkplain #evaluate() judges} the gates,
 * promoting a step when the step's hold is over and every gate holds, and rolling back as soon as
 * one fails or a critical alert fires, with the reason. Its state lives in the {@link
 * RolloutStore}'s file: written after every decision and, when tasks changed its measures, at most
 * every {@link #SYNC_EVERY} otherwise, so a node restarted mid-rollout resumes at the same step
 * with the measures last written; a command's promote or rollback written to the file meanwhile is
 * taken over at the next look (every {@link #SYNC_EVERY} while it runs). Nothing changed, nothing
 * is written: an ended rollout still attached, or a running one without traffic, leaves its file
 * (and its modification time, which the node watches) alone.
 *
 * <p><b>Routing.</b> A task key is hashed (SHA-256 of agent and key) to one of 10,000 buckets; the
 * canary takes the buckets below its share. So a key keeps its version while the share stays, a
 * rising share only moves keys from the baseline to the canary, and a rollback sends every key to
 * the baseline.
 *
 * <p>Thread-safe. {@link #attach} starts a virtual thread that evaluates every {@link #SYNC_EVERY},
 * so holds end without traffic; {@link #close()} stops it and writes the state.
 */
public final class Rollout implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Rollout.class);

  /** How often a running rollout is evaluated and its measures written at the latest. */
  public static final Duration SYNC_EVERY = Duration.ofMillis(500);

  /** Who the automatic decisions are recorded as. */
  public static final String BY_GATES = "gates";

  /** Which version serves a task. */
  public enum Version {
    /** The definition in use. */
    BASELINE,
    /** The new version being rolled out. */
    CANARY
  }

  private final RolloutStore store;
  private final CriticalAlerts alerts;
  private final Clock clock;
  private final Consumer<RolloutEvent> listener;
  private final Object lock = new Object();
  private final RolloutState state; // guarded by lock
  private Instant lastSync; // guarded by lock
  private boolean dirty; // guarded by lock: the state changed since it was last written
  private volatile boolean closed;
  private final Thread ticker;

  private Rollout(
      RolloutStore store,
      RolloutState state,
      CriticalAlerts alerts,
      Clock clock,
      Consumer<RolloutEvent> listener) {
    this.store = store;
    this.state = state;
    this.alerts = alerts;
    this.clock = clock;
    this.listener = listener;
    this.lastSync = clock.instant();
    this.ticker =
        Thread.ofVirtual().name("cfn-rollout-" + state.agent).unstarted(this::tickUntilClosed);
  }

  /**
   * Attaches to the rollout of {@code agent} kept in {@code store}, whatever its phase (a finished
   * one routes every task to its winner), and starts evaluating it.
   *
   * @param store where it is kept
   * @param agent the agent's name
   * @param alerts the critical alerts that roll it back; {@link CriticalAlerts#NONE} without
   *     alerting
   * @param clock the clock of holds and events
   * @param listener told of every decision made here (promotion, completion, rollback), on the
   *     thread that made it; keep it short
   * @return the rollout, empty when the store has none for the agent
   */
  public static Optional<Rollout> attach(
      RolloutStore store,
      String agent,
      CriticalAlerts alerts,
      Clock clock,
      Consumer<RolloutEvent> listener) {
    Objects.requireNonNull(alerts, "alerts");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(listener, "listener");
    return store
        .load(agent)
        .map(
            s -> {
              Rollout r = new Rollout(store, s, alerts, clock, listener);
              log.info(
                  "rollout of {} attached: {} at {} % ({} step {} of {})",
                  agent, s.phase, s.share(), s.canary.label(), s.stepIndex + 1, s.steps.size());
              r.ticker.start();
              return r;
            });
  }

  /** The agent rolled out. */
  public String agent() {
    return state.agent;
  }

  /**
   * The version that serves the task with key {@code key}.
   *
   * @param key the task's key (the agent's key in its {@code AgentId})
   * @return the canary when the key's bucket is under the canary's share, else the baseline
   */
  public Version route(String key) {
    int share;
    synchronized (lock) {
      share = state.share();
    }
    return bucket(state.agent, key) < share * 100 ? Version.CANARY : Version.BASELINE;
  }

  /** The bucket of {@code key}: 0 to 9,999. */
  static int bucket(String agent, String key) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((agent + "\u0000" + key).getBytes(StandardCharsets.UTF_8));
      int v = ((h[0] & 0xff) << 24) | ((h[1] & 0xff) << 16) | ((h[2] & 0xff) << 8) | (h[3] & 0xff);
      return Integer.remainderUnsigned(v, 10_000);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  /**
   * Records a finished task and judges the gates.
   *
   * @param version who served it
   * @param ok true when it succeeded
   * @param latency from delivery to answer
   * @param cost what it cost (US dollars, or tokens when the model has no price)
   */
  public void record(Version version, boolean ok, Duration latency, double cost) {
    synchronized (lock) {
      if (state.phase == RolloutStatus.Phase.RUNNING) {
        measures(version).task(ok, latency.toNanos() / 1000, cost);
        dirty = true;
      }
    }
    evaluate();
  }

  /**
   * Records a validator's verdict on an output of {@code version} (a CFN Loop's Loop 2).
   *
   * @param version whose output was judged
   * @param approved true for an approval
   */
  public void recordVerdict(Version version, boolean approved) {
    synchronized (lock) {
      if (state.phase == RolloutStatus.Phase.RUNNING) {
        measures(version).verdict(approved);
        dirty = true;
      }
    }
    evaluate();
  }

  private Measures measures(Version v) {
    return v == Version.CANARY ? state.canaryMeasures : state.baselineMeasures;
  }

  /**
   * Judges the gates now: rolls back when a critical alert fires or a gate fails, promotes when the
   * step's hold is over and every gate holds; writes the state after a decision, or when the last
   * look is {@link #SYNC_EVERY} old and tasks changed the measures since the last write. A running
   * rollout with nothing to write still reads its file then, to take over a command's decision; an
   * ended one with nothing to write touches nothing.
   */
  public void evaluate() {
    RolloutEvent decided = null;
    synchronized (lock) {
      Instant now = clock.instant();
      if (state.phase == RolloutStatus.Phase.RUNNING) {
        List<String> firing = alerts.firing();
        if (!firing.isEmpty()) {
          RolloutStore.rollBack(
              state, now, "critical alert firing: " + String.join(", ", firing), BY_GATES);
          decided = state.events.getLast();
        } else {
          Verdict v = judge(state);
          if (v.failed() != null) {
            RolloutStore.rollBack(state, now, v.failed(), BY_GATES);
            decided = state.events.getLast();
          } else if (v.held() != null && !now.isBefore(state.stepStartedAt.plus(state.hold))) {
            RolloutStore.step(state, now, v.held(), BY_GATES);
            decided = state.events.getLast();
          }
        }
      }
      if (decided != null) {
        dirty = true;
      }
      boolean due = !now.isBefore(lastSync.plus(SYNC_EVERY));
      if (decided != null || (due && (dirty || state.phase == RolloutStatus.Phase.RUNNING))) {
        RolloutStatus.Phase before = state.phase;
        try {
          boolean same = store.sync(state, dirty);
          dirty = false; // written, or the file is gone or replaced: nothing of ours to write
          if (!same && state.phase == RolloutStatus.Phase.RUNNING) {
            log.warn(
                "the rollout of {} was removed from {} or replaced by a new one: routing every"
                    + " task to the baseline",
                state.agent,
                store.dir());
            RolloutStore.rollBack(
                state, now, "the rollout's file was removed or replaced", "store");
          }
        } catch (RuntimeException e) {
          log.warn("cannot write the rollout of {}: {}; retrying", state.agent, e.getMessage());
        }
        lastSync = now;
        if (decided == null && state.phase != before) {
          log.info("rollout of {}: {} by a command ({})", state.agent, state.phase, state.reason);
        }
      }
    }
    if (decided != null) {
      log.info(
          "rollout of {}: {} at {} %: {}",
          decided.agent(), decided.kind(), decided.share(), decided.detail());
      try {
        listener.accept(decided);
      } catch (RuntimeException e) {
        log.warn("the rollout listener failed on {}: {}", decided, e.toString());
      }
    }
  }

  /**
   * The gates' verdict: {@code failed} names the first gate that failed (with the figures), {@code
   * held} summarises the figures when every gate holds, both null while there are too few tasks.
   */
  record Verdict(String failed, String held) {}

  static Verdict judge(RolloutState s) {
    Gates g = s.gates;
    Measures base = s.baselineMeasures;
    Measures can = s.canaryMeasures;
    if (can.tasks < g.minTasks() || base.tasks < g.minTasks()) {
      return new Verdict(null, null);
    }
    List<String> held = new ArrayList<>();
    double errLimit = base.errorRate() * g.maxRatio() + g.errorTolerance();
    if (can.errorRate() > errLimit) {
      return new Verdict(
          String.format(
              Locale.ROOT,
              "error rate %.1f %% over the limit %.1f %% (baseline %.1f %% x %.2f + %.1f points)"
                  + " after %d canary tasks",
              100 * can.errorRate(),
              100 * errLimit,
              100 * base.errorRate(),
              g.maxRatio(),
              100 * g.errorTolerance(),
              can.tasks),
          null);
    }
    held.add(
        String.format(
            Locale.ROOT,
            "errors %.1f %% vs %.1f %%",
            100 * can.errorRate(),
            100 * base.errorRate()));
    double p95Limit = base.p95Millis() * g.maxRatio() + g.latencySlack().toNanos() / 1e6;
    if (can.p95Millis() > p95Limit) {
      return new Verdict(
          String.format(
              Locale.ROOT,
              "P95 latency %.1f ms over the limit %.1f ms (baseline %.1f ms x %.2f + %d ms)"
                  + " after %d canary tasks",
              can.p95Millis(),
              p95Limit,
              base.p95Millis(),
              g.maxRatio(),
              g.latencySlack().toMillis(),
              can.tasks),
          null);
    }
    held.add(
        String.format(Locale.ROOT, "P95 %.1f ms vs %.1f ms", can.p95Millis(), base.p95Millis()));
    double costLimit = base.costPerTask() * g.maxRatio();
    if (can.costPerTask() > costLimit + 1e-12) {
      return new Verdict(
          String.format(
              Locale.ROOT,
              "cost per task %.6g over the limit %.6g (baseline %.6g x %.2f) after %d canary tasks",
              can.costPerTask(),
              costLimit,
              base.costPerTask(),
              g.maxRatio(),
              can.tasks),
          null);
    }
    held.add(
        String.format(
            Locale.ROOT, "cost/task %.6g vs %.6g", can.costPerTask(), base.costPerTask()));
    if (can.verdicts >= g.minVerdicts() && base.verdicts >= g.minVerdicts()) {
      double approvalLimit = base.approvalRate() / g.maxRatio();
      if (can.approvalRate() < approvalLimit) {
        return new Verdict(
            String.format(
                Locale.ROOT,
                "validators' approval rate %.1f %% under the limit %.1f %% (baseline %.1f %% / %.2f)"
                    + " after %d verdicts",
                100 * can.approvalRate(),
                100 * approvalLimit,
                100 * base.approvalRate(),
                g.maxRatio(),
                can.verdicts),
            null);
      }
      held.add(
          String.format(
              Locale.ROOT,
              "approvals %.1f %% vs %.1f %%",
              100 * can.approvalRate(),
              100 * base.approvalRate()));
    }
    return new Verdict(
        null, "gates held over " + can.tasks + " canary tasks: " + String.join(", ", held));
  }

  /** The rollout now. */
  public RolloutStatus status() {
    synchronized (lock) {
      return state.status();
    }
  }

  private void tickUntilClosed() {
    while (!closed) {
      try {
        Thread.sleep(SYNC_EVERY);
        evaluate();
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("evaluating the rollout of {} failed: {}", state.agent, e.toString());
      }
    }
  }

  /** Stops evaluating and writes the state, when it changed since the last write. */
  @Override
  public void close() {
    closed = true;
    ticker.interrupt();
    try {
      ticker.join(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lock) {
      if (!dirty) {
        return;
      }
      try {
        store.sync(state, true);
        dirty = false;
      } catch (RuntimeException e) {
        log.warn("cannot write the rollout of {} at close: {}", state.agent, e.getMessage());
      }
    }
  }
}
