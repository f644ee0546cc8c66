package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static dev.cfn.core.TestSupport.awaitUninterruptibly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class ShutdownTest {
  private static final int AGENTS = 4;

  private static AgentType counting(String name, LongAdder handled) {
    return AgentType.builder(name, id -> (m, ctx) -> handled.increment())
        .mailboxCapacity(1 << 14)
        .sendDeadline(Duration.ofSeconds(60))
        .build();
  }

  private static AgentId counter(long i) {
    return AgentId.of("counter", Long.toString(i % AGENTS));
  }

  @Test
  void gracefulShutdownHandlesEverythingAlreadySent() throws Exception {
    int total = 100_000;
    LongAdder handled = new LongAdder();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(counting("counter", handled));
      Thread producer =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < total; i++) {
                    rt.send(counter(i), i);
                  }
                } catch (Throwable e) {
                  failure.set(e);
                }
              },
              "producer");
      producer.start();
      producer.join();
      assertThat(failure.get()).isNull();

      ShutdownReport report = rt.shutdown(Duration.ofSeconds(60));
      assertThat(report.drained()).isTrue();
      assertThat(report.deadLettered()).isZero();
      assertThat(handled.sum()).isEqualTo(total);
      assertThat(rt.deadLetters().count()).isZero();
      assertThat(rt.liveAgents()).isZero();
      assertThat(rt.meterRegistry().get(CfnMetrics.MESSAGES_DELIVERED).functionCounter().count())
          .isEqualTo(total);
      assertThat(rt.shutdown(Duration.ofSeconds(1))).as("idempotent").isSameAs(report);
    }
  }

  @Test
  void messagesAgentsSendWhileDrainingAreHandledToo() {
    int total = 20_000;
    int hops = 3;
    LongAdder handled = new LongAdder();
    try (AgentRuntime rt = TestSupport.runtime()) {
      // Each message is forwarded to the next agent until its hop count runs out.
      rt.register(
          AgentType.builder(
                  "counter",
                  id ->
                      (m, ctx) -> {
                        handled.increment();
                        int left = m.payload(Integer.class);
                        if (left > 1) {
                          long next = Long.parseLong(id.key()) + 1;
                          ctx.send(counter(next), left - 1);
                        }
                      })
              .mailboxCapacity(1 << 16)
              .sendDeadline(Duration.ofSeconds(60))
              .build());
      for (int i = 0; i < total; i++) {
        rt.send(counter(i), hops);
      }
      ShutdownReport report = rt.shutdown(Duration.ofSeconds(60));
      assertThat(report.drained()).isTrue();
      assertThat(handled.sum()).isEqualTo((long) total * hops);
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void everySendThatWasAcceptedBeforeTheShutdownIsHandled() throws Exception {
    LongAdder handled = new LongAdder();
    AtomicLong accepted = new AtomicLong();
    AtomicReference<Throwable> refusal = new AtomicReference<>();
    CountDownLatch someSent = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(counting("counter", handled));
      Thread producer =
          new Thread(
              () -> {
                try {
                  for (long i = 0; ; i++) {
                    rt.send(counter(i), i);
                    accepted.incrementAndGet();
                    if (i == 10_000) {
                      someSent.countDown();
                    }
                  }
                } catch (Throwable e) {
                  refusal.set(e);
                }
              },
              "racing-producer");
      producer.start();
      await(someSent, "producer under way");
      ShutdownReport report = rt.shutdown(Duration.ofSeconds(60));
      producer.join();
      assertThat(refusal.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("no more messages are accepted");
      assertThat(report.drained()).isTrue();
      assertThat(handled.sum()).as("every accepted send was handled").isEqualTo(accepted.get());
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void afterShutdownExternalSendsAreRefused() {
    LongAdder handled = new LongAdder();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(counting("counter", handled));
      AgentRef spawned = rt.spawn(counter(0));
      AgentRef lazy = rt.ref(counter(1));
      rt.subscribe("news", "counter");
      assertThat(rt.shutdown(Duration.ofSeconds(30)).drained()).isTrue();

      assertThatThrownBy(() -> rt.send(counter(0), "late"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("shut down");
      assertThatThrownBy(() -> rt.send(AgentId.of("unregistered", "1"), "late"))
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> spawned.tell("late")).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> lazy.tell("late")).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> rt.publish(TopicId.of("news", "1"), "late"))
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> rt.publish(TopicId.of("unheard", "1"), "late"))
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> rt.spawn(counter(2))).isInstanceOf(IllegalStateException.class);
      CompletableFuture<Envelope> request = rt.request(counter(0), "late", Duration.ofSeconds(30));
      assertThat(request).isCompletedExceptionally();
      assertThatThrownBy(request::join).hasCauseInstanceOf(IllegalStateException.class);
      assertThat(handled.sum()).isZero();
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void pendingRequestsFailAtShutdown() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("mute", id -> (m, ctx) -> {}));
      CompletableFuture<Envelope> f =
          rt.request(AgentId.of("mute", "1"), "q", Duration.ofSeconds(60));
      rt.shutdown(Duration.ofSeconds(30));
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void aShutdownDeadlineDeadLettersWhatIsStillQueuedBehindABusyCarrier() {
    int queued = 50;
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch exited = new CountDownLatch(1);
    AgentId stuck = AgentId.of("stuck", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      // A non-blocking type whose handler holds its carrier thread past the deadline. Shutdown
      // gives such a carrier a few seconds to finish before it gives up on it.
      rt.register(
          AgentType.of(
              "stuck",
              id ->
                  (m, ctx) -> {
                    if (m.payload().equals("block")) {
                      entered.countDown();
                      awaitUninterruptibly(release);
                      exited.countDown();
                    }
                  }));
      shutDownBehindABlockedHandler(rt, stuck, queued, entered, release, exited);
      assertThat(rt.deadLetters().count()).isEqualTo(queued);
    }
  }

  @Test
  void aShutdownDeadlineDeadLettersWhatIsStillQueued() {
    int queued = 50;
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch exited = new CountDownLatch(1);
    AgentId stuck = AgentId.of("stuck", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      // A blocking type: its handler runs on a virtual thread and ignores the interrupt that
      // shutdown sends, as a handler stuck in a slow call might.
      rt.register(
          AgentType.builder(
                  "stuck",
                  id ->
                      (m, ctx) -> {
                        if (m.payload().equals("block")) {
                          entered.countDown();
                          awaitUninterruptibly(release);
                          Thread.interrupted();
                          exited.countDown();
                        }
                      })
              .blocking()
              .build());
      shutDownBehindABlockedHandler(rt, stuck, queued, entered, release, exited);
      assertThat(rt.deadLetters().recent())
          .extracting(d -> d.envelope().payload())
          .startsWith(0, 1, 2)
          .endsWith(queued - 1);
    }
  }

  /**
   * Sends {@code "block"} to {@code stuck}, whose handler then blocks until {@code release}; queues
   * {@code queued} more messages behind it and shuts {@code rt} down with a 200 ms deadline; then
   * releases the handler, waits for it to finish and checks that the queued messages were dead
   * lettered by the shutdown.
   */
  private static void shutDownBehindABlockedHandler(
      AgentRuntime rt,
      AgentId stuck,
      int queued,
      CountDownLatch entered,
      CountDownLatch release,
      CountDownLatch exited) {
    ShutdownReport report;
    try {
      rt.send(stuck, "block");
      await(entered, "handler blocked");
      for (int i = 0; i < queued; i++) {
        rt.send(stuck, i);
      }
      report = rt.shutdown(Duration.ofMillis(200));
    } finally {
      release.countDown();
    }
    await(exited, "blocked handler finished");
    assertThat(report.drained()).isFalse();
    assertThat(report.deadLettered()).isEqualTo(queued);
    assertThat(rt.deadLetters().count(DeadLetter.Reason.SHUTDOWN)).isEqualTo(queued);
  }
}
