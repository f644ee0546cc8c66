package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** One messaging interface: the same code sends through the runtime, a context or a ref. */
class MessageBusTest {

  /** Code written once against the interface, used by callers inside and outside agents. */
  private static void announce(MessageBus bus, AgentRef sinkRef, String what) {
    bus.send(sinkRef.id(), what + ":send");
    bus.publish(new TopicId("news", "1"), what + ":publish");
    bus.broadcastToType("sink", what + ":broadcast");
    sinkRef.tell(what + ":ref", bus);
  }

  @Test
  void theSameCodeSendsAsWhoeverItIsGivenTo() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    CountDownLatch all = new CountDownLatch(8);
    try (AgentRuntime rt = TestSupport.runtime()) {
      AgentRef sink =
          rt.register(
                  AgentType.of(
                      "sink",
                      id ->
                          (m, ctx) -> {
                            seen.add(m.payload() + " from " + m.sender());
                            all.countDown();
                          }))
              .spawn(AgentId.of("sink", "1"));
      rt.subscribe("news", AgentId.of("sink", "1"));
      rt.register(AgentType.of("caller", id -> (m, ctx) -> announce(ctx, sink, "inside")));
      announce(rt, sink, "outside");
      rt.send(AgentId.of("caller", "1"), "go");
      await(all, "eight messages");
      assertThat(seen)
          .containsExactlyInAnyOrder(
              "outside:send from external/caller",
              "outside:publish from external/caller",
              "outside:broadcast from external/caller",
              "outside:ref from external/caller",
              "inside:send from caller/1",
              "inside:publish from caller/1",
              "inside:broadcast from caller/1",
              "inside:ref from caller/1");
      MessageBus bus = rt;
      assertThat(bus.request(sink.id(), "q", Duration.ofMillis(50)))
          .failsWithin(Duration.ofSeconds(30));
    }
  }
}
