package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Validation of the builders, the envelope and the small value types. */
class ConfigTest {
  private static final AgentFactory NOOP = id -> (m, ctx) -> {};

  @Test
  void agentTypeDefaults() {
    AgentType t = AgentType.of("w", NOOP);
    assertThat(t.name()).isEqualTo("w");
    assertThat(t.mailboxCapacity()).isEqualTo(AgentType.DEFAULT_MAILBOX_CAPACITY);
    assertThat(t.overflow()).isEqualTo(OverflowPolicy.BLOCK);
    assertThat(t.sendDeadline()).isEqualTo(Duration.ofSeconds(5));
    assertThat(t.supervision()).isEqualTo(AgentType.DEFAULT_SUPERVISION);
    assertThat(t.blocking()).isFalse();
    assertThat(t.throughput()).isZero();
    assertThat(t.agingLimit()).isEqualTo(16);
  }

  @Test
  void mailboxCapacityMustBeAPowerOfTwoAndSuggestsOne() {
    assertThat(AgentType.builder("w", NOOP).mailboxCapacity(4).build().mailboxCapacity())
        .isEqualTo(4);
    assertThatThrownBy(() -> AgentType.builder("w", NOOP).mailboxCapacity(5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mailbox capacity 5 is not a power of two")
        .hasMessageContaining("use e.g. 8");
    assertThatThrownBy(() -> AgentType.builder("w", NOOP).mailboxCapacity(2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use e.g. 4");
    assertThatThrownBy(() -> AgentType.builder("w", NOOP).mailboxCapacity(Integer.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use e.g. 1073741824");
  }

  @Test
  void otherAgentTypeSettingsAreValidated() {
    assertThatThrownBy(() -> AgentType.builder("w", NOOP).agingLimit(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("aging limit is 0");
    assertThatThrownBy(() -> AgentType.builder("w", NOOP).throughput(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use 1 or more");
    assertThatThrownBy(() -> AgentType.builder("w", NOOP).sendDeadline(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AgentType.builder("external", NOOP))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reserved");
    assertThatThrownBy(() -> AgentType.builder("9w", NOOP))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("badly formed");
    assertThatThrownBy(() -> AgentType.builder("w", null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void runtimeBuilderSettingsAreValidated() {
    assertThatThrownBy(() -> AgentRuntime.builder().carriers(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("carriers must be between 1 and 1024");
    assertThatThrownBy(() -> AgentRuntime.builder().throughput(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AgentRuntime.builder().deadLetterWindow(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AgentRuntime.builder().name("bad name"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void idleStrategies() {
    assertThat(IdleStrategy.named("default")).isEqualTo(IdleStrategy.DEFAULT);
    assertThat(IdleStrategy.named("low-latency")).isEqualTo(IdleStrategy.LOW_LATENCY);
    assertThatThrownBy(() -> IdleStrategy.named("turbo"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'turbo'")
        .hasMessageContaining("'default' or 'low-latency'");
    assertThatThrownBy(() -> new IdleStrategy(Duration.ofNanos(-1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void envelopeRules() {
    AgentId to = AgentId.of("w", "1");
    TopicId topic = TopicId.of("t", "s");
    assertThatThrownBy(
            () ->
                new Envelope(
                    1,
                    "x",
                    AgentRuntime.EXTERNAL,
                    to,
                    null,
                    0,
                    Priority.NORMAL,
                    DeliveryMode.BEST_EFFORT,
                    Map.of(),
                    null,
                    0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload is null");
    assertThatThrownBy(
            () ->
                new Envelope(
                    1,
                    "x",
                    AgentRuntime.EXTERNAL,
                    to,
                    topic,
                    0,
                    Priority.NORMAL,
                    DeliveryMode.BEST_EFFORT,
                    Map.of(),
                    "p",
                    0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exactly one of recipient");
    assertThatThrownBy(
            () ->
                new Envelope(
                    1,
                    "x",
                    AgentRuntime.EXTERNAL,
                    null,
                    null,
                    0,
                    Priority.NORMAL,
                    DeliveryMode.BEST_EFFORT,
                    Map.of(),
                    "p",
                    0))
        .isInstanceOf(IllegalArgumentException.class);
    Envelope e =
        new Envelope(
            7,
            "x",
            AgentRuntime.EXTERNAL,
            to,
            null,
            0,
            Priority.NORMAL,
            DeliveryMode.BEST_EFFORT,
            null,
            "text",
            System.nanoTime());
    assertThat(e.headers()).isEmpty();
    assertThat(e.isReply()).isFalse();
    assertThat(e.payload(String.class)).isEqualTo("text");
    assertThat(e.payload(CharSequence.class)).isEqualTo("text");
    assertThatThrownBy(() -> e.payload(Integer.class))
        .isInstanceOf(ClassCastException.class)
        .hasMessageContaining(
            "message 7 of type 'x' carries java.lang.String, not java.lang.Integer");
  }

  @Test
  void theRuntimeRefusesNullPayloadsAndReliableDelivery() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("w", NOOP));
      AgentId to = AgentId.of("w", "1");
      assertThatThrownBy(() -> rt.send(to, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("payload is null");
      assertThatThrownBy(
              () -> rt.send(Envelope.to(to).delivery(DeliveryMode.RELIABLE).payload("p")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("RELIABLE delivery needs a durable journal");
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void theDeadLetterWindowKeepsTheMostRecent() {
    try (AgentRuntime rt = TestSupport.builder().deadLetterWindow(3).build()) {
      for (int i = 0; i < 10; i++) {
        rt.send(AgentId.of("ghost", "1"), i);
      }
      assertThat(rt.deadLetters().count()).isEqualTo(10);
      assertThat(rt.deadLetters().recent())
          .extracting(d -> d.envelope().payload())
          .containsExactly(7, 8, 9);
    }
    try (AgentRuntime rt = TestSupport.builder().deadLetterWindow(0).build()) {
      rt.send(AgentId.of("ghost", "1"), "x");
      assertThat(rt.deadLetters().count()).isEqualTo(1);
      assertThat(rt.deadLetters().recent()).isEmpty();
    }
  }
}
