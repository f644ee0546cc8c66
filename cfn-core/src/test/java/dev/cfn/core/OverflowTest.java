package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static dev.cfn.core.TestSupport.block;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The three overflow policies, with a consumer held in its handler so the mailbox fills. */
class OverflowTest {
  private static final AgentId SINK = AgentId.of("sink", "1");

  /** Blocks on message 0 until released; records every message it handles. */
  static final class Sink implements Agent {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<Integer> handled = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onMessage(Envelope m, AgentContext ctx) throws Exception {
      int n = m.payload(Integer.class);
      if (n == 0) {
        entered.countDown();
        block(release);
      }
      handled.add(n);
    }
  }

  private static AgentType.Builder sinkType(Sink sink, OverflowPolicy policy) {
    return AgentType.builder("sink", id -> sink).mailboxCapacity(4).overflow(policy);
  }

  /** Sends message 0, waits until the handler holds it, then fills the lane with 1..4. */
  private static void fill(AgentRuntime rt, Sink sink) {
    rt.send(SINK, 0);
    await(sink.entered, "consumer blocked");
    for (int i = 1; i <= 4; i++) {
      rt.send(SINK, i);
    }
  }

  private static double counter(AgentRuntime rt, String name) {
    return rt.meterRegistry().get(name).counter().count();
  }

  @Test
  void rejectThrowsWhenTheLaneIsFull() {
    Sink sink = new Sink();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(sinkType(sink, OverflowPolicy.REJECT).build());
      try {
        fill(rt, sink);
        assertThatThrownBy(() -> rt.send(SINK, 5))
            .isInstanceOfSatisfying(
                MailboxFullException.class, e -> assertThat(e.recipient()).isEqualTo(SINK))
            .hasMessageContaining("mailbox of sink/1 is full (4 messages per lane)")
            .hasMessageContaining("REJECT");
        assertThatThrownBy(() -> rt.ref(SINK).tell(6)).isInstanceOf(MailboxFullException.class);
        // Other lanes have their own room.
        rt.send(Envelope.to(SINK).priority(Priority.HIGH).payload(7));
        assertThat(counter(rt, CfnMetrics.MAILBOX_REJECTIONS)).isEqualTo(2.0);
      } finally {
        sink.release.countDown();
      }
      TestSupport.eventually(() -> sink.handled.size() == 6, "queued messages handled");
      assertThat(sink.handled).containsExactly(0, 7, 1, 2, 3, 4);
      rt.send(SINK, 8);
      TestSupport.eventually(() -> sink.handled.size() == 7, "send after draining");
      assertThat(rt.shutdown(Duration.ofSeconds(30)).drained()).isTrue();
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void blockThrowsAfterTheSendDeadline() {
    Sink sink = new Sink();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          sinkType(sink, OverflowPolicy.BLOCK).sendDeadline(Duration.ofMillis(100)).build());
      try {
        fill(rt, sink);
        assertThatThrownBy(() -> rt.send(SINK, 5))
            .isInstanceOf(MailboxFullException.class)
            .hasMessageContaining("waited PT0.1S for space");
        assertThat(counter(rt, CfnMetrics.MAILBOX_REJECTIONS)).isEqualTo(1.0);
      } finally {
        sink.release.countDown();
      }
      TestSupport.eventually(() -> sink.handled.size() == 5, "queued messages handled");
      assertThat(sink.handled).containsExactly(0, 1, 2, 3, 4);
    }
  }

  @Test
  void blockWaitsUntilTheConsumerMakesRoom() throws Exception {
    Sink sink = new Sink();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          sinkType(sink, OverflowPolicy.BLOCK).sendDeadline(Duration.ofSeconds(30)).build());
      CompletableFuture<Void> sender;
      try {
        fill(rt, sink);
        sender =
            CompletableFuture.runAsync(
                () -> {
                  for (int i = 5; i <= 12; i++) {
                    rt.send(SINK, i);
                  }
                },
                r -> new Thread(r, "blocked-sender").start());
        // The lane is full and its consumer is held, so the sender cannot have finished.
        Thread.sleep(50);
        assertThat(sender).isNotDone();
      } finally {
        sink.release.countDown();
      }
      sender.get(30, TimeUnit.SECONDS);
      TestSupport.eventually(() -> sink.handled.size() == 13, "all messages handled");
      assertThat(sink.handled).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
      assertThat(counter(rt, CfnMetrics.MAILBOX_REJECTIONS)).isZero();
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void dropOldestKeepsTheNewestAndCountsTheDropped() {
    Sink sink = new Sink();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(sinkType(sink, OverflowPolicy.DROP_OLDEST).build());
      try {
        fill(rt, sink);
        for (int i = 5; i <= 10; i++) {
          rt.send(SINK, i);
        }
      } finally {
        sink.release.countDown();
      }
      TestSupport.eventually(() -> sink.handled.size() == 5, "kept messages handled");
      assertThat(sink.handled).containsExactly(0, 7, 8, 9, 10);
      assertThat(rt.deadLetters().count(DeadLetter.Reason.DROPPED_OLDEST)).isEqualTo(6);
      assertThat(rt.deadLetters().count()).isEqualTo(6);
      assertThat(counter(rt, CfnMetrics.MAILBOX_DROPPED)).isEqualTo(6.0);
      assertThat(
              rt.meterRegistry()
                  .get(CfnMetrics.DEAD_LETTERS)
                  .tag("reason", "DROPPED_OLDEST")
                  .counter()
                  .count())
          .isEqualTo(6.0);
      assertThat(rt.deadLetters().recent())
          .extracting(d -> d.envelope().payload())
          .containsExactly(1, 2, 3, 4, 5, 6);
      assertThat(rt.shutdown(Duration.ofSeconds(30)).drained()).isTrue();
    }
  }
}
