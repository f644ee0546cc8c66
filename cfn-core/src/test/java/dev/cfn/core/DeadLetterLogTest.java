package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DeadLetterLogTest {
  private static final AgentId TO = AgentId.of("worker", "1");

  @Test
  void aBurstLargerThanTheWindowIsCountedWholeByReasonAndByDeliveryMode() {
    DeadLetterLog log = new DeadLetterLog(4);
    for (int i = 0; i < 10; i++) {
      log.add(
          Envelope.to(TO)
              .delivery(DeliveryMode.RELIABLE)
              .payload("r" + i)
              .build(i, AgentRuntime.EXTERNAL),
          DeadLetter.Reason.AGENT_STOPPED,
          "stopped");
    }
    for (int i = 0; i < 3; i++) {
      log.add(
          Envelope.to(TO).payload("b" + i).build(100 + i, AgentRuntime.EXTERNAL),
          DeadLetter.Reason.NO_SUCH_AGENT_TYPE,
          "none");
    }

    assertThat(log.recent()).hasSize(4);
    assertThat(log.count()).isEqualTo(13);
    assertThat(log.count(DeadLetter.Reason.AGENT_STOPPED)).isEqualTo(10);
    assertThat(log.count(DeliveryMode.RELIABLE)).isEqualTo(10);
    assertThat(log.count(DeliveryMode.BEST_EFFORT)).isEqualTo(3);
  }

  @Test
  void theDefaultCountsOnlyTheLettersStillInTheWindow() {
    DeadLetterLog log = new DeadLetterLog(2);
    for (int i = 0; i < 5; i++) {
      log.add(
          Envelope.to(TO)
              .delivery(DeliveryMode.RELIABLE)
              .payload("r" + i)
              .build(i, AgentRuntime.EXTERNAL),
          DeadLetter.Reason.AGENT_STOPPED,
          "stopped");
    }
    DeadLetters windowOnly =
        new DeadLetters() {
          @Override
          public long count() {
            return log.count();
          }

          @Override
          public long count(DeadLetter.Reason reason) {
            return log.count(reason);
          }

          @Override
          public java.util.List<DeadLetter> recent() {
            return log.recent();
          }
        };
    assertThat(windowOnly.count(DeliveryMode.RELIABLE)).isEqualTo(2);
  }
}
