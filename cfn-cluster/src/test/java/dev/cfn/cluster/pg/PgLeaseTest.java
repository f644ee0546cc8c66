package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Leases with epochs: two nodes (two {@link PgJournal}s on one database) and partition 7. A node
 * that stops renewing loses the partition; the next holder gets the next epoch; the old holder's
 * writes under its epoch are refused and change nothing.
 */
class PgLeaseTest {
  static final Duration TTL = Duration.ofSeconds(1);
  static final String NS = JournalContractTest.NS;

  String url;
  PgJournal nodeA;
  PgJournal nodeB;

  @BeforeEach
  void open() {
    url = PgServer.shared().newSchema("lease");
    nodeA = PgJournal.builder(url).open();
    nodeB = PgJournal.builder(url).open();
  }

  @AfterEach
  void close() {
    nodeA.close();
    nodeB.close();
  }

  /** A acquires partition 7 three times (releasing twice): it holds it at epoch 3. */
  Lease aAtEpoch3() {
    for (int epoch = 1; epoch <= 2; epoch++) {
      Lease l = nodeA.leases().acquire(7, "node-a", TTL).orElseThrow();
      assertThat(l.epoch()).isEqualTo(epoch);
      assertThat(nodeA.leases().release(l)).isTrue();
    }
    Lease lease = nodeA.leases().acquire(7, "node-a", TTL).orElseThrow();
    assertThat(lease.epoch()).isEqualTo(3);
    return lease;
  }

  /** B's acquisition of partition 7, retried until A's lease lapses (bounded by 10 s). */
  Lease bTakesOver() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Optional<Lease> l = nodeB.leases().acquire(7, "node-b", Duration.ofSeconds(30));
      if (l.isPresent()) {
        return l.get();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("B could not take partition 7 within 10 s of A's lease lapsing");
      }
      Thread.sleep(50);
    }
  }

  @Test
  void aPartitionHasOneHolderAndEpochsGrow() {
    Lease a = aAtEpoch3();
    assertThat(nodeB.leases().acquire(7, "node-b", TTL)).as("held by A").isEmpty();
    assertThat(nodeA.leases().acquire(7, "node-a", TTL)).as("held, even by A itself").isEmpty();
    assertThat(nodeB.leases().holder(7))
        .get()
        .extracting(Lease::owner, Lease::epoch)
        .containsExactly("node-a", 3L);
    Lease renewed = nodeA.leases().renew(a, Duration.ofSeconds(30)).orElseThrow();
    assertThat(renewed.epoch()).isEqualTo(3);
    assertThat(renewed.expiresAt()).isAfter(a.expiresAt());
    assertThat(nodeB.leases().acquire(8, "node-b", TTL).orElseThrow().epoch())
        .as("partitions are independent")
        .isEqualTo(1);
    assertThatThrownBy(() -> nodeA.leases().acquire(-1, "node-a", TTL))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> nodeA.leases().acquire(1, " ", TTL)).hasMessageContaining("fix:");
  }

  @Test
  void aZombiesWritesUnderItsOldEpochAreRefusedAndChangeNothing() throws Exception {
    Lease a = aAtEpoch3();
    Journal underA = nodeA.under(a);
    underA.append(JournalContractTest.message(1, "first"));
    underA.append(JournalContractTest.message(2, "second"));
    assertThat(
            underA
                .acknowledge(
                    JournalContractTest.message(1, "first"), List.of(new Effect.Put(NS, "k", "a")))
                .join())
        .isTrue();

    // A pauses: it stops renewing. B takes the partition over at epoch 4.
    Lease b = bTakesOver();
    assertThat(b.epoch()).isEqualTo(4);
    Journal underB = nodeB.under(b);
    assertThat(JournalContractTest.ids(underB.recover()))
        .as("B recovers the partition's pending messages")
        .containsExactly(2L);

    // A wakes up and commits under epoch 3: refused, nothing changes.
    assertThatThrownBy(
            () ->
                underA
                    .acknowledge(
                        JournalContractTest.message(2, "second"),
                        List.of(
                            new Effect.Put(NS, "k", "zombie"),
                            new Effect.Send(JournalContractTest.message(3, "out"))))
                    .join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining("partition 7 at epoch 3");
    assertThatThrownBy(() -> underA.append(JournalContractTest.message(4, "late")))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(
            () -> underA.recordFailure(JournalContractTest.message(2, "second"), 1, "x").join())
        .hasCauseInstanceOf(LeaseLostException.class);
    assertThatThrownBy(
            () -> underA.deadLetter(JournalContractTest.message(2, "second"), 1, "x").join())
        .hasCauseInstanceOf(LeaseLostException.class);
    assertThat(nodeA.leases().renew(a, TTL)).as("A cannot renew a lease it lost").isEmpty();

    assertThat(nodeB.isAcknowledged(2)).isFalse();
    assertThat(nodeB.state(NS, "k")).contains("a");
    List<Journal.JournalEntry> pending = underB.recover();
    assertThat(JournalContractTest.ids(pending)).containsExactly(2L);
    assertThat(pending.getFirst().attempts()).isZero();
    assertThat(nodeB.highestId()).isEqualTo(2);

    // B, the holder, commits.
    assertThat(
            underB
                .acknowledge(
                    JournalContractTest.message(2, "second"), List.of(new Effect.Put(NS, "k", "b")))
                .join())
        .isTrue();
    assertThat(nodeA.state(NS, "k")).contains("b");
  }

  @Test
  void aLapsedLeaseCommitsNothingEvenWhenNobodyTookOver() throws Exception {
    Lease a = nodeA.leases().acquire(3, "node-a", Duration.ofMillis(200)).orElseThrow();
    Journal underA = nodeA.under(a);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (nodeB.leases().holder(3).isPresent()) {
      assertThat(System.nanoTime()).as("the lease lapses within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThatThrownBy(() -> underA.append(JournalContractTest.message(1, "late")))
        .isInstanceOf(LeaseLostException.class);
    assertThat(nodeA.under(nodeA.leases().acquire(3, "node-a", TTL).orElseThrow()).recover())
        .as("nothing was stored")
        .isEmpty();
  }

  @Test
  void unfencedAndPartitionMessagesAreRecoveredApart() {
    Lease l = nodeA.leases().acquire(1, "node-a", Duration.ofSeconds(30)).orElseThrow();
    nodeA.append(JournalContractTest.message(1, "no partition"));
    nodeA.under(l).append(JournalContractTest.message(2, "partition 1"));
    assertThat(JournalContractTest.ids(nodeA.recover())).containsExactly(1L);
    assertThat(JournalContractTest.ids(nodeA.under(l).recover())).containsExactly(2L);
  }
}
