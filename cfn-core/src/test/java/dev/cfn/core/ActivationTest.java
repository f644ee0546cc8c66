package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Spawning, lazy activation on first message, stopping and broadcasting. */
class ActivationTest {

  @Test
  void aSendToAnUnspawnedIdOfARegisteredTypeCreatesIt() {
    AtomicInteger created = new AtomicInteger();
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(2);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "lazy",
              id -> {
                created.incrementAndGet();
                return (m, ctx) -> {
                  got.add(ctx.self() + ":" + m.payload());
                  done.countDown();
                };
              }));
      AgentId id = AgentId.of("lazy", "1");
      assertThat(rt.lookup(id)).isEmpty();
      rt.send(id, "a");
      assertThat(rt.lookup(id)).isPresent();
      assertThat(rt.liveAgents()).isEqualTo(1);
      rt.ref(AgentId.of("lazy", "2")).tell("b");
      await(done, "both messages");
      assertThat(got).containsExactlyInAnyOrder("lazy/1:a", "lazy/2:b");
      assertThat(created.get()).isEqualTo(2);
      assertThat(rt.liveAgents()).isEqualTo(2);
    }
  }

  @Test
  void concurrentFirstSendsCreateOneInstance() throws Exception {
    int threads = 8;
    int perThread = 100;
    AtomicInteger created = new AtomicInteger();
    AtomicInteger handled = new AtomicInteger();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "lazy",
              id -> {
                created.incrementAndGet();
                // A slow factory widens the window in which the other first sends arrive.
                Thread.sleep(50);
                return (m, ctx) -> handled.incrementAndGet();
              }));
      AgentId id = AgentId.of("lazy", "shared");
      AgentRef ref = rt.ref(id);
      CyclicBarrier start = new CyclicBarrier(threads);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> senders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        boolean viaRef = t % 2 == 0;
        Thread s =
            new Thread(
                () -> {
                  try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                      if (viaRef) {
                        ref.tell(i);
                      } else {
                        rt.send(id, i);
                      }
                    }
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                });
        s.start();
        senders.add(s);
      }
      for (Thread s : senders) {
        s.join();
      }
      assertThat(failure.get()).isNull();
      TestSupport.eventually(() -> handled.get() == threads * perThread, "all messages handled");
      assertThat(created.get()).as("factory calls").isEqualTo(1);
      assertThat(rt.liveAgents()).isEqualTo(1);
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void aFactoryThatSendsToTheAgentItCreatesFailsInsteadOfHanging() {
    AtomicReference<AgentRuntime> runtime = new AtomicReference<>();
    try (AgentRuntime rt = TestSupport.runtime()) {
      runtime.set(rt);
      rt.register(
          AgentType.of(
              "selfish",
              id -> {
                runtime.get().send(id, "hello me");
                return (m, ctx) -> {};
              }));
      assertThatThrownBy(() -> rt.send(AgentId.of("selfish", "1"), "x"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("failed to create selfish/1")
          .hasStackTraceContaining("while creating it");
      assertThat(rt.liveAgents()).isZero();
      assertThat(rt.lookup(AgentId.of("selfish", "1"))).isEmpty();
    }
  }

  @Test
  void aSendToAnUnregisteredTypeIsADeadLetter() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      AgentId ghost = AgentId.of("ghost", "1");
      rt.send(ghost, "boo");
      rt.ref(AgentId.of("ghost", "2")).tell("boo");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUCH_AGENT_TYPE)).isEqualTo(2);
      DeadLetter first = rt.deadLetters().recent().getFirst();
      assertThat(first.reason()).isEqualTo(DeadLetter.Reason.NO_SUCH_AGENT_TYPE);
      assertThat(first.envelope().recipient()).isEqualTo(ghost);
      assertThat(first.envelope().sender()).isEqualTo(AgentRuntime.EXTERNAL);
      assertThat(first.detail()).contains("ghost");
      assertThat(rt.liveAgents()).isZero();
    }
  }

  @Test
  void spawnOfAnUnregisteredTypeThrows() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      assertThatThrownBy(() -> rt.spawn(AgentId.of("ghost", "1")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no agent type 'ghost' is registered")
          .hasMessageContaining("register");
    }
  }

  @Test
  void spawningALiveIdTwiceThrows() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("w", id -> (m, ctx) -> {}));
      AgentId id = AgentId.of("w", "1");
      AgentRef ref = rt.spawn(id);
      assertThat(ref.id()).isEqualTo(id);
      assertThat(ref.isAlive()).isTrue();
      assertThatThrownBy(() -> rt.spawn(id))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("agent w/1 is already live");
      rt.send(AgentId.of("w", "2"), "activate");
      assertThatThrownBy(() -> rt.spawn(AgentId.of("w", "2")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already live");
    }
  }

  @Test
  void registeringATypeTwiceThrows() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("w", id -> (m, ctx) -> {}));
      assertThatThrownBy(() -> rt.register(AgentType.of("w", id -> (m, ctx) -> {})))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("'w' is already registered");
    }
  }

  @Test
  void aFailingFactoryFailsTheSpawn() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "bad",
              id -> {
                throw new IllegalArgumentException("no config for " + id);
              }));
      rt.register(AgentType.of("nil", id -> null));
      assertThatThrownBy(() -> rt.spawn(AgentId.of("bad", "1")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("failed to create bad/1")
          .hasRootCauseMessage("no config for bad/1");
      assertThatThrownBy(() -> rt.spawn(AgentId.of("nil", "1")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("returned null for nil/1");
      assertThat(rt.liveAgents()).isZero();
    }
  }

  @Test
  void onStartRunsBeforeTheFirstMessage() {
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "starter",
              id ->
                  new Agent() {
                    @Override
                    public void onStart(AgentContext ctx) {
                      events.add("start " + ctx.self());
                    }

                    @Override
                    public void onMessage(Envelope m, AgentContext ctx) {
                      events.add("message " + m.payload());
                      done.countDown();
                    }
                  }));
      rt.send(AgentId.of("starter", "1"), "x");
      await(done, "first message");
      assertThat(events).containsExactly("start starter/1", "message x");
    }
  }

  @Test
  void stoppingAnAgentThenSendingActivatesAFreshOne() {
    AtomicInteger created = new AtomicInteger();
    List<Integer> seenBy = Collections.synchronizedList(new ArrayList<>());
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "w",
              id -> {
                int instance = created.incrementAndGet();
                return (m, ctx) -> seenBy.add(instance);
              }));
      AgentId id = AgentId.of("w", "1");
      AgentRef ref = rt.spawn(id);
      ref.tell("one");
      TestSupport.eventually(() -> seenBy.size() == 1, "first message");
      assertThat(rt.stop(id)).isTrue();
      assertThat(rt.stop(id)).as("no longer live").isFalse();
      assertThat(rt.lookup(id)).isEmpty();
      assertThat(ref.isAlive()).isFalse();
      ref.tell("two"); // the ref looks the id up again and activates a fresh agent
      TestSupport.eventually(() -> seenBy.size() == 2, "second message");
      assertThat(seenBy).containsExactly(1, 2);
      assertThat(ref.isAlive()).isTrue();
      assertThat(rt.stop(AgentId.of("w", "never"))).isFalse();
    }
  }

  @Test
  void broadcastsReachEveryLiveAgentOfATypeOrSwarm() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("w", id -> (m, ctx) -> got.add(id.key() + ":" + m.payload())));
      rt.register(AgentType.of("other", id -> (m, ctx) -> got.add("other:" + m.payload())));
      for (int i = 0; i < 3; i++) {
        rt.spawn(AgentId.of("w", "s" + i), "alpha");
      }
      rt.spawn(AgentId.of("w", "solo"));
      rt.spawn(AgentId.of("other", "1"), "alpha");
      assertThat(rt.broadcastToType("w", "t")).isEqualTo(4);
      assertThat(rt.broadcastToSwarm("alpha", "s")).isEqualTo(4);
      assertThat(rt.broadcastToSwarm("nobody", "s")).isZero();
      TestSupport.eventually(() -> got.size() == 8, "all broadcasts");
      assertThat(got)
          .containsExactlyInAnyOrder(
              "s0:t", "s1:t", "s2:t", "solo:t", "s0:s", "s1:s", "s2:s", "other:s");
      rt.stop(AgentId.of("w", "s0"));
      assertThat(rt.broadcastToSwarm("alpha", "again")).isEqualTo(3);
      assertThat(rt.broadcastToType("w", "again")).isEqualTo(3);
    }
  }
}
