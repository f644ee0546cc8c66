package dev.cfn.server.alerts;

import dev.cfn.server.metrics.Samples;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates the alert rules continuously over the node's own scrape: every {@link
 * AlertConfig#evaluateEvery()}, each rule's conditions are computed from {@link Samples} (a value,
 * or a rate or increase over the samples this engine kept for the window) and its state moves:
 * inactive → pending when the conditions hold, pending → firing once they held for the rule's
 * {@code for}, firing → resolved (inactive) when they stop holding; a pending alert whose
 * conditions clear goes back to inactive. Every transition is logged (firing at WARN) and appended
 * to the {@link AlertHistory}; firing and resolved are also POSTed to the {@link Webhook}, on a
 * virtual thread so that a slow receiver never delays the evaluation, and the delivery's outcome is
 * appended too.
 *
 * <p>A rule whose metric is absent, or whose rate has fewer than two samples yet, has no data: its
 * conditions do not hold. Counter resets (a value lower than the one before) count as a restart
 * from zero, as Prometheus's {@code rate()} does.
 */
public final class AlertEngine implements AutoCloseable {
  private final Object lock = new Object();
  private static final Logger log = LoggerFactory.getLogger("cfn.alerts");

  /** A rule's state. */
  public enum State {
    INACTIVE,
    PENDING,
    FIRING
  }

  /**
   * A rule's state now.
   *
   * @param rule the rule
   * @param state inactive, pending or firing
   * @param since when it entered that state (null while inactive since the start)
   * @param value the rule's value at the last evaluation (NaN without data)
   */
  public record Status(AlertRule rule, State state, Instant since, double value) {}

  private final AlertConfig config;
  private final Supplier<Samples> scrape;
  private final AlertHistory history;
  private final Webhook webhook;
  private final Clock clock;
  private final String node;
  private final Map<String, Track> tracks = new LinkedHashMap<>();
  private final ScheduledExecutorService timer;
  private final ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();

  /** One rule's state and the samples its conditions keep. */
  private static final class Track {
    final AlertRule rule;
    final Series main = new Series();
    final Series when = new Series();
    State state = State.INACTIVE;
    Instant since;
    double value = Double.NaN;

    Track(AlertRule rule) {
      this.rule = rule;
    }
  }

  /** The (time, value) samples of one condition over its window. */
  private static final class Series {
    final ArrayDeque<long[]> points = new ArrayDeque<>(); // {millis, Double bits}

    OptionalDouble evaluate(AlertRule.Condition c, Samples s, long now) {
      OptionalDouble v = s.sum(c.metric(), c.labels());
      if (c.function() == AlertRule.Function.VALUE || v.isEmpty()) {
        return v;
      }
      points.addLast(new long[] {now, Double.doubleToLongBits(v.getAsDouble())});
      long from = now - c.window().toMillis();
      while (points.size() > 2 && points.peekFirst()[0] < from) {
        points.removeFirst();
      }
      if (points.size() < 2) {
        return OptionalDouble.empty();
      }
      double increase = 0;
      Iterator<long[]> it = points.iterator();
      double prev = Double.longBitsToDouble(it.next()[1]);
      while (it.hasNext()) {
        double x = Double.longBitsToDouble(it.next()[1]);
        increase += x >= prev ? x - prev : x; // a reset: counted from zero
        prev = x;
      }
      long span = points.peekLast()[0] - points.peekFirst()[0];
      if (c.function() == AlertRule.Function.INCREASE) {
        return OptionalDouble.of(increase);
      }
      return span <= 0 ? OptionalDouble.empty() : OptionalDouble.of(increase * 1000.0 / span);
    }
  }

  private AlertEngine(
      AlertConfig config,
      Supplier<Samples> scrape,
      AlertHistory history,
      Webhook webhook,
      Clock clock,
      String node,
      boolean schedule) {
    this.config = config;
    this.scrape = scrape;
    this.history = history.retaining(config.history());
    this.webhook = webhook;
    this.clock = clock;
    this.node = node;
    this.history.prune(clock.instant()); // entries past the retention, left by an earlier run
    for (AlertRule r : config.rules()) {
      tracks.put(r.name(), new Track(r));
    }
    if (schedule) {
      this.timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "cfn-alerts");
                t.setDaemon(true);
                return t;
              });
      long every = config.evaluateEvery().toMillis();
      timer.scheduleWithFixedDelay(this::evaluateQuietly, every, every, TimeUnit.MILLISECONDS);
    } else {
      this.timer = null;
    }
  }

  /** An engine that evaluates every {@link AlertConfig#evaluateEvery()} until closed. */
  public static AlertEngine start(
      AlertConfig config,
      Supplier<Samples> scrape,
      AlertHistory history,
      Webhook webhook,
      Clock clock,
      String node) {
    return new AlertEngine(config, scrape, history, webhook, clock, node, true);
  }

  /** An engine that evaluates only when {@link #evaluate()} is called (tests, the CLI). */
  public static AlertEngine manual(
      AlertConfig config,
      Supplier<Samples> scrape,
      AlertHistory history,
      Webhook webhook,
      Clock clock,
      String node) {
    return new AlertEngine(config, scrape, history, webhook, clock, node, false);
  }

  /** The rules and settings evaluated. */
  public AlertConfig config() {
    return config;
  }

  private void evaluateQuietly() {
    try {
      evaluate();
    } catch (RuntimeException e) {
      log.warn("evaluating the alert rules failed: {}", e.toString());
    }
  }

  /** Evaluates every rule once, now. */
  public void evaluate() {
    synchronized (lock) {
      Samples s = scrape.get();
      Instant now = clock.instant();
      long ms = now.toEpochMilli();
      for (Track t : tracks.values()) {
        OptionalDouble v = t.main.evaluate(t.rule.condition(), s, ms);
        boolean holds = v.isPresent() && t.rule.condition().test(v.getAsDouble());
        if (t.rule.when() != null) {
          OptionalDouble w = t.when.evaluate(t.rule.when(), s, ms);
          holds = holds && w.isPresent() && t.rule.when().test(w.getAsDouble());
        }
        t.value = v.orElse(Double.NaN);
        step(t, holds, now);
      }
      List<String> critical = new ArrayList<>();
      for (Track t : tracks.values()) {
        if (t.state == State.FIRING && "critical".equals(t.rule.severity())) {
          critical.add(t.rule.name());
        }
      }
      if (!critical.equals(firingCritical)) {
        firingCritical = List.copyOf(critical);
      }
    }
  }

  /**
   * The critical rules firing now, by name, in file order: a snapshot taken at the end of each
   * evaluation, so reading it costs a volatile read (a rollout asks on every task).
   */
  public List<String> firingCritical() {
    return firingCritical;
  }

  private void step(Track t, boolean holds, Instant now) {
    switch (t.state) {
      case INACTIVE -> {
        if (holds) {
          move(t, State.PENDING, now, "pending");
          if (t.rule.forDuration().isZero()) {
            move(t, State.FIRING, now, "firing");
            notify(t, "firing", now, null);
          }
        }
      }
      case PENDING -> {
        if (!holds) {
          move(t, State.INACTIVE, now, "inactive");
        } else if (!Duration.between(t.since, now).minus(t.rule.forDuration()).isNegative()) {
          move(t, State.FIRING, now, "firing");
          notify(t, "firing", now, null);
        }
      }
      case FIRING -> {
        if (!holds) {
          Instant started = t.since;
          move(t, State.INACTIVE, now, "resolved");
          notify(t, "resolved", started, now);
        }
      }
    }
  }

  private void move(Track t, State to, Instant now, String state) {
    t.state = to;
    t.since = now;
    String detail =
        t.rule.condition()
            + (t.rule.when() == null ? "" : " and " + t.rule.when())
            + " (value "
            + AlertConfig.number(t.value)
            + (state.equals("pending") ? ", for " + AlertConfig.duration(t.rule.forDuration()) : "")
            + ")";
    if (state.equals("firing")) {
      log.warn(
          "alert {} ({}) firing: {} {}",
          t.rule.name(),
          t.rule.severity(),
          t.rule.summary(),
          detail);
    } else {
      log.info("alert {} ({}) {}: {}", t.rule.name(), t.rule.severity(), state, detail);
    }
    history.append(
        new AlertHistory.Entry(now, t.rule.name(), t.rule.severity(), state, t.value, detail));
  }

  private void notify(Track t, String status, Instant startsAt, Instant endsAt) {
    if (!webhook.configured()) {
      return;
    }
    Map<String, Object> payload = payload(t.rule, status, t.value, startsAt, endsAt);
    AlertRule rule = t.rule;
    double value = t.value;
    senders.execute(
        () -> {
          try {
            Webhook.Delivery d = webhook.send(payload);
            record(rule, value, status, d);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
  }

  private void record(AlertRule rule, double value, String status, Webhook.Delivery d) {
    String detail =
        status
            + (d.delivered() ? " delivered" : " NOT delivered")
            + " after "
            + d.attempts()
            + " attempt(s): "
            + d.detail();
    if (d.delivered()) {
      log.info("alert {}: webhook {}", rule.name(), detail);
    } else {
      log.warn("alert {}: webhook {}", rule.name(), detail);
    }
    history.append(
        new AlertHistory.Entry(
            clock.instant(), rule.name(), rule.severity(), "notified", value, detail));
  }

  Map<String, Object> payload(
      AlertRule rule, String status, double value, Instant startsAt, Instant endsAt) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", 1);
    m.put("status", status);
    m.put("alert", rule.name());
    m.put("severity", rule.severity());
    m.put("summary", rule.summary());
    m.put("condition", rule.condition().toString());
    m.put("value", Double.isFinite(value) ? value : null);
    m.put("threshold", rule.condition().threshold());
    m.put("startsAt", startsAt == null ? null : startsAt.toString());
    m.put("endsAt", endsAt == null ? null : endsAt.toString());
    m.put("node", node);
    m.put("sentAt", clock.instant().toString());
    return m;
  }

  /**
   * Sends a test notification for {@code ruleName} (the first rule when null) through the webhook
   * and the log, and records it in the history; blocks until the delivery is done.
   *
   * @throws IllegalArgumentException when there is no such rule
   */
  public Webhook.Delivery test(String ruleName) throws InterruptedException {
    AlertRule rule = pick(config, ruleName);
    Instant now = clock.instant();
    log.warn("alert {} ({}) test notification", rule.name(), rule.severity());
    history.append(
        new AlertHistory.Entry(now, rule.name(), rule.severity(), "test", Double.NaN, "test"));
    Webhook.Delivery d = webhook.send(payload(rule, "test", Double.NaN, now, null));
    record(rule, Double.NaN, "test", d);
    return d;
  }

  /** The rule named {@code name} (the first when null, a built-in test rule when there is none). */
  static AlertRule pick(AlertConfig config, String name) {
    if (name == null) {
      return config.rules().isEmpty()
          ? new AlertRule(
              "test",
              "warning",
              new AlertRule.Condition("up", Map.of(), AlertRule.Function.VALUE, null, ">", 0),
              null,
              Duration.ZERO,
              "a test notification")
          : config.rules().getFirst();
    }
    return config.rules().stream()
        .filter(r -> r.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "no alert rule is named '"
                        + name
                        + "' (fix: one of "
                        + String.join(", ", config.rules().stream().map(AlertRule::name).toList())
                        + ")"));
  }

  private volatile List<String> firingCritical = List.of(); // written under lock

  /** Every rule's state now, in file order. */
  public List<Status> statuses() {
    synchronized (lock) {
      List<Status> out = new ArrayList<>();
      for (Track t : tracks.values()) {
        out.add(new Status(t.rule, t.state, t.since, t.value));
      }
      return out;
    }
  }

  /** Stops evaluating; notifications in flight get up to 10 s to finish. */
  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
    senders.shutdown();
    try {
      if (!senders.awaitTermination(10, TimeUnit.SECONDS)) {
        senders.shutdownNow();
      }
    } catch (InterruptedException e) {
      senders.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
