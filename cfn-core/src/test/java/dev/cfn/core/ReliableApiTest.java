package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.JournalException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The RELIABLE messaging API on the in-memory journal: ids and idempotency keys on send, RELIABLE
 * requests and their replies (also after a restart: a second runtime on the same journal), the
 * pending count and {@code awaitDrained}. cfn-store runs the same cases on SQLite and across a
 * SIGKILL.
 */
class ReliableApiTest {
  static final AgentId COUNTER = AgentId.of("counter", "1");
  static final AgentId SERVICE = AgentId.of("service", "1");
  static final Duration LONG = Duration.ofSeconds(30);

  static Envelope.Builder reliable(AgentId to, Object payload) {
    return Envelope.to(to).delivery(DeliveryMode.RELIABLE).payload(payload);
  }

  /** Counts its messages, in a field and in its committed state. */
  static AgentType counter(AtomicInteger calls) {
    return AgentType.of(
        "counter",
        id ->
            (m, ctx) -> {
              calls.incrementAndGet();
              int n = Integer.parseInt(ctx.effects().get("n").orElse("0"));
              ctx.effects().put("n", Integer.toString(n + 1));
            });
  }

  /** Answers a request with its payload, the tenant header and the number of calls so far. */
  static AgentType service(AtomicInteger calls, List<Long> requestIds) {
    return AgentType.of(
        "service",
        id ->
            (m, ctx) -> {
              requestIds.add(m.id());
              calls.incrementAndGet();
              ctx.reply("re:" + m.payload() + "/" + m.headers().getOrDefault("tenant", "-"));
            });
  }

  @Test
  void sendReturnsTheIdInEveryMode() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger sunk = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(counter(calls))
            .register(AgentType.of("sink", id -> (m, ctx) -> sunk.incrementAndGet()))
            .build()) {
      long reliableId = rt.send(reliable(COUNTER, "a"));
      long bestEffortId = rt.send(Envelope.to(AgentId.of("sink", "1")).payload("b"));
      assertThat(reliableId).isPositive();
      assertThat(bestEffortId).isNotEqualTo(reliableId);
      assertThat(journal.isAcknowledged(reliableId) || journal.pendingCount() == 1).isTrue();
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(journal.isAcknowledged(reliableId)).isTrue();
      assertThat(sunk.get()).isEqualTo(1);
    }
  }

  @Test
  void aSecondSendWithTheSameKeyAppendsNothingAndReturnsTheFirstId() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicInteger calls = new AtomicInteger();
    try (AgentRuntime rt =
        TestSupport.builder().journal(journal).register(counter(calls)).build()) {
      long first = rt.send(reliable(COUNTER, "order 1").idempotencyKey("order-1"));
      long again = rt.send(reliable(COUNTER, "order 1, sent again").idempotencyKey("order-1"));
      long other = rt.send(reliable(COUNTER, "order 2").idempotencyKey("order-2"));
      assertThat(again).isEqualTo(first);
      assertThat(other).isNotEqualTo(first);
      assertThat(rt.awaitDrained(LONG)).isTrue();
      // handled after the drain too: a duplicate appended nothing, so nothing is on its way
      long third = rt.send(reliable(COUNTER, "order 1, third time").idempotencyKey("order-1"));
      assertThat(third).isEqualTo(first);
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(calls.get()).isEqualTo(2);
      assertThat(journal.state(COUNTER.toString(), "n")).contains("2");
      assertThat(journal.idempotencyKeyCount()).isEqualTo(2);
      assertThat(journal.idempotencyKeyId("order-1")).contains(first);
    }
  }

  @Test
  void aKeyExpiresAfterTheRetentionPeriod() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    InstantSource clock = now::get;
    InMemoryJournal journal = new InMemoryJournal(Duration.ofMinutes(10), clock);
    Envelope first = message(1, "k");
    assertThat(journal.appendOnce(first)).isEqualTo(1);
    now.set(now.get().plus(Duration.ofMinutes(9)));
    assertThat(journal.appendOnce(message(2, "k"))).isEqualTo(1);
    now.set(now.get().plus(Duration.ofMinutes(2))); // 11 minutes after the first append
    assertThat(journal.idempotencyKeyId("k")).isEmpty();
    assertThat(journal.appendOnce(message(3, "k"))).isEqualTo(3);
    assertThat(journal.pendingCount()).isEqualTo(2);
    assertThatThrownBy(() -> new InMemoryJournal(Duration.ZERO, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }

  private static Envelope message(long id, String key) {
    return new Envelope(
        id,
        "t",
        AgentRuntime.EXTERNAL,
        COUNTER,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(Envelope.IDEMPOTENCY_KEY_HEADER, key),
        "p" + id,
        System.nanoTime());
  }

  /**
   * The producer's crash: its send was appended, then its runtime went away before it used the id
   * (the message is still pending: nothing handled it). After the restart it sends again with the
   * same key: it gets the first id, nothing new is appended, and the handler runs once.
   */
  @Test
  void aProducerThatDiedAfterTheAppendRetriesWithTheSameKeyAndTheHandlerRunsOnce()
      throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    try (AgentRuntime first = TestSupport.builder().journal(journal).build()) {
      first.send(reliable(COUNTER, "order 7").idempotencyKey("order-7")); // id never used
      assertThat(first.pendingCount()).isEqualTo(1); // no counter type yet: it waits
    }
    long stored = journal.recover().getFirst().envelope().id();
    AtomicInteger calls = new AtomicInteger();
    try (AgentRuntime second =
        TestSupport.builder().journal(journal).register(counter(calls)).build()) {
      long retried = second.send(reliable(COUNTER, "order 7").idempotencyKey("order-7"));
      assertThat(retried).isEqualTo(stored);
      assertThat(second.awaitDrained(LONG)).isTrue();
    }
    assertThat(calls.get()).isEqualTo(1);
    assertThat(journal.state(COUNTER.toString(), "n")).contains("1");
    assertThat(journal.pendingCount()).isZero();
  }

  @Test
  void aReliableRequestFromOutsideCarriesItsHeadersAndItsReplyIsJournaled() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicInteger calls = new AtomicInteger();
    List<Long> requestIds = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt =
        TestSupport.builder().journal(journal).register(service(calls, requestIds)).build()) {
      Envelope reply =
          rt.request(
                  reliable(SERVICE, "q").headers(Map.of("tenant", "acme")).priority(Priority.HIGH),
                  LONG)
              .get(30, TimeUnit.SECONDS);
      assertThat(reply.payload()).isEqualTo("re:q/acme");
      assertThat(reply.isReply()).isTrue();
      assertThat(reply.delivery()).isEqualTo(DeliveryMode.RELIABLE);
      assertThat(reply.correlationId()).isEqualTo(requestIds.getFirst());
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(journal.isAcknowledged(reply.id())).as("the reply was claimed").isTrue();
      assertThat(journal.isAcknowledged(reply.correlationId())).isTrue();
      assertThat(rt.pendingCount()).isZero();
      // BEST_EFFORT requests take a builder too
      Envelope fast =
          rt.request(Envelope.to(SERVICE).headers(Map.of("tenant", "b")).payload("f"), LONG)
              .get(30, TimeUnit.SECONDS);
      assertThat(fast.payload()).isEqualTo("re:f/b");
      assertThat(fast.delivery()).isEqualTo(DeliveryMode.BEST_EFFORT);
    }
  }

  /**
   * An external requester whose runtime stopped before the reply: the next runtime on the journal
   * handles the request, holds the reply, and the caller claims it by its key, or by sending the
   * same request again (which sends nothing and is answered by the first request's reply).
   */
  @Test
  void anExternalCallerReattachesToTheReplyAfterARestart() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    try (AgentRuntime first = TestSupport.builder().journal(journal).build()) {
      CompletableFuture<Envelope> lost =
          first.request(reliable(SERVICE, "q1").idempotencyKey("ask-1"), Duration.ofMillis(50));
      first.request(reliable(SERVICE, "q2").idempotencyKey("ask-2"), Duration.ofMillis(50));
      // no service type in this runtime: the request waits in the journal, the caller times out
      assertThatThrownBy(() -> lost.get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TimeoutException.class);
    }
    AtomicInteger calls = new AtomicInteger();
    List<Long> requestIds = new CopyOnWriteArrayList<>();
    try (AgentRuntime second =
        TestSupport.builder().journal(journal).register(service(calls, requestIds)).build()) {
      Envelope byKey = second.awaitReply("ask-1", LONG).get(30, TimeUnit.SECONDS);
      assertThat(byKey.payload()).isEqualTo("re:q1/-");
      Envelope bySendingAgain =
          second
              .request(reliable(SERVICE, "q2").idempotencyKey("ask-2"), LONG)
              .get(30, TimeUnit.SECONDS);
      assertThat(bySendingAgain.payload()).isEqualTo("re:q2/-");
      assertThat(second.awaitDrained(LONG)).isTrue();
      assertThat(calls.get()).isEqualTo(2); // each request handled once
      assertThat(second.unclaimedReplies()).isZero();
      assertThatThrownBy(() -> second.awaitReply("never-sent", LONG))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("never-sent");
    }
    assertThat(journal.pendingCount()).isZero();
  }

  /**
   * An agent requester whose future cannot outlive its runtime: after the restart the reply arrives
   * as a RELIABLE message, marked as a reply and correlated with the request.
   */
  @Test
  void anAgentRequesterReceivesTheReplyAsAReliableMessageAfterARestart() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AgentId asker = AgentId.of("asker", "1");
    List<Envelope> received = new CopyOnWriteArrayList<>();
    AgentType askerType =
        AgentType.of(
            "asker",
            id ->
                (m, ctx) -> {
                  if (m.isReply()) {
                    received.add(m);
                  } else {
                    ctx.request(reliable(SERVICE, m.payload()), Duration.ofMillis(50));
                  }
                });
    try (AgentRuntime first = TestSupport.builder().journal(journal).register(askerType).build()) {
      first.send(reliable(asker, "question"));
      // the request journaled and the question acknowledged: only the request is left
      TestSupport.eventually(
          () ->
              first.pendingCount() == 1
                  && journal.recover().stream().anyMatch(e -> e.envelope().isRequest()),
          "the agent's request journaled, its question acknowledged");
    }
    AtomicInteger calls = new AtomicInteger();
    List<Long> requestIds = new CopyOnWriteArrayList<>();
    try (AgentRuntime second =
        TestSupport.builder()
            .journal(journal)
            .register(askerType)
            .register(service(calls, requestIds))
            .build()) {
      assertThat(second.awaitDrained(LONG)).isTrue();
      assertThat(received).hasSize(1);
      Envelope reply = received.getFirst();
      assertThat(reply.payload()).isEqualTo("re:question/-");
      assertThat(reply.delivery()).isEqualTo(DeliveryMode.RELIABLE);
      assertThat(reply.sender()).isEqualTo(SERVICE);
      assertThat(reply.correlationId()).isEqualTo(requestIds.getFirst());
    }
    assertThat(journal.pendingCount()).isZero();
  }

  @Test
  void anAgentStillWaitingGetsTheReplyOnItsFuture() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicReference<Envelope> answered = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    AgentId asker = AgentId.of("asker", "2");
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(service(new AtomicInteger(), new CopyOnWriteArrayList<>()))
            .register(
                AgentType.of(
                    "asker",
                    id ->
                        (m, ctx) ->
                            ctx.request(reliable(SERVICE, m.payload()), LONG)
                                .thenAccept(
                                    r -> {
                                      answered.set(r);
                                      done.countDown();
                                    })))
            .build()) {
      rt.send(reliable(asker, "hello"));
      TestSupport.await(done, "the agent's future");
      assertThat(answered.get().payload()).isEqualTo("re:hello/-");
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(journal.pendingCount()).isZero();
    }
  }

  @Test
  void aTimedOutReliableRequestIsStillHandledAndItsReplyHeld() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong requestId = new AtomicLong();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(
                AgentType.builder(
                        "service",
                        id ->
                            (m, ctx) -> {
                              requestId.set(m.id());
                              TestSupport.block(release);
                              ctx.reply("late");
                            })
                    .blocking()
                    .build())
            .build()) {
      CompletableFuture<Envelope> f = rt.request(reliable(SERVICE, "q"), Duration.ofMillis(20));
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TimeoutException.class);
      TestSupport.eventually(() -> requestId.get() != 0, "the request handled");
      assertThatThrownBy(f::join).hasMessageContaining("to request " + requestId.get());
      release.countDown();
      TestSupport.eventually(() -> rt.unclaimedReplies() == 1, "the late reply held");
      assertThat(rt.awaitReply(requestId.get(), LONG).get(30, TimeUnit.SECONDS).payload())
          .isEqualTo("late");
      assertThat(rt.awaitDrained(LONG)).isTrue();
      // claimed once: waiting again times out
      assertThatThrownBy(
              () -> rt.awaitReply(requestId.get(), Duration.ofMillis(20)).get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TimeoutException.class);
    }
  }

  @Test
  void pendingCountAndAwaitDrainedFollowTheReliableMessages() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Throwable> fromHandler = new AtomicReference<>();
    AtomicReference<AgentRuntime> self = new AtomicReference<>();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(
                AgentType.builder(
                        "slow",
                        id ->
                            (m, ctx) -> {
                              if ("probe".equals(m.payload())) {
                                try {
                                  self.get().awaitDrained(Duration.ofMillis(1));
                                } catch (IllegalStateException e) {
                                  fromHandler.set(e);
                                }
                                return;
                              }
                              TestSupport.block(release);
                            })
                    .blocking()
                    .build())
            .build()) {
      self.set(rt);
      assertThat(rt.pendingCount()).isZero();
      assertThat(rt.awaitDrained(LONG)).isTrue();
      for (int i = 0; i < 3; i++) {
        rt.send(reliable(AgentId.of("slow", "1"), "m" + i));
      }
      assertThat(rt.pendingCount()).isEqualTo(3);
      assertThat(rt.awaitDrained(Duration.ofMillis(20))).isFalse(); // the handler is held
      release.countDown();
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(rt.pendingCount()).isZero();
      assertThat(journal.pendingCount()).isZero();
      rt.send(Envelope.to(AgentId.of("slow", "2")).payload("probe"));
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(fromHandler.get()).hasMessageContaining("awaitDrained");
    }
    try (AgentRuntime plain = TestSupport.runtime()) {
      assertThat(plain.pendingCount()).isZero();
      assertThatThrownBy(() -> plain.awaitReply(1L, LONG))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("no journal");
    }
  }

  @Test
  void badInputIsRefusedAndChangesNothing() {
    assertThatThrownBy(() -> Envelope.to(COUNTER).idempotencyKey(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idempotency key");
    assertThatThrownBy(() -> Envelope.to(COUNTER).idempotencyKey("x".repeat(513)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("513 characters");
    InMemoryJournal journal = new InMemoryJournal();
    try (AgentRuntime rt = TestSupport.builder().journal(journal).build()) {
      assertThatThrownBy(
              () ->
                  rt.request(Envelope.on(TopicId.of("t", "s")).payload("x"), Duration.ofSeconds(1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("Envelope.to");
      assertThatThrownBy(() -> rt.request(reliable(SERVICE, "x").correlationId(5), LONG))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("correlation id");
      assertThatThrownBy(() -> rt.request(reliable(SERVICE, "x"), Duration.ZERO))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(journal.pendingCount()).isZero();
    }
    // a journal that does not deduplicate refuses keyed messages rather than duplicating them
    CarrierNeverParksTest.StalledDiskJournal plainJournal =
        new CarrierNeverParksTest.StalledDiskJournal();
    try (AgentRuntime rt = TestSupport.builder().journal(plainJournal).build()) {
      assertThatThrownBy(() -> rt.send(reliable(COUNTER, "x").idempotencyKey("k")))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("does not deduplicate");
      assertThat(rt.pendingCount()).isZero();
      assertThat(plainJournal.inner.pendingCount()).isZero();
    }
  }

  /**
   * A request in a handler's effects leaves only when the handler's acknowledgement commits; its
   * reply comes back to the requesting agent as a RELIABLE reply naming the id the effects gave.
   */
  @Test
  void aRequestInTheEffectsIsSentAtTheCommitAndItsReplyNamesIt() throws Exception {
    InMemoryJournal journal = new InMemoryJournal();
    AtomicInteger serviceCalls = new AtomicInteger();
    List<Long> asked = new CopyOnWriteArrayList<>();
    List<Envelope> replies = new CopyOnWriteArrayList<>();
    CountDownLatch replied = new CountDownLatch(1);
    AgentType asker =
        AgentType.of(
            "asker",
            id ->
                (m, ctx) -> {
                  if (m.isReply()) {
                    replies.add(m);
                    ctx.effects().put("answer", (String) m.payload());
                    replied.countDown();
                  } else {
                    long request = ctx.effects().request(SERVICE, m.payload());
                    ctx.effects().put("asked", Long.toString(request));
                    asked.add(request);
                  }
                });
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(service(serviceCalls, new CopyOnWriteArrayList<>()))
            .register(asker)
            .build()) {
      rt.send(reliable(AgentId.of("asker", "1"), "q"));
      assertThat(replied.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(rt.awaitDrained(LONG)).isTrue();
    }
    assertThat(serviceCalls).hasValue(1);
    assertThat(replies).hasSize(1);
    Envelope reply = replies.getFirst();
    assertThat(reply.isReply()).isTrue();
    assertThat(reply.delivery()).isEqualTo(DeliveryMode.RELIABLE);
    assertThat(reply.correlationId()).isEqualTo(asked.getFirst());
    assertThat(reply.sender()).isEqualTo(SERVICE);
    assertThat(journal.state("asker/1", "asked")).contains(Long.toString(asked.getFirst()));
    assertThat(journal.state("asker/1", "answer")).contains("re:q/-");
    assertThat(journal.pendingCount()).isZero();
  }
}
