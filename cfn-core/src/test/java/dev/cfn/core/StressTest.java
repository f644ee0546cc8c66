package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Many producers, many agents, three send paths and forwarding: every message exactly once. */
class StressTest {
  private static final int PRODUCERS = 4;
  private static final int PER_PRODUCER = 50_000;
  private static final int AGENTS = 100;
  private static final int TOTAL = PRODUCERS * PER_PRODUCER;

  /** A message with a unique id; a non-negative {@code forwardTo} asks for one more hop. */
  record Msg(long id, int forwardTo) {}

  @Test
  void everyMessageIsDeliveredExactlyOnce() throws Exception {
    AtomicLongArray seen = new AtomicLongArray(TOTAL / 64 + 1);
    AtomicLong duplicates = new AtomicLong();
    AtomicLong forwarded = new AtomicLong();
    AgentId[] ids = new AgentId[AGENTS];
    AgentRef[] refs = new AgentRef[AGENTS];
    // More carriers than cores: agents are stolen between carriers and handlers interleave.
    try (AgentRuntime rt = TestSupport.builder().carriers(4).build()) {
      rt.register(
          AgentType.builder(
                  "node",
                  id ->
                      (m, ctx) -> {
                        Msg msg = m.payload(Msg.class);
                        if (msg.forwardTo() >= 0) {
                          forwarded.incrementAndGet();
                          Msg last = new Msg(msg.id(), -1);
                          if ((msg.id() & 1) == 0) {
                            ctx.send(ids[msg.forwardTo()], last);
                          } else {
                            refs[msg.forwardTo()].tell(last, ctx);
                          }
                          return;
                        }
                        long bit = 1L << (msg.id() & 63);
                        long before = seen.getAndUpdate((int) (msg.id() >>> 6), w -> w | bit);
                        if ((before & bit) != 0) {
                          duplicates.incrementAndGet();
                        }
                      })
              .mailboxCapacity(1 << 16)
              .sendDeadline(Duration.ofSeconds(60))
              .build());
      for (int a = 0; a < AGENTS; a++) {
        ids[a] = AgentId.of("node", Integer.toString(a));
        // Half are spawned up front, half activate lazily on their first message.
        refs[a] = a % 2 == 0 ? rt.spawn(ids[a]) : rt.ref(ids[a]);
      }

      CountDownLatch go = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> producers = new ArrayList<>();
      for (int p = 0; p < PRODUCERS; p++) {
        int producer = p;
        Thread t =
            new Thread(
                () -> {
                  SplittableRandom random = new SplittableRandom(producer);
                  try {
                    go.await();
                    for (int i = 0; i < PER_PRODUCER; i++) {
                      long id = (long) producer * PER_PRODUCER + i;
                      int to = random.nextInt(AGENTS);
                      switch (i % 3) {
                        case 0 -> rt.send(ids[to], new Msg(id, -1));
                        case 1 -> refs[to].tell(new Msg(id, -1));
                        default -> rt.send(ids[to], new Msg(id, random.nextInt(AGENTS)));
                      }
                    }
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                },
                "producer-" + p);
        t.start();
        producers.add(t);
      }
      go.countDown();
      for (Thread t : producers) {
        t.join();
      }
      assertThat(failure.get()).isNull();

      ShutdownReport report = rt.shutdown(Duration.ofSeconds(60));
      assertThat(report.drained()).isTrue();
      assertThat(duplicates.get()).as("duplicates").isZero();
      long missing = 0;
      for (long id = 0; id < TOTAL; id++) {
        if ((seen.get((int) (id >>> 6)) & (1L << (id & 63))) == 0) {
          missing++;
        }
      }
      assertThat(missing).as("missing").isZero();
      assertThat(forwarded.get()).isPositive();
      assertThat(rt.deadLetters().count()).isZero();
      assertThat(rt.meterRegistry().get(CfnMetrics.MESSAGES_DELIVERED).functionCounter().count())
          .isEqualTo((double) TOTAL + forwarded.get());
    }
  }
}
