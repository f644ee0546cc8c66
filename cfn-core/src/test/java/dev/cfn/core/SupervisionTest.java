package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static dev.cfn.core.TestSupport.block;
import static dev.cfn.core.TestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SupervisionTest {
  private static final AgentId ID = AgentId.of("w", "1");

  /**
   * Counts messages in a field (state that a restart resets) and logs "instance:count:payload".
   * Throws on "boom"; blocks on "block" until released.
   */
  static final class Worker implements Agent {
    final int instance;
    final List<String> log;
    final CountDownLatch entered;
    final CountDownLatch release;
    int count;

    Worker(int instance, List<String> log, CountDownLatch entered, CountDownLatch release) {
      this.instance = instance;
      this.log = log;
      this.entered = entered;
      this.release = release;
    }

    @Override
    public void onStart(AgentContext ctx) {
      log.add(instance + ":start");
    }

    @Override
    public void onMessage(Envelope m, AgentContext ctx) throws Exception {
      String p = m.payload(String.class);
      count++;
      if (p.equals("block")) {
        entered.countDown();
        block(release);
      }
      if (p.equals("boom")) {
        throw new IllegalStateException("boom in instance " + instance);
      }
      log.add(instance + ":" + count + ":" + p);
    }

    @Override
    public void onStop(AgentContext ctx) {
      log.add(instance + ":stop");
    }
  }

  /** A fixture: a "w" type with the given strategy, logging into {@code log}. */
  static final class Fixture {
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger created = new AtomicInteger();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    AgentType type(SupervisionStrategy strategy) {
      return AgentType.builder(
              "w", id -> new Worker(created.incrementAndGet(), log, entered, release))
          .supervision(strategy)
          .build();
    }

    /** Sends "block", waits until it is being handled, queues {@code rest}, then releases. */
    void sendBlocked(AgentRuntime rt, String... rest) {
      try {
        rt.send(ID, "block");
        await(entered, "handler blocked");
        for (String p : rest) {
          rt.send(ID, p);
        }
      } finally {
        release.countDown();
      }
    }
  }

  /** Collects lifecycle events about {@link #ID}, subscribed on {@code cfn.agent.#}. */
  private static List<LifecycleEvent> watchLifecycle(AgentRuntime rt) {
    List<LifecycleEvent> events =
        new java.util.concurrent.CopyOnWriteArrayList<>(); // read while written
    rt.register(
        AgentType.of(
            "watcher",
            id ->
                (m, ctx) -> {
                  LifecycleEvent e = m.payload(LifecycleEvent.class);
                  if (e.agent().equals(ID)) {
                    events.add(e);
                  }
                }));
    rt.subscribe("cfn.agent.#", AgentId.of("watcher", "1"));
    return events;
  }

  @Test
  void resumeKeepsTheSameInstanceAndDeadLettersTheFailedMessage() {
    Fixture f = new Fixture();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(f.type(SupervisionStrategy.resume()));
      rt.send(ID, "a");
      rt.send(ID, "boom");
      rt.send(ID, "b");
      eventually(() -> f.log.contains("1:3:b"), "message after the failure");
      assertThat(f.log).containsExactly("1:start", "1:1:a", "1:3:b");
      assertThat(f.created.get()).isEqualTo(1);
      assertThat(rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED)).isEqualTo(1);
      DeadLetter d = rt.deadLetters().recent().getFirst();
      assertThat(d.envelope().payload()).isEqualTo("boom");
      assertThat(d.detail()).contains("IllegalStateException").contains("boom in instance 1");
      assertThat(rt.meterRegistry().get(CfnMetrics.HANDLER_FAILURES).counter().count())
          .isEqualTo(1.0);
      AgentRef ref = rt.lookup(ID).orElseThrow();
      // processed counts a message once its handler has returned, just after it logged.
      eventually(() -> ref.metrics().processed() == 3, "processed count");
      assertThat(ref.metrics()).isEqualTo(new AgentMetrics(3, 1, 0, 0));
    }
  }

  @Test
  void restartCreatesAFreshInstanceAndKeepsQueuedMail() {
    Fixture f = new Fixture();
    try (AgentRuntime rt = TestSupport.runtime()) {
      List<LifecycleEvent> events = watchLifecycle(rt);
      // A real backoff: the agent is suspended and its mail must wait, not vanish.
      rt.register(
          f.type(
              SupervisionStrategy.restart(
                  5, Duration.ofMinutes(1), Duration.ofMillis(20), Duration.ofMillis(40))));
      f.sendBlocked(rt, "b", "boom", "c", "d");
      eventually(() -> f.log.contains("2:2:d"), "mail after the restart");
      assertThat(f.log)
          .containsExactly("1:start", "1:1:block", "1:2:b", "1:stop", "2:start", "2:1:c", "2:2:d");
      assertThat(f.created.get()).isEqualTo(2);
      assertThat(rt.deadLetters().count()).isEqualTo(1);
      assertThat(rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED)).isEqualTo(1);
      assertThat(rt.meterRegistry().get(CfnMetrics.AGENT_RESTARTS).counter().count())
          .isEqualTo(1.0);
      assertThat(rt.lookup(ID).orElseThrow().metrics().restarts()).isEqualTo(1);
      eventually(() -> events.size() == 3, "lifecycle events");
      assertThat(events)
          .extracting(LifecycleEvent::kind)
          .containsExactly(
              LifecycleEvent.Kind.STARTED,
              LifecycleEvent.Kind.FAILED,
              LifecycleEvent.Kind.RESTARTED);
      assertThat(events.get(2).detail()).contains("boom in instance 1");
    }
  }

  @Test
  void restartWithoutBackoffStartsTheFreshInstanceBeforeItsFirstMessage() {
    Fixture f = new Fixture();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          f.type(
              SupervisionStrategy.restart(5, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO)));
      f.sendBlocked(rt, "boom", "c", "d");
      eventually(() -> f.log.contains("2:2:d"), "mail after the restart");
      assertThat(f.log)
          .containsExactly("1:start", "1:1:block", "1:stop", "2:start", "2:1:c", "2:2:d");
    }
  }

  @Test
  void anExhaustedRestartBudgetStopsTheAgent() {
    Fixture f = new Fixture();
    try (AgentRuntime rt = TestSupport.runtime()) {
      List<LifecycleEvent> events = watchLifecycle(rt);
      rt.register(
          f.type(
              SupervisionStrategy.restart(2, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO)));
      // Three failures in a row: two restarts are allowed, the third failure stops the agent.
      // Exactly three sends, so none can arrive after the stop and activate a fresh agent.
      for (int i = 0; i < 3; i++) {
        rt.send(ID, "boom");
      }
      eventually(
          () -> events.stream().anyMatch(e -> e.kind() == LifecycleEvent.Kind.STOPPED),
          "STOPPED event");
      assertThat(events)
          .extracting(LifecycleEvent::kind)
          .containsExactly(
              LifecycleEvent.Kind.STARTED,
              LifecycleEvent.Kind.FAILED,
              LifecycleEvent.Kind.RESTARTED,
              LifecycleEvent.Kind.FAILED,
              LifecycleEvent.Kind.RESTARTED,
              LifecycleEvent.Kind.FAILED,
              LifecycleEvent.Kind.STOPPED);
      assertThat(events.getLast().detail()).contains("restart budget exhausted");
      assertThat(f.created.get()).isEqualTo(3);
      assertThat(rt.lookup(ID)).isEmpty();
      assertThat(rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED)).isEqualTo(3);
      assertThat(rt.meterRegistry().get(CfnMetrics.AGENT_RESTARTS).counter().count())
          .isEqualTo(2.0);
      assertThat(f.log)
          .containsExactly("1:start", "1:stop", "2:start", "2:stop", "3:start", "3:stop");
    }
  }

  @Test
  void theStopStrategyStopsTheAgentAndDeadLettersItsMail() {
    Fixture f = new Fixture();
    try (AgentRuntime rt = TestSupport.runtime()) {
      List<LifecycleEvent> events = watchLifecycle(rt);
      rt.register(f.type(SupervisionStrategy.stop()));
      f.sendBlocked(rt, "boom", "x", "y", "z");
      eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.AGENT_STOPPED) == 3, "mail dead-lettered");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED)).isEqualTo(1);
      assertThat(rt.deadLetters().recent())
          .filteredOn(d -> d.reason() == DeadLetter.Reason.AGENT_STOPPED)
          .extracting(d -> d.envelope().payload())
          .containsExactly("x", "y", "z");
      assertThat(f.log).containsExactly("1:start", "1:1:block", "1:stop");
      assertThat(f.created.get()).isEqualTo(1);
      assertThat(rt.lookup(ID)).isEmpty();
      eventually(() -> events.size() == 3, "lifecycle events");
      assertThat(events)
          .extracting(LifecycleEvent::kind)
          .containsExactly(
              LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.FAILED, LifecycleEvent.Kind.STOPPED);
      assertThat(events.getLast().detail()).contains("handler failed");
    }
  }

  @Test
  void stoppingFromOutsideDeadLettersQueuedMail() {
    Fixture f = new Fixture();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(f.type(SupervisionStrategy.resume()));
      try {
        rt.send(ID, "block");
        await(f.entered, "handler blocked");
        rt.send(ID, "x");
        rt.send(ID, "y");
        assertThat(rt.stop(ID)).isTrue();
      } finally {
        f.release.countDown();
      }
      eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.AGENT_STOPPED) == 2, "mail dead-lettered");
      eventually(() -> f.log.contains("1:stop"), "onStop");
      assertThat(f.log).containsExactly("1:start", "1:1:block", "1:stop");
    }
  }

  @Test
  void backoffDoublesFromTheMinimumUpToTheCap() {
    SupervisionStrategy.Restart r =
        new SupervisionStrategy.Restart(
            10, Duration.ofMinutes(1), Duration.ofMillis(10), Duration.ofSeconds(1));
    assertThat(r.backoff(1)).isEqualTo(Duration.ofMillis(10));
    assertThat(r.backoff(2)).isEqualTo(Duration.ofMillis(20));
    assertThat(r.backoff(3)).isEqualTo(Duration.ofMillis(40));
    assertThat(r.backoff(7)).isEqualTo(Duration.ofMillis(640));
    assertThat(r.backoff(8)).isEqualTo(Duration.ofSeconds(1));
    assertThat(r.backoff(1000)).isEqualTo(Duration.ofSeconds(1));
    assertThat(r.backoff(0)).as("n below 1 counts as the first").isEqualTo(Duration.ofMillis(10));
    for (int n = 1; n < 100; n++) {
      assertThat(r.backoff(n + 1)).isGreaterThanOrEqualTo(r.backoff(n));
    }
  }

  @Test
  void backoffNeverOverflowsPastTheCap() {
    Duration cap = Duration.ofDays(365L * 200);
    SupervisionStrategy.Restart r =
        new SupervisionStrategy.Restart(100, Duration.ofHours(1), Duration.ofSeconds(20), cap);
    for (int n = 1; n <= 100; n++) {
      Duration b = r.backoff(n);
      assertThat(b).as("backoff(%d)", n).isBetween(Duration.ofSeconds(20), cap);
      if (n > 1) {
        assertThat(b).as("backoff(%d) is monotonic", n).isGreaterThanOrEqualTo(r.backoff(n - 1));
      }
    }
    assertThat(r.backoff(40)).isEqualTo(cap);
  }

  @Test
  void zeroMinimumMeansNoBackoff() {
    SupervisionStrategy.Restart r =
        new SupervisionStrategy.Restart(3, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO);
    assertThat(r.backoff(1)).isZero();
    assertThat(r.backoff(5)).isZero();
  }

  @Test
  void restartBudgetsAreValidated() {
    assertThatThrownBy(
            () ->
                SupervisionStrategy.restart(
                    -1, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRestarts is -1");
    assertThatThrownBy(
            () -> SupervisionStrategy.restart(1, Duration.ZERO, Duration.ZERO, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("window must be positive");
    assertThatThrownBy(
            () ->
                SupervisionStrategy.restart(
                    1, Duration.ofMinutes(1), Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("minBackoff <= maxBackoff");
    assertThat(AgentType.DEFAULT_SUPERVISION)
        .isEqualTo(
            SupervisionStrategy.restart(
                10, Duration.ofMinutes(1), Duration.ofMillis(10), Duration.ofSeconds(1)));
  }
}
