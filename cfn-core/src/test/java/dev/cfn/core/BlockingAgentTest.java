package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class BlockingAgentTest {

  @Test
  void blockingAgentsRunOnVirtualThreadsOneMessageAtATime() throws Exception {
    int agents = 2;
    int senders = 4;
    int perSender = 150;
    ConcurrentHashMap<AgentId, AtomicInteger> inside = new ConcurrentHashMap<>();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger platformThreads = new AtomicInteger();
    LongAdder handled = new LongAdder();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder(
                  "io",
                  id ->
                      (m, ctx) -> {
                        if (!Thread.currentThread().isVirtual()) {
                          platformThreads.incrementAndGet();
                        }
                        AtomicInteger in = inside.computeIfAbsent(id, k -> new AtomicInteger());
                        if (in.incrementAndGet() != 1) {
                          overlaps.incrementAndGet();
                        }
                        // Block briefly, as a call to a model or a database would.
                        LockSupport.parkNanos(100_000);
                        in.decrementAndGet();
                        handled.increment();
                      })
              .blocking()
              .throughput(4)
              .sendDeadline(Duration.ofSeconds(60))
              .build());
      CountDownLatch go = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      for (int s = 0; s < senders; s++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    go.await();
                    for (int i = 0; i < perSender; i++) {
                      rt.send(AgentId.of("io", Integer.toString(i % agents)), i);
                    }
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                });
        t.start();
        threads.add(t);
      }
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertThat(failure.get()).isNull();
      assertThat(rt.shutdown(Duration.ofSeconds(60)).drained()).isTrue();
      assertThat(handled.sum()).isEqualTo((long) senders * perSender);
      assertThat(platformThreads.get()).as("handlers on platform threads").isZero();
      assertThat(overlaps.get()).as("concurrent entries into one agent").isZero();
    }
  }

  @Test
  void nonBlockingAgentsRunOnCarrierThreads() {
    AtomicReference<Thread> thread = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.builder().name("cfntest").build()) {
      rt.register(
          AgentType.of(
              "cpu",
              id ->
                  (m, ctx) -> {
                    thread.set(Thread.currentThread());
                    done.countDown();
                  }));
      rt.send(AgentId.of("cpu", "1"), "x");
      TestSupport.await(done, "handler");
      assertThat(thread.get().isVirtual()).isFalse();
      assertThat(thread.get().getName()).startsWith("cfntest-carrier-");
    }
  }
}
