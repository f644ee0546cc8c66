package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Mailbox on its own, offered to and polled from one thread. */
class MailboxTest {
  private static final AgentId BOX = AgentId.of("box", "1");

  private static Envelope env(long id, Priority p) {
    return new Envelope(
        id,
        "test",
        AgentRuntime.EXTERNAL,
        BOX,
        null,
        0,
        p,
        DeliveryMode.BEST_EFFORT,
        Map.of(),
        p.name().charAt(0) + Long.toString(id),
        System.nanoTime());
  }

  private static Mailbox mailbox(int capacity, int agingLimit, OverflowPolicy policy) {
    return new Mailbox(
        AgentType.builder("box", id -> (m, ctx) -> {})
            .mailboxCapacity(capacity)
            .agingLimit(agingLimit)
            .overflow(policy)
            .build());
  }

  private static List<Object> drain(Mailbox mb) {
    List<Object> out = new ArrayList<>();
    for (Envelope e; (e = mb.poll()) != null; ) {
      out.add(e.payload());
    }
    return out;
  }

  @Test
  void emptyMailbox() {
    Mailbox mb = mailbox(4, 16, OverflowPolicy.BLOCK);
    assertThat(mb.poll()).isNull();
    assertThat(mb.isEmpty()).isTrue();
    assertThat(mb.size()).isZero();
    assertThat(mb.capacity()).isEqualTo(4);
  }

  @Test
  void fifoWithinALaneAndGrowsToCapacity() {
    Mailbox mb = mailbox(1024, 16, OverflowPolicy.BLOCK);
    for (int i = 0; i < 1024; i++) {
      assertThat(mb.offer(env(i, Priority.NORMAL))).isTrue();
    }
    assertThat(mb.size()).isEqualTo(1024);
    for (int i = 0; i < 1024; i++) {
      assertThat(mb.poll().id()).isEqualTo(i);
    }
    assertThat(mb.isEmpty()).isTrue();
  }

  @Test
  void highestPriorityFirstAndFifoWithinEachLane() {
    Mailbox mb = mailbox(16, 100, OverflowPolicy.BLOCK);
    mb.offer(env(1, Priority.LOW));
    mb.offer(env(2, Priority.NORMAL));
    mb.offer(env(3, Priority.HIGH));
    mb.offer(env(4, Priority.CRITICAL));
    mb.offer(env(5, Priority.LOW));
    mb.offer(env(6, Priority.NORMAL));
    mb.offer(env(7, Priority.HIGH));
    mb.offer(env(8, Priority.CRITICAL));
    assertThat(mb.size()).isEqualTo(8);
    assertThat(drain(mb)).containsExactly("C4", "C8", "H3", "H7", "N2", "N6", "L1", "L5");
  }

  @Test
  void agingServesALowMessageAfterAtMostAgingLimitHigherOnes() {
    int agingLimit = 3;
    Mailbox mb = mailbox(64, agingLimit, OverflowPolicy.BLOCK);
    mb.offer(env(0, Priority.LOW));
    for (int i = 1; i <= 10; i++) {
      mb.offer(env(i, Priority.HIGH));
    }
    List<Object> order = drain(mb);
    assertThat(order).hasSize(11);
    int low = order.indexOf("L0");
    assertThat(low).as("LOW waits for some HIGH").isPositive();
    assertThat(low).as("LOW passed by at most agingLimit").isLessThanOrEqualTo(agingLimit);
    List<Object> high = new ArrayList<>(order);
    high.remove("L0");
    assertThat(high).containsExactly("H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8", "H9", "H10");
  }

  @Test
  void agingAppliesToEveryLowerLane() {
    int agingLimit = 4;
    Mailbox mb = mailbox(64, agingLimit, OverflowPolicy.BLOCK);
    mb.offer(env(0, Priority.LOW));
    mb.offer(env(1, Priority.NORMAL));
    mb.offer(env(2, Priority.HIGH));
    for (int i = 10; i < 40; i++) {
      mb.offer(env(i, Priority.CRITICAL));
    }
    List<Object> order = drain(mb);
    assertThat(order).hasSize(33);
    for (String waiting : List.of("L0", "N1", "H2")) {
      long criticalBefore =
          order.subList(0, order.indexOf(waiting)).stream()
              .filter(p -> ((String) p).startsWith("C"))
              .count();
      assertThat(criticalBefore).as("CRITICAL served before %s", waiting).isPositive();
      assertThat(criticalBefore)
          .as("CRITICAL served before %s", waiting)
          .isLessThanOrEqualTo(agingLimit * 3L);
    }
    // A lane that is served by aging starts waiting afresh: LOW is never starved either.
    assertThat(order.indexOf("L0")).isLessThanOrEqualTo(agingLimit);
  }

  @Test
  void withoutHigherTrafficAgingChangesNothing() {
    Mailbox mb = mailbox(16, 1, OverflowPolicy.BLOCK);
    mb.offer(env(1, Priority.LOW));
    mb.offer(env(2, Priority.LOW));
    mb.offer(env(3, Priority.LOW));
    assertThat(drain(mb)).containsExactly("L1", "L2", "L3");
  }

  @Test
  void eachLaneIsBoundedByTheCapacity() {
    Mailbox mb = mailbox(4, 16, OverflowPolicy.REJECT);
    for (int i = 0; i < 4; i++) {
      assertThat(mb.offer(env(i, Priority.NORMAL))).isTrue();
    }
    assertThat(mb.offer(env(4, Priority.NORMAL))).isFalse();
    for (int i = 10; i < 14; i++) {
      assertThat(mb.offer(env(i, Priority.HIGH))).as("other lanes have their own room").isTrue();
    }
    assertThat(mb.offer(env(14, Priority.HIGH))).isFalse();
    assertThat(mb.size()).isEqualTo(8);
    assertThat(mb.poll().id()).isEqualTo(10);
    assertThat(mb.offer(env(15, Priority.HIGH))).isTrue();
  }

  @Test
  void dropOldestRemovesTheHeadOfTheLane() {
    Mailbox mb = mailbox(4, 16, OverflowPolicy.DROP_OLDEST);
    for (int i = 1; i <= 4; i++) {
      mb.offer(env(i, Priority.NORMAL));
    }
    assertThat(mb.offer(env(5, Priority.NORMAL))).isFalse();
    assertThat(mb.dropOldest(Priority.NORMAL).id()).isEqualTo(1);
    assertThat(mb.offer(env(5, Priority.NORMAL))).isTrue();
    assertThat(mb.dropOldest(Priority.HIGH)).as("empty lane").isNull();
    assertThat(drain(mb)).containsExactly("N2", "N3", "N4", "N5");
  }
}
