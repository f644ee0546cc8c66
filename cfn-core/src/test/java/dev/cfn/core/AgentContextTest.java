package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static dev.cfn.core.TestSupport.block;
import static dev.cfn.core.TestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AgentContextTest {

  @Test
  void metricsReportProcessedAndFailures() {
    AtomicReference<AgentMetrics> reported = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    AgentId id = AgentId.of("m", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder(
                  "m",
                  x ->
                      (m, ctx) -> {
                        switch (m.payload(String.class)) {
                          case "fail" -> throw new IllegalStateException("planned");
                          case "report" -> {
                            reported.set(ctx.metrics());
                            done.countDown();
                          }
                          default -> {}
                        }
                      })
              .supervision(SupervisionStrategy.resume())
              .build());
      AgentRef ref = rt.spawn(id);
      for (String p : List.of("ok", "fail", "ok", "fail", "ok", "report")) {
        ref.tell(p);
      }
      await(done, "report");
      // processed counts handled messages before the current one.
      assertThat(reported.get()).isEqualTo(new AgentMetrics(5, 2, 0, 0));
      eventually(() -> ref.metrics().processed() == 6, "report counted");
      assertThat(ref.metrics()).isEqualTo(new AgentMetrics(6, 2, 0, 0));
      assertThat(rt.ref(AgentId.of("m", "never")).metrics())
          .isEqualTo(new AgentMetrics(0, 0, 0, 0));
    }
  }

  @Test
  void stopSelfStopsTheAgentAfterTheCurrentMessage() {
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger created = new AtomicInteger();
    AgentId id = AgentId.of("quitter", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "quitter",
              x -> {
                created.incrementAndGet();
                return new Agent() {
                  @Override
                  public void onMessage(Envelope m, AgentContext ctx) throws Exception {
                    String p = m.payload(String.class);
                    if (p.equals("block")) {
                      entered.countDown();
                      block(release);
                    }
                    if (p.equals("stop")) {
                      ctx.stopSelf();
                      log.add("stop requested");
                    }
                    log.add("handled " + p);
                  }

                  @Override
                  public void onStop(AgentContext ctx) {
                    log.add("onStop");
                  }
                };
              }));
      AgentRef ref = rt.spawn(id);
      try {
        ref.tell("block");
        await(entered, "handler blocked");
        ref.tell("stop");
        ref.tell("after1");
        ref.tell("after2");
      } finally {
        release.countDown();
      }
      eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.AGENT_STOPPED) == 2, "mail dead-lettered");
      assertThat(log).containsExactly("handled block", "stop requested", "handled stop", "onStop");
      assertThat(rt.deadLetters().recent())
          .extracting(d -> d.envelope().payload())
          .containsExactly("after1", "after2");
      assertThat(rt.lookup(id)).isEmpty();
      assertThat(ref.isAlive()).isFalse();
      assertThat(created.get()).isEqualTo(1);
    }
  }

  @Test
  void messagesFromAnAgentCarryItsIdAsSender() {
    List<AgentId> senders = Collections.synchronizedList(new ArrayList<>());
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("sink", id -> (m, ctx) -> senders.add(m.sender())));
      rt.register(
          AgentType.of(
              "src",
              id ->
                  (m, ctx) -> {
                    assertThat(ctx.self()).isEqualTo(id);
                    ctx.send(AgentId.of("sink", "1"), "direct");
                    ctx.send(Envelope.to(AgentId.of("sink", "1")).type("custom").payload("built"));
                    rt.ref(AgentId.of("sink", "1")).tell("ref", ctx);
                  }));
      rt.send(AgentId.of("src", "a"), "go");
      rt.send(AgentId.of("sink", "1"), "external");
      eventually(() -> senders.size() == 4, "all messages");
      assertThat(senders)
          .containsExactlyInAnyOrder(
              AgentId.of("src", "a"),
              AgentId.of("src", "a"),
              AgentId.of("src", "a"),
              AgentRuntime.EXTERNAL);
    }
  }

  @Test
  void agentsCanSpawnAndBroadcast() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger reached = new AtomicInteger(-1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("child", id -> (m, ctx) -> got.add(id.key() + ":" + m.payload())));
      rt.register(
          AgentType.of(
              "parent",
              id ->
                  (m, ctx) -> {
                    for (int i = 0; i < 3; i++) {
                      ctx.spawn(AgentId.of("child", Integer.toString(i)));
                    }
                    reached.set(ctx.broadcastToType("child", "hello"));
                  }));
      rt.send(AgentId.of("parent", "1"), "go");
      eventually(() -> got.size() == 3, "children greeted");
      assertThat(reached.get()).isEqualTo(3);
      assertThat(got).containsExactlyInAnyOrder("0:hello", "1:hello", "2:hello");
    }
  }
}
