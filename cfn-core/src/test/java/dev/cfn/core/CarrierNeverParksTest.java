package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A handler whose send must wait (a full BLOCK mailbox, a RELIABLE append waiting for its fsync)
 * suspends its agent, not its carrier: with a single carrier, another agent still answers at once.
 * Each test would hang its carrier, and fail its request to the other agent, if the send parked the
 * thread.
 */
class CarrierNeverParksTest {

  /** A journal whose appends of the payload "slow" wait for {@link #fsync}, like a stalled disk. */
  static final class StalledDiskJournal extends ForwardingJournal {
    final CountDownLatch fsync = new CountDownLatch(1);
    final AtomicInteger stalled = new AtomicInteger();

    @Override
    public void append(Envelope message) {
      if ("slow".equals(message.payload())) {
        stalled.incrementAndGet();
        TestSupport.awaitUninterruptibly(fsync);
      }
      inner.append(message);
    }
  }

  private static AgentType echo() {
    return AgentType.of("echo", id -> (m, ctx) -> ctx.reply("pong"));
  }

  private static Envelope ask(AgentRuntime rt) throws Exception {
    return rt.request(AgentId.of("echo", "1"), "ping", Duration.ofSeconds(30))
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void aSenderStuckBehindAFullMailboxDoesNotDelayOtherAgentsOnItsCarrier() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<Object> received = new CopyOnWriteArrayList<>();
    List<String> producerLog = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt = TestSupport.builder().carriers(1).build()) {
      // The stuck recipient: a blocking type, so its waiting does not hold the one carrier.
      rt.register(
          AgentType.builder(
                  "slow",
                  id ->
                      (m, ctx) -> {
                        TestSupport.block(release);
                        received.add(m.payload());
                      })
              .blocking()
              .mailboxCapacity(4)
              .sendDeadline(Duration.ofSeconds(60))
              .build());
      rt.register(
          AgentType.of(
              "producer",
              id ->
                  (m, ctx) -> {
                    if (m.payload().equals("go")) {
                      for (int i = 1; i <= 10; i++) {
                        ctx.send(AgentId.of("slow", "1"), i); // fills the lane, then must wait
                      }
                    }
                    producerLog.add((String) m.payload());
                  }));
      rt.register(echo());
      rt.send(AgentId.of("producer", "1"), "go");
      TestSupport.eventually(() -> producerLog.contains("go"), "the producer's handler returned");
      rt.send(AgentId.of("producer", "1"), "after");

      assertThat(ask(rt).payload()).as("the carrier still runs other agents").isEqualTo("pong");
      assertThat(producerLog)
          .as("the producer is suspended until its sends are in")
          .containsExactly("go");
      assertThat(received).isEmpty();

      release.countDown();
      TestSupport.eventually(() -> received.size() == 10, "all ten sends delivered");
      assertThat(received).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
      TestSupport.eventually(() -> producerLog.contains("after"), "the producer resumed");
      assertThat(rt.deadLetters().count()).isZero();
      assertThat(rt.meterRegistry().get(CfnMetrics.MAILBOX_REJECTIONS).counter().count()).isZero();
    }
  }

  @Test
  void aDeferredSendPastItsDeadlineIsRejectedAndSupervised() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong failures = new AtomicLong();
    try (AgentRuntime rt = TestSupport.builder().carriers(1).build()) {
      rt.register(
          AgentType.builder("slow", id -> (m, ctx) -> TestSupport.block(release))
              .blocking()
              .mailboxCapacity(4)
              .sendDeadline(Duration.ofMillis(100))
              .build());
      rt.register(
          AgentType.builder(
                  "producer",
                  id ->
                      (m, ctx) -> {
                        for (int i = 0; i < 8; i++) {
                          ctx.send(AgentId.of("slow", "1"), i);
                        }
                      })
              .supervision(SupervisionStrategy.resume())
              .build());
      rt.subscribe(LifecycleEvent.Kind.FAILED.topic(), AgentId.of("watcher", "1"));
      rt.register(AgentType.of("watcher", id -> (m, ctx) -> failures.incrementAndGet()));
      rt.send(AgentId.of("producer", "1"), "go");
      TestSupport.eventually(
          () -> rt.meterRegistry().get(CfnMetrics.MAILBOX_REJECTIONS).counter().count() >= 1,
          "a rejection after the send deadline");
      rt.send(AgentId.of("producer", "1"), "again"); // the next turn hands the failure over
      TestSupport.eventually(() -> failures.get() >= 1, "the producer's failure was supervised");
      release.countDown();
    }
  }

  @Test
  void aSenderWaitingForItsJournalAppendDoesNotDelayOtherAgentsOnItsCarrier() throws Exception {
    StalledDiskJournal journal = new StalledDiskJournal();
    List<Object> sinkGot = new CopyOnWriteArrayList<>();
    List<String> writerLog = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt = TestSupport.builder().carriers(1).journal(journal).build()) {
      rt.register(AgentType.of("sink", id -> (m, ctx) -> sinkGot.add(m.payload())));
      rt.register(
          AgentType.of(
              "writer",
              id ->
                  (m, ctx) -> {
                    if (m.payload().equals("go")) {
                      ctx.send(
                          Envelope.to(AgentId.of("sink", "1"))
                              .delivery(DeliveryMode.RELIABLE)
                              .payload("slow"));
                    }
                    writerLog.add((String) m.payload());
                  }));
      rt.register(echo());
      rt.send(AgentId.of("writer", "1"), "go");
      TestSupport.eventually(() -> journal.stalled.get() == 1, "the append waits for its fsync");
      rt.send(AgentId.of("writer", "1"), "next");

      assertThat(ask(rt).payload()).as("the carrier still runs other agents").isEqualTo("pong");
      assertThat(writerLog).as("the writer waits for its append").containsExactly("go");
      assertThat(sinkGot).isEmpty();

      journal.fsync.countDown();
      TestSupport.eventually(() -> sinkGot.contains("slow"), "the durable message delivered");
      TestSupport.eventually(() -> writerLog.contains("next"), "the writer resumed");
      TestSupport.eventually(() -> journal.inner.pendingCount() == 0, "acknowledged");
    }
  }

  @Test
  void aReliableMessageIsAcknowledgedOnlyOnceItsOwnReliableSendsAreDurable() throws Exception {
    StalledDiskJournal journal = new StalledDiskJournal();
    List<Object> sinkGot = new CopyOnWriteArrayList<>();
    AtomicLong incoming = new AtomicLong();
    try (AgentRuntime rt = TestSupport.builder().carriers(1).journal(journal).build()) {
      rt.register(AgentType.of("sink", id -> (m, ctx) -> sinkGot.add(m.payload())));
      rt.register(
          AgentType.of(
              "relay",
              id ->
                  (m, ctx) -> {
                    incoming.set(m.id());
                    ctx.send(
                        Envelope.to(AgentId.of("sink", "1"))
                            .delivery(DeliveryMode.RELIABLE)
                            .payload("slow"));
                  }));
      rt.register(echo());
      rt.send(Envelope.to(AgentId.of("relay", "1")).delivery(DeliveryMode.RELIABLE).payload("job"));
      TestSupport.eventually(() -> journal.stalled.get() == 1, "the relay's append waits");
      assertThat(ask(rt).payload()).isEqualTo("pong");
      assertThat(journal.inner.isAcknowledged(incoming.get()))
          .as("not acknowledged while its outgoing message is not durable")
          .isFalse();

      journal.fsync.countDown();
      TestSupport.eventually(() -> sinkGot.contains("slow"), "the outgoing message delivered");
      TestSupport.eventually(
          () -> journal.inner.isAcknowledged(incoming.get()), "the incoming one acknowledged");
    }
  }
}
