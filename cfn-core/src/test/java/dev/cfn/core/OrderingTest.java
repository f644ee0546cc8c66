package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Messages from one sender to one recipient arrive in the order they were sent. */
class OrderingTest {
  private static final int PER_SENDER = 10_000;

  /** A numbered message; {@code sender} says whose sequence it belongs to. */
  record Seq(String sender, int n) {}

  /** Checks that each sender's numbers arrive strictly increasing and counts them. */
  static final class SequenceChecker implements Agent {
    final ConcurrentHashMap<String, Integer> last = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, Integer> received = new ConcurrentHashMap<>();
    final AtomicInteger violations = new AtomicInteger();
    final CountDownLatch done;

    SequenceChecker(int expected) {
      this.done = new CountDownLatch(expected);
    }

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      Seq s = m.payload(Seq.class);
      Integer prev = last.put(s.sender(), s.n());
      if (prev != null && s.n() <= prev) {
        violations.incrementAndGet();
      }
      received.merge(s.sender(), 1, Integer::sum);
      done.countDown();
    }
  }

  @Test
  void eachExternalSendersMessagesArriveInOrder() throws Exception {
    int senders = 4;
    SequenceChecker checker = new SequenceChecker(senders * PER_SENDER);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder("checker", id -> checker).sendDeadline(Duration.ofSeconds(60)).build());
      AgentId target = AgentId.of("checker", "1");
      AgentRef ref = rt.ref(target);
      CountDownLatch go = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < senders; t++) {
        String name = "sender-" + t;
        Thread thread =
            new Thread(
                () -> {
                  try {
                    go.await();
                    for (int n = 0; n < PER_SENDER; n++) {
                      // Both external paths share the sender's order.
                      if (n % 2 == 0) {
                        rt.send(target, new Seq(name, n));
                      } else {
                        ref.tell(new Seq(name, n));
                      }
                    }
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                },
                name);
        thread.start();
        threads.add(thread);
      }
      go.countDown();
      for (Thread thread : threads) {
        thread.join();
      }
      assertThat(failure.get()).isNull();
      await(checker.done, "all numbered messages");
      assertThat(checker.violations.get()).isZero();
      assertThat(checker.received).hasSize(senders);
      assertThat(checker.received.values()).containsOnly(PER_SENDER);
      assertThat(checker.last.values()).containsOnly(PER_SENDER - 1);
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void eachAgentsMessagesToAnotherAgentArriveInOrder() {
    int relays = 3;
    int perRelay = 5_000;
    SequenceChecker checker = new SequenceChecker(relays * perRelay);
    AgentId sink = AgentId.of("checker", "sink");
    int[] sent = new int[relays];
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder("checker", id -> checker)
              .mailboxCapacity(1 << 15)
              .sendDeadline(Duration.ofSeconds(60))
              .build());
      // Each relay sends its whole sequence from inside its handler, in chunks so turns interleave.
      rt.register(
          AgentType.of(
              "relay",
              id ->
                  (m, ctx) -> {
                    int r = Integer.parseInt(id.key());
                    for (int i = 0; i < 500 && sent[r] < perRelay; i++) {
                      ctx.send(sink, new Seq(id.toString(), sent[r]++));
                    }
                    if (sent[r] < perRelay) {
                      ctx.send(ctx.self(), "more");
                    }
                  }));
      for (int r = 0; r < relays; r++) {
        rt.send(AgentId.of("relay", Integer.toString(r)), "more");
      }
      await(checker.done, "all relayed messages");
      assertThat(checker.violations.get()).isZero();
      assertThat(checker.received).hasSize(relays);
      assertThat(checker.received.values()).containsOnly(perRelay);
      assertThat(Arrays.stream(sent).boxed().toList()).containsOnly(perRelay);
    }
  }
}
