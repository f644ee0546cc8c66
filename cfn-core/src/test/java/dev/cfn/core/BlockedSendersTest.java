package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Many senders outside the runtime blocked on one agent's full mailbox ({@link
 * OverflowPolicy#BLOCK}): each waits to be signalled by the agent's turns, so every send completes
 * within the send deadline and every message is handled exactly once; a sender whose deadline
 * passes gets a {@link MailboxFullException} and its message is not handled.
 */
class BlockedSendersTest {
  static final AgentId SLOW = AgentId.of("slow", "1");

  @Test
  void twoHundredFiftySixSendersToOneSmallMailboxAllGetIn() throws Exception {
    int senders = 256;
    int each = 20;
    ConcurrentHashMap<Integer, Integer> handled = new ConcurrentHashMap<>();
    try (AgentRuntime rt =
            TestSupport.builder()
                .register(
                    AgentType.builder(
                            "slow",
                            id ->
                                (m, ctx) -> {
                                  LockSupport.parkNanos(20_000); // a slow-ish handler
                                  handled.merge(m.payload(Integer.class), 1, Integer::sum);
                                })
                        .mailboxCapacity(8)
                        .overflow(OverflowPolicy.BLOCK)
                        .sendDeadline(Duration.ofSeconds(60))
                        .build())
                .build();
        var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> sent = new ArrayList<>();
      for (int s = 0; s < senders; s++) {
        int sender = s;
        sent.add(
            pool.submit(
                () -> {
                  TestSupport.awaitUninterruptibly(start);
                  for (int i = 0; i < each; i++) {
                    rt.send(SLOW, sender * each + i);
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : sent) {
        f.get(60, TimeUnit.SECONDS); // a MailboxFullException would fail here
      }
      TestSupport.eventually(() -> handled.size() == senders * each, "every message handled");
    }
    assertThat(handled).hasSize(senders * each);
    assertThat(handled.values()).allMatch(n -> n == 1);
  }

  @Test
  void aSenderWhoseDeadlinePassesIsRefusedAndItsMessageIsNotHandled() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger handled = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder()
            .register(
                AgentType.builder(
                        "slow",
                        id ->
                            (m, ctx) -> {
                              if (m.payload(Integer.class) == 0) {
                                entered.countDown();
                                TestSupport.block(release);
                              }
                              handled.incrementAndGet();
                            })
                    .mailboxCapacity(4)
                    .overflow(OverflowPolicy.BLOCK)
                    .sendDeadline(Duration.ofMillis(200))
                    .build())
            .build()) {
      rt.send(SLOW, 0);
      TestSupport.await(entered, "the handler holds message 0");
      for (int i = 1; i <= 4; i++) {
        rt.send(SLOW, i); // the lane (capacity 4) is full while 0 is held
      }
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> rt.send(SLOW, 5))
          .isInstanceOf(MailboxFullException.class)
          .hasMessageContaining("waited");
      release.countDown();
      TestSupport.eventually(() -> handled.get() == 5, "the five accepted messages handled");
    }
    assertThat(handled.get()).isEqualTo(5);
  }
}
