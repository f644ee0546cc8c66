package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static dev.cfn.core.TestSupport.block;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Priority lanes and aging, through the runtime. */
class PriorityTest {

  /** Blocks on "block" until released, records every other payload in order. */
  static final class Recorder implements Agent {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> handled = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch done;

    Recorder(int expected) {
      done = new CountDownLatch(expected);
    }

    @Override
    public void onMessage(Envelope m, AgentContext ctx) throws Exception {
      String p = m.payload(String.class);
      if (p.equals("block")) {
        entered.countDown();
        block(release);
        return;
      }
      handled.add(p);
      done.countDown();
    }
  }

  private static void send(AgentRuntime rt, AgentId to, Priority p, String payload) {
    rt.send(Envelope.to(to).priority(p).payload(payload));
  }

  @Test
  void higherLanesFirstThenNormalThenLow() {
    Recorder rec = new Recorder(12);
    AgentId id = AgentId.of("rec", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.builder("rec", x -> rec).agingLimit(64).build());
      try {
        rt.send(id, "block");
        await(rec.entered, "handler blocked");
        send(rt, id, Priority.LOW, "L0");
        send(rt, id, Priority.NORMAL, "N0");
        for (int i = 0; i < 5; i++) {
          send(rt, id, Priority.HIGH, "H" + i);
        }
        for (int i = 0; i < 5; i++) {
          send(rt, id, Priority.CRITICAL, "C" + i);
        }
      } finally {
        rec.release.countDown();
      }
      await(rec.done, "all messages");
      assertThat(rec.handled)
          .containsExactly("C0", "C1", "C2", "C3", "C4", "H0", "H1", "H2", "H3", "H4", "N0", "L0");
    }
  }

  @Test
  void lowIsServedAfterAtMostAgingLimitHigherMessages() {
    int agingLimit = 4;
    Recorder rec = new Recorder(21);
    AgentId id = AgentId.of("rec", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder("rec", x -> rec).agingLimit(agingLimit).mailboxCapacity(1024).build());
      try {
        rt.send(id, "block");
        await(rec.entered, "handler blocked");
        send(rt, id, Priority.LOW, "L");
        for (int i = 0; i < 10; i++) {
          send(rt, id, Priority.HIGH, "H" + i);
        }
        for (int i = 0; i < 10; i++) {
          send(rt, id, Priority.CRITICAL, "C" + i);
        }
      } finally {
        rec.release.countDown();
      }
      await(rec.done, "all messages");
      List<String> order = List.copyOf(rec.handled);
      assertThat(order).hasSize(21).first().isEqualTo("C0");
      int low = order.indexOf("L");
      assertThat(low).as("higher lanes go first").isPositive();
      assertThat(low).as("LOW passed by at most agingLimit").isLessThanOrEqualTo(agingLimit);
      assertThat(order.subList(0, low)).allMatch(p -> p.startsWith("C") || p.startsWith("H"));
      assertThat(order.stream().filter(p -> p.startsWith("C")))
          .containsExactly("C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9");
      assertThat(order.stream().filter(p -> p.startsWith("H")))
          .containsExactly("H0", "H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8", "H9");
    }
  }
}
