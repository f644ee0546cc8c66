package dev.cfn.core;

import static dev.cfn.core.ReliableApiTest.LONG;
import static dev.cfn.core.ReliableApiTest.SERVICE;
import static dev.cfn.core.ReliableApiTest.reliable;
import static dev.cfn.core.ReliableApiTest.service;
import static dev.cfn.core.TestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Replies to RELIABLE requests from outside the runtime that nobody claims do not stay forever:
 * they expire {@code unclaimedReplyRetention} after they were made, durably (acknowledged in the
 * journal, so the next runtime on it does not hold them again), and across restarts (the deadline
 * counts from the reply's creation, which the journal keeps). Sizes are asserted, not timings.
 */
class UnclaimedReplyExpiryTest {
  private static final int REQUESTS = 50;

  @Test
  void abandonedOutsideRequestsAreGoneAfterTheirDeadline() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    List<Long> requestIds = new CopyOnWriteArrayList<>();
    // the callers time out (no service type yet) and go away, leaving their requests journaled
    try (AgentRuntime first = TestSupport.builder().journal(journal).build()) {
      List<CompletableFuture<Envelope>> abandoned = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        abandoned.add(first.request(reliable(SERVICE, "q" + i), Duration.ofMillis(20)));
      }
      for (CompletableFuture<Envelope> f : abandoned) {
        assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
            .hasCauseInstanceOf(TimeoutException.class);
      }
    }
    // within the retention the replies are held for their callers, in memory and in the journal
    try (AgentRuntime second =
        TestSupport.builder()
            .journal(journal)
            .unclaimedReplyRetention(Duration.ofHours(1))
            .register(service(new AtomicInteger(), requestIds))
            .build()) {
      assertThat(second.awaitDrained(LONG)).isTrue();
      assertThat(requestIds).hasSize(REQUESTS);
      assertThat(second.unclaimedReplies()).isEqualTo(REQUESTS);
      assertThat(journal.pendingCount()).isEqualTo(REQUESTS);
    }
    // past it (the replies were made more than a millisecond ago) they expire, durably
    try (AgentRuntime third =
        TestSupport.builder()
            .journal(journal)
            .unclaimedReplyRetention(Duration.ofMillis(1))
            .register(service(new AtomicInteger(), new CopyOnWriteArrayList<>()))
            .build()) {
      eventually(
          () -> third.unclaimedReplies() == 0 && journal.pendingCount() == 0,
          "the expired replies gone from memory and from the journal ("
              + third.unclaimedReplies()
              + " held, "
              + journal.pendingCount()
              + " pending in the journal)");
      assertThatThrownBy(
              () ->
                  third
                      .awaitReply(requestIds.getFirst(), Duration.ofMillis(20))
                      .get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TimeoutException.class);
      assertThat(third.replies().waitingCount()).as("the timed-out wait left nothing").isZero();
    }
    assertThat(journal.recover()).as("nothing left to recover").isEmpty();
  }

  @Test
  void aLateReplyNobodyClaimsExpiresInTheRuntimeThatMadeIt() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicInteger calls = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .unclaimedReplyRetention(Duration.ofMillis(50))
            .build()) {
      List<CompletableFuture<Envelope>> abandoned = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        abandoned.add(rt.request(reliable(SERVICE, "q" + i), Duration.ofMillis(20)));
      }
      for (CompletableFuture<Envelope> f : abandoned) {
        assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
            .hasCauseInstanceOf(TimeoutException.class);
      }
      rt.register(service(calls, new CopyOnWriteArrayList<>())); // the parked requests are handled
      eventually(() -> calls.get() == REQUESTS, "every request handled");
      eventually(
          () -> rt.unclaimedReplies() == 0 && journal.pendingCount() == 0,
          "the unclaimed replies expired ("
              + rt.unclaimedReplies()
              + " held, "
              + journal.pendingCount()
              + " pending in the journal)");
      assertThat(rt.awaitDrained(LONG)).isTrue();
    }
  }

  @Test
  void aClaimedReplyIsNotExpiredAgain() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    List<Long> requestIds = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .unclaimedReplyRetention(Duration.ofHours(1))
            .build()) {
      CompletableFuture<Envelope> lost = rt.request(reliable(SERVICE, "q"), Duration.ofMillis(20));
      assertThatThrownBy(() -> lost.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TimeoutException.class);
      rt.register(service(new AtomicInteger(), requestIds));
      eventually(() -> rt.unclaimedReplies() == 1, "the reply held");
      Envelope reply = rt.awaitReply(requestIds.getFirst(), LONG).get(30, TimeUnit.SECONDS);
      assertThat(reply.payload()).isEqualTo("re:q/-");
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(journal.isAcknowledged(reply.id())).isTrue();
      assertThat(rt.unclaimedReplies()).isZero();
    }
  }

  @Test
  void aRetentionOutOfRangeIsRefused() {
    AgentRuntime.Builder b = TestSupport.builder();
    assertThatThrownBy(() -> b.unclaimedReplyRetention(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unclaimedReplyRetention must be positive");
    assertThatThrownBy(() -> b.unclaimedReplyRetention(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.unclaimedReplyRetention(Duration.ofDays(3651)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3650 days");
    assertThatThrownBy(() -> b.unclaimedReplyRetention(null))
        .isInstanceOf(NullPointerException.class);
  }
}
