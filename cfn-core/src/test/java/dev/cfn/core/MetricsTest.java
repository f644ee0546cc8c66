package dev.cfn.core;

import static dev.cfn.core.TestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class MetricsTest {

  private static double sent(MeterRegistry r) {
    return r.get(CfnMetrics.MESSAGES_SENT).functionCounter().count();
  }

  private static double delivered(MeterRegistry r) {
    return r.get(CfnMetrics.MESSAGES_DELIVERED).functionCounter().count();
  }

  @Test
  void metersFollowTheTraffic() {
    int agents = 3;
    int messages = 300;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LongAdder handled = new LongAdder();
    try (AgentRuntime rt =
        TestSupport.builder().meterRegistry(registry).latencySampleEvery(1).build()) {
      assertThat(rt.meterRegistry()).isSameAs(registry);
      rt.register(AgentType.of("m", id -> (m, ctx) -> handled.increment()));
      for (int i = 0; i < agents; i++) {
        rt.spawn(AgentId.of("m", Integer.toString(i)));
      }
      for (int i = 0; i < messages; i++) {
        rt.send(AgentId.of("m", Integer.toString(i % agents)), i);
      }
      eventually(() -> delivered(registry) == messages, "delivered counter");

      assertThat(handled.sum()).isEqualTo(messages);
      assertThat(sent(registry)).isEqualTo(messages);
      assertThat(delivered(registry)).isEqualTo(messages);
      assertThat(registry.get(CfnMetrics.AGENTS_LIVE).gauge().value()).isEqualTo(agents);
      assertThat(registry.get(CfnMetrics.MAILBOX_SIZE).gauge().value()).isZero();
      assertThat(registry.get(CfnMetrics.CONNECTIONS).gauge().value()).isZero();
      // Preemptions depend on the machine's load: the counter is there and counts up from zero.
      assertThat(registry.get(CfnMetrics.CARRIER_PREEMPTIONS).functionCounter().count())
          .isNotNegative();
      assertThat(registry.get(CfnMetrics.DISPATCHER_UTILIZATION).gauges())
          .hasSize(2)
          .allSatisfy(g -> assertThat(g.value()).isBetween(0.0, 1.0))
          .extracting(g -> g.getId().getTag("carrier"))
          .containsExactlyInAnyOrder("0", "1");
      eventually(
          () ->
              registry.get(CfnMetrics.MESSAGE_LATENCY_COUNT).functionCounter().count() == messages,
          "every message sampled");
      assertThat(registry.get(CfnMetrics.MESSAGE_LATENCY).gauges())
          .extracting(g -> g.getId().getTag("quantile"))
          .containsExactlyInAnyOrder("0.5", "0.95", "0.99", "0.999");
      assertThat(registry.get(CfnMetrics.MESSAGE_LATENCY_MAX).gauge().value()).isNotNegative();
      assertThat(registry.get(CfnMetrics.HANDLER_FAILURES).counter().count()).isZero();
      assertThat(registry.get(CfnMetrics.DEAD_LETTERS).counters())
          .hasSize(DeadLetter.Reason.values().length)
          .allSatisfy(c -> assertThat(c.count()).isZero());
      assertThat(registry.find(CfnMetrics.PROCESS_MEMORY_RSS).gauge())
          .as("JVM meters are off")
          .isNull();
    }
  }

  @Test
  void failuresAndDeadLettersAreCounted() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (AgentRuntime rt = TestSupport.builder().meterRegistry(registry).build()) {
      rt.register(
          AgentType.builder(
                  "f",
                  id ->
                      (m, ctx) -> {
                        throw new IllegalStateException("nope");
                      })
              .supervision(SupervisionStrategy.resume())
              .build());
      rt.send(AgentId.of("f", "1"), "x");
      rt.send(AgentId.of("ghost", "1"), "x");
      eventually(() -> delivered(registry) == 1, "failed message finished");
      assertThat(sent(registry)).as("the ghost message never reached a mailbox").isEqualTo(1);
      assertThat(registry.get(CfnMetrics.HANDLER_FAILURES).counter().count()).isEqualTo(1);
      assertThat(
              registry
                  .get(CfnMetrics.DEAD_LETTERS)
                  .tag("reason", "HANDLER_FAILED")
                  .counter()
                  .count())
          .isEqualTo(1);
      assertThat(
              registry
                  .get(CfnMetrics.DEAD_LETTERS)
                  .tag("reason", "NO_SUCH_AGENT_TYPE")
                  .counter()
                  .count())
          .isEqualTo(1);
    }
  }

  @Test
  void jvmMetersAreOptional() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (AgentRuntime rt =
        AgentRuntime.builder().carriers(1).meterRegistry(registry).jvmMetrics(true).build()) {
      Gauge rss = registry.get(CfnMetrics.PROCESS_MEMORY_RSS).gauge();
      assertThat(rss.value()).isPositive();
      assertThat(registry.find("jvm.memory.used").gauges()).isNotEmpty();
      assertThat(rt.liveAgents()).isZero();
    }
  }

  @Test
  void theSampleRateMustBeAPowerOfTwo() {
    assertThatThrownBy(() -> AgentRuntime.builder().latencySampleEvery(3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("power of two");
    assertThatThrownBy(() -> AgentRuntime.builder().latencySampleEvery(0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
