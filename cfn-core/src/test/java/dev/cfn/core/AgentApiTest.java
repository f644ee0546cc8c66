package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The small API items: per-agent behaviour, unregister, unbounded mailboxes, settings read back,
 * refs inside handlers, and shutdown from a handler.
 */
class AgentApiTest {

  /** An agent that records what it receives under its own label. */
  record Labelled(String label, List<String> out, CountDownLatch done) implements Agent {
    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      out.add(label + ":" + m.payload());
      done.countDown();
    }
  }

  @Test
  void spawnWithAnInstanceGivesEachAgentItsOwnBehaviour() {
    List<String> out = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(2);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "worker",
              id -> {
                throw new AssertionError("the factory must not be called for given instances");
              }));
      rt.spawn(AgentId.of("worker", "a"), new Labelled("alpha", out, done));
      rt.spawn(AgentId.of("worker", "b"), new Labelled("beta", out, done));
      rt.send(AgentId.of("worker", "a"), "1");
      rt.send(AgentId.of("worker", "b"), "2");
      await(done, "both agents");
      assertThat(out).containsExactlyInAnyOrder("alpha:1", "beta:2");
      assertThatThrownBy(() -> rt.spawn(AgentId.of("unknown", "x"), new Labelled("x", out, done)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no agent type 'unknown'");
    }
  }

  @Test
  void aGivenInstanceIsKeptAcrossARestart() {
    AtomicInteger starts = new AtomicInteger();
    AtomicInteger handled = new AtomicInteger();
    CountDownLatch second = new CountDownLatch(1);
    Agent flaky =
        new Agent() {
          @Override
          public void onStart(AgentContext ctx) {
            starts.incrementAndGet();
          }

          @Override
          public void onMessage(Envelope m, AgentContext ctx) {
            if (handled.incrementAndGet() == 1) {
              throw new IllegalStateException("first message fails");
            }
            second.countDown();
          }
        };
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder("flaky", id -> null)
              .supervision(
                  SupervisionStrategy.restart(
                      5, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO))
              .build());
      rt.spawn(AgentId.of("flaky", "1"), flaky);
      rt.send(AgentId.of("flaky", "1"), "a");
      rt.send(AgentId.of("flaky", "1"), "b");
      await(second, "the message after the restart");
      assertThat(starts.get()).as("onStart on the same instance again").isEqualTo(2);
      assertThat(rt.lookup(AgentId.of("flaky", "1"))).isPresent();
    }
  }

  @Test
  void unregisterRefusesATypeWithLiveAgentsAndFreesItOnceTheyStop() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("temp", id -> (m, ctx) -> {}));
      AgentId a = AgentId.of("temp", "1");
      rt.spawn(a);
      assertThatThrownBy(() -> rt.unregister("temp"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("still has 1 live agent")
          .hasMessageContaining("fix: stop them");
      assertThat(rt.stop(a)).isTrue();
      TestSupport.eventually(() -> rt.liveAgents() == 0, "agent stopped");
      assertThat(rt.unregister("temp")).isTrue();
      assertThat(rt.unregister("temp")).as("already gone").isFalse();
      // Messages to it are now dead letters, as for a type never registered.
      rt.send(a, "after");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUCH_AGENT_TYPE)).isEqualTo(1);
      // And the name can be registered again.
      rt.register(AgentType.of("temp", id -> (m, ctx) -> {}));
      rt.spawn(a);
      assertThat(rt.liveAgents()).isEqualTo(1);
    }
  }

  @Test
  void anUnboundedMailboxTakesFarMoreThanTheDefaultBoundAndIsCounted() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger handled = new AtomicInteger();
    int total = AgentType.DEFAULT_MAILBOX_CAPACITY * 20;
    try (AgentRuntime rt = TestSupport.runtime()) {
      AgentType t =
          AgentType.builder(
                  "hoarder",
                  id ->
                      (m, ctx) -> {
                        TestSupport.block(release);
                        handled.incrementAndGet();
                      })
              .overflow(OverflowPolicy.REJECT)
              .unboundedMailbox()
              .build();
      assertThat(t.unboundedMailbox()).isTrue();
      assertThat(t.mailboxCapacity()).isEqualTo(AgentType.UNBOUNDED);
      rt.register(t);
      AgentId h = AgentId.of("hoarder", "1");
      // With the agent stuck, a REJECT mailbox of the default size would throw after 1024.
      for (int i = 0; i < total; i++) {
        rt.send(h, i);
      }
      assertThat(rt.meterRegistry().get(CfnMetrics.MAILBOX_UNBOUNDED).gauge().value())
          .isEqualTo(1.0);
      assertThat(rt.meterRegistry().get(CfnMetrics.MAILBOX_REJECTIONS).counter().count()).isZero();
      release.countDown();
      TestSupport.eventually(() -> handled.get() == total, "all messages handled");
    }
  }

  @Test
  void settingsAreReadBack() {
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .carriers(3)
            .throughput(7)
            .idleStrategy(IdleStrategy.LOW_LATENCY)
            .latencySampleEvery(4)
            .deadLetterWindow(9)
            .name("probe")
            .jvmMetrics(false)
            .build()) {
      RuntimeSettings s = rt.settings();
      assertThat(s.name()).isEqualTo("probe");
      assertThat(s.carriers()).isEqualTo(3);
      assertThat(s.throughput()).isEqualTo(7);
      assertThat(s.idleStrategy()).isEqualTo(IdleStrategy.LOW_LATENCY);
      assertThat(s.latencySampleEvery()).isEqualTo(4);
      assertThat(s.deadLetterWindow()).isEqualTo(9);
      assertThat(s.jvmMetrics()).isFalse();
      assertThat(s.journaled()).isFalse();
      assertThat(s.retryPolicy()).isEqualTo(RetryPolicy.DEFAULT);
    }
  }

  @Test
  void theDefaultIdleStrategyIsWhatItsJavadocSays() {
    // "Spin 20 µs, no yield, then park"
    assertThat(IdleStrategy.DEFAULT.spin()).isEqualTo(Duration.ofNanos(20_000));
    assertThat(IdleStrategy.DEFAULT.yield()).isEqualTo(Duration.ZERO);
  }

  @Test
  void aRefToldInsideAHandlerSendsAsThatAgent() throws Exception {
    AtomicReference<AgentId> sender = new AtomicReference<>();
    AtomicReference<AgentId> requestSender = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(2);
    try (AgentRuntime rt = TestSupport.runtime()) {
      AgentRef sink =
          rt.register(
                  AgentType.of(
                      "sink",
                      id ->
                          (m, ctx) -> {
                            if (m.isRequest()) {
                              requestSender.set(m.sender());
                              ctx.reply("ok");
                            } else {
                              sender.set(m.sender());
                            }
                            done.countDown();
                          }))
              .spawn(AgentId.of("sink", "1"));
      rt.register(
          AgentType.of(
              "relay",
              id ->
                  (m, ctx) -> {
                    sink.tell("via ref");
                    sink.request("asked via ref", Duration.ofSeconds(30));
                  }));
      rt.send(AgentId.of("relay", "1"), "go");
      await(done, "tell and request arrived");
      assertThat(sender.get()).isEqualTo(AgentId.of("relay", "1"));
      assertThat(requestSender.get()).isEqualTo(AgentId.of("relay", "1"));
      // Outside any handler, the same ref sends as EXTERNAL.
      CompletableFuture<Envelope> f = sink.request("outside", Duration.ofSeconds(30));
      f.get(30, TimeUnit.SECONDS);
      assertThat(requestSender.get()).isEqualTo(AgentRuntime.EXTERNAL);
    }
  }

  @Test
  void aRefToldInsideAHandlerDuringDrainIsDeliveredNotRefused() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch arrived = new CountDownLatch(1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AgentRuntime rt = TestSupport.runtime();
    AgentRef sink =
        rt.register(AgentType.of("sink", id -> (m, ctx) -> arrived.countDown()))
            .spawn(AgentId.of("sink", "1"));
    rt.register(
        AgentType.of(
            "relay",
            id ->
                (m, ctx) -> {
                  inHandler.countDown();
                  TestSupport.block(release);
                  try {
                    sink.tell("during drain");
                  } catch (Throwable t) {
                    thrown.set(t);
                  }
                }));
    rt.send(AgentId.of("relay", "1"), "go");
    await(inHandler, "relay handling");
    Thread closer = new Thread(() -> rt.shutdown(Duration.ofSeconds(30)), "closer");
    closer.start();
    // Draining: sends from outside are refused from now on.
    TestSupport.eventually(
        () -> {
          try {
            rt.send(AgentId.of("sink", "1"), "probe");
            return false;
          } catch (IllegalStateException refused) {
            return true;
          }
        },
        "the runtime is draining");
    release.countDown();
    closer.join(30_000);
    assertThat(thrown.get()).isNull();
    assertThat(arrived.getCount()).isZero();
    assertThat(rt.deadLetters().count()).isZero();
  }

  @Test
  void shutdownFromAHandlerIsRefusedClearly() {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "quitter",
              id ->
                  (m, ctx) -> {
                    try {
                      rt.close();
                    } catch (Throwable t) {
                      thrown.set(t);
                    }
                    done.countDown();
                  }));
      rt.send(AgentId.of("quitter", "1"), "go");
      await(done, "handler ran");
      assertThat(thrown.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("called shutdown from its handler")
          .hasMessageContaining("fix: ");
    }
  }
}
