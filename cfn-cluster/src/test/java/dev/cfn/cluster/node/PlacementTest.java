package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.pg.Lease;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several {@link Placement}s in one JVM on the tests' PostgreSQL: partitions split by rendezvous
 * over the live nodes, each worked on by one node at a time, moved on join, leave and death.
 */
class PlacementTest {
  static final int PARTITIONS = 32;
  static final Duration TTL = Duration.ofMillis(1500);

  private final List<AutoCloseable> open = new ArrayList<>();
  private final Map<Integer, AtomicInteger> active = new ConcurrentHashMap<>();
  private final Map<Integer, String> workedBy = new ConcurrentHashMap<>();
  private final List<String> overlaps = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }

  static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  private PgJournal journal(String url) {
    PgJournal j = PgJournal.builder(url).open();
    open.add(j);
    return j;
  }

  /** Work that counts how many nodes work on each partition at once: never more than one. */
  private Placement.PartitionWork work(String node) {
    return lease -> {
      int p = lease.partition();
      if (active.computeIfAbsent(p, k -> new AtomicInteger()).incrementAndGet() > 1) {
        overlaps.add(
            "partition " + p + " started on " + node + " while held by " + workedBy.get(p));
      }
      workedBy.put(p, node);
      return () -> {
        workedBy.remove(p, node);
        active.get(p).decrementAndGet();
      };
    };
  }

  private Placement place(PgJournal journal, String node) {
    Placement p =
        Placement.start(journal, node, new Placement.Settings(PARTITIONS, TTL), work(node));
    open.add(p);
    return p;
  }

  private static boolean placedBy(List<Placement> nodes) {
    List<String> ids = nodes.stream().map(Placement::node).toList();
    Map<Integer, String> holder = new HashMap<>();
    for (Placement n : nodes) {
      for (int p : n.held().keySet()) {
        if (holder.put(p, n.node()) != null) {
          return false;
        }
      }
    }
    for (int p = 0; p < PARTITIONS; p++) {
      if (!Rendezvous.owner(p, ids).equals(holder.get(p))) {
        return false;
      }
    }
    return true;
  }

  @Test
  void nodesSplitThePartitionsByRendezvousAndMoveThemOnJoinAndLeave() throws Exception {
    String url = TestDatabase.newSchema("placement");
    Placement a = place(journal(url), "a");
    eventually("a lone node holds every partition", () -> a.held().size() == PARTITIONS);
    Placement b = place(journal(url), "b");
    Placement c = place(journal(url), "c");
    eventually(
        "a, b, c hold the partitions rendezvous gives them", () -> placedBy(List.of(a, b, c)));

    Map<Integer, Lease> before = new HashMap<>();
    for (Placement n : List.of(a, b, c)) {
      before.putAll(n.held());
    }
    Placement d = place(journal(url), "d");
    eventually("d took its share", () -> placedBy(List.of(a, b, c, d)));
    assertThat(d.held()).as("d's share").isNotEmpty();
    for (Map.Entry<Integer, Lease> e : d.held().entrySet()) {
      assertThat(e.getValue().epoch())
          .as("partition %d moved to d with the next epoch", e.getKey())
          .isEqualTo(before.get(e.getKey()).epoch() + 1);
    }
    for (Placement n : List.of(a, b, c)) {
      for (Map.Entry<Integer, Lease> e : n.held().entrySet()) {
        assertThat(e.getValue().epoch())
            .as("partition %d stayed on %s, same epoch", e.getKey(), n.node())
            .isEqualTo(before.get(e.getKey()).epoch());
      }
    }

    b.close(); // a clean leave: released at once
    eventually("b's partitions moved to a, c, d", () -> placedBy(List.of(a, c, d)));
    assertThat(overlaps).as("no partition worked on by two nodes at once").isEmpty();
  }

  @Test
  void aDeadNodesPartitionsMoveAfterTheTtlWithTheNextEpoch() throws Exception {
    String url = TestDatabase.newSchema("placement");
    PgJournal journal = journal(url);
    Placement a = place(journal, "a");
    Placement b = place(journal(url), "b");
    eventually("a and b placed", () -> placedBy(List.of(a, b)));
    Map<Integer, Lease> ofB = b.held();
    assertThat(ofB).isNotEmpty();

    long died = System.nanoTime();
    b.halt(); // no release, no leave: as a crash
    eventually("a holds b's partitions", () -> a.held().keySet().containsAll(ofB.keySet()));
    long tookOver = System.nanoTime() - died;
    assertThat(Duration.ofNanos(tookOver))
        .as("takeover within TTL + 5 s")
        .isLessThanOrEqualTo(TTL.plusSeconds(5));
    for (Map.Entry<Integer, Lease> e : ofB.entrySet()) {
      Lease now = a.held().get(e.getKey());
      assertThat(now.epoch()).isEqualTo(e.getValue().epoch() + 1);
      assertThat(journal.leases().holder(e.getKey())).contains(now);
    }
    assertThat(journal.nodes().live()).containsExactly("a");
    assertThat(overlaps).isEmpty();
  }

  @Test
  void aPartitionWhoseWorkIsSlowToStopDoesNotHoldUpTheRenewalOfTheOthers() throws Exception {
    String url = TestDatabase.newSchema("placement");
    PgJournal journal = journal(url);
    int slow = -1;
    for (int p = 0; p < PARTITIONS && slow < 0; p++) {
      if (Rendezvous.owner(p, List.of("a", "b")).equals("b")) {
        slow = p;
      }
    }
    int given = slow;
    CountDownLatch handlerDone = new CountDownLatch(1);
    CountDownLatch stopping = new CountDownLatch(1);
    Placement.PartitionWork counted = work("a");
    Placement.PartitionWork blocking =
        lease -> {
          AutoCloseable inner = counted.start(lease);
          if (lease.partition() != given) {
            return inner;
          }
          return () -> {
            stopping.countDown();
            // as a PartitionConsumer waits for a handler in a long model call
            if (!handlerDone.await(60, TimeUnit.SECONDS)) {
              throw new AssertionError("the handler was never let go");
            }
            inner.close();
          };
        };
    Placement a = Placement.start(journal, "a", new Placement.Settings(PARTITIONS, TTL), blocking);
    open.add(a);
    eventually("a lone node holds every partition", () -> a.held().size() == PARTITIONS);
    Lease slowBefore = a.held().get(given);

    Placement b = place(journal(url), "b");
    assertThat(stopping.await(60, TimeUnit.SECONDS)).as("a began to give %d up", given).isTrue();
    List<String> ab = List.of("a", "b");
    eventually(
        "b took its share but the partition a is still stopping",
        () -> {
          for (int p = 0; p < PARTITIONS; p++) {
            String owner = Rendezvous.owner(p, ab);
            Map<Integer, Lease> of = owner.equals("a") ? a.held() : b.held();
            if (p != given && !of.containsKey(p)) {
              return false;
            }
          }
          return true;
        });
    Map<Integer, Lease> kept = a.held();
    assertThat(kept).isNotEmpty().doesNotContainKey(given);
    // the point of the test: time passes, twice the TTL, while the handler is still running
    Thread.sleep(TTL.multipliedBy(2).toMillis());
    for (Map.Entry<Integer, Lease> e : kept.entrySet()) {
      assertThat(journal.leases().holder(e.getKey()))
          .as("a's lease of partition %d renewed while %d is stopping", e.getKey(), given)
          .hasValueSatisfying(
              l -> {
                assertThat(l.owner()).isEqualTo("a");
                assertThat(l.epoch()).isEqualTo(e.getValue().epoch());
              });
    }
    assertThat(journal.leases().holder(given))
        .as("the partition being given up stays a's until its handler finished")
        .hasValueSatisfying(l -> assertThat(l.owner()).isEqualTo("a"));
    assertThat(b.held()).doesNotContainKey(given);
    assertThat(a.lostLeases()).isZero();

    handlerDone.countDown();
    eventually("b took the partition a gave up", () -> b.held().containsKey(given));
    assertThat(b.held().get(given).epoch()).isEqualTo(slowBefore.epoch() + 1);
    assertThat(a.lostLeases()).as("a lost no lease").isZero();
    assertThat(a.held().keySet()).as("a kept its share").isEqualTo(kept.keySet());
    assertThat(overlaps).as("no partition worked on by two nodes at once").isEmpty();
  }
}
