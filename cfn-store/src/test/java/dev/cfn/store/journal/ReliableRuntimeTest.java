package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentFactory;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeadLetter;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.RetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RELIABLE path end to end: a real runtime on a real SQLite journal. "Crashes" here stop a
 * runtime without acknowledging what it holds; the child-JVM SIGKILL test is {@code cfn chaos}.
 */
class ReliableRuntimeTest {
  static final RetryPolicy FAST =
      new RetryPolicy(Duration.ofMillis(5), 2.0, Duration.ofMillis(50), 4);

  @TempDir Path dir;

  SqliteJournal journal() {
    return SqliteJournal.builder(dir.resolve("cfn.db")).open();
  }

  /** A runtime on the journal with one agent type, {@code type}, made by {@code agents}. */
  AgentRuntime.Builder runtime(String type, AgentFactory agents) {
    return AgentRuntime.builder().journal(journal()).register(AgentType.of(type, agents));
  }

  static Envelope.Builder reliable(AgentId to, Object payload) {
    return Envelope.to(to).delivery(DeliveryMode.RELIABLE).payload(payload);
  }

  static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(5);
    }
  }

  /**
   * Runs a runtime whose agent {@code to} handles {@code n} reliable messages (payload {@code
   * payload(i)} for the i-th) with {@code handler}, and closes it once all {@code n} are handled.
   */
  void handleAll(AgentId to, int n, IntFunction<Object> payload, Agent handler) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (AgentRuntime rt =
        runtime(
                to.type(),
                id ->
                    (m, ctx) -> {
                      handler.onMessage(m, ctx);
                      calls.incrementAndGet();
                    })
            .build()) {
      for (int i = 0; i < n; i++) {
        rt.send(reliable(to, payload.apply(i)));
      }
      eventually(() -> calls.get() == n, n + " handled");
    }
  }

  @Test
  void handledMessageCommitsItsEffectOnceAndIsNotRedelivered() throws Exception {
    AgentId counter = AgentId.of("counter", "1");
    handleAll(
        counter,
        50,
        i -> "n" + i,
        (m, ctx) -> ctx.effects().put("seen-" + m.payload(), Long.toString(m.id())));
    AtomicInteger again = new AtomicInteger();
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).isEmpty();
      for (int i = 0; i < 50; i++) {
        assertThat(j.state(counter.toString(), "seen-n" + i)).isPresent();
      }
    }
    try (AgentRuntime rt = runtime("counter", id -> (m, ctx) -> again.incrementAndGet()).build()) {
      assertThat(again.get()).as("nothing acknowledged is redelivered").isZero();
    }
  }

  @Test
  void reliableIdsFollowTheOrderTheyAreTakenAcrossThreads() throws Exception {
    // The journal keys rows by id: ids from per-thread blocks would scatter a group commit over
    // as many B-tree pages as there are senders. Reliable ids are taken one at a time instead.
    AgentId sink = AgentId.of("sink", "1");
    java.util.Map<Object, Long> ids = new java.util.concurrent.ConcurrentHashMap<>();
    try (AgentRuntime rt =
        runtime("sink", id -> (m, ctx) -> ids.put(m.payload(), m.id())).build()) {
      for (int i = 0; i < 6; i++) {
        int n = i;
        Thread t = Thread.ofPlatform().start(() -> rt.send(reliable(sink, n)));
        t.join();
      }
      eventually(() -> ids.size() == 6, "6 handled");
    }
    for (int i = 1; i < 6; i++) {
      assertThat(ids.get(i)).as("id of message " + i).isEqualTo(ids.get(i - 1) + 1);
    }
  }

  @Test
  void consecutiveMessagesSeeTheStateTheirPredecessorsCommitted() throws Exception {
    AgentId counter = AgentId.of("counter", "1");
    handleAll(
        counter,
        200,
        i -> i,
        (m, ctx) -> {
          long n = ctx.effects().get("n").map(Long::parseLong).orElse(0L);
          ctx.effects().put("n", Long.toString(n + 1));
        });
    try (SqliteJournal j = journal()) {
      assertThat(j.state(counter.toString(), "n")).as("no lost update").contains("200");
    }
  }

  @Test
  void unacknowledgedMessagesAreRedeliveredByTheNextRuntime() throws Exception {
    AgentId slow = AgentId.of("slow", "1");
    CountDownLatch never = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    AgentRuntime first =
        AgentRuntime.builder()
            .journal(journal())
            .register(
                AgentType.builder(
                        "slow",
                        id ->
                            (m, ctx) -> {
                              entered.countDown();
                              never.await(); // holds the message, never acknowledges
                            })
                    .blocking()
                    .build())
            .build();
    for (int i = 0; i < 5; i++) {
      first.send(reliable(slow, i));
    }
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
    first.shutdown(Duration.ofMillis(100)); // deadline passes with all 5 unacknowledged
    never.countDown();

    AtomicInteger handled = new AtomicInteger();
    try (AgentRuntime second =
        runtime(
                "slow",
                id ->
                    (m, ctx) -> {
                      handled.incrementAndGet();
                      ctx.effects().put("done-" + m.payload(), "1");
                    })
            .build()) {
      eventually(() -> handled.get() == 5, "5 redelivered");
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).isEmpty();
    }
  }

  @Test
  void failuresAreRetriedThenDeadLetteredWithTheirHistory() throws Exception {
    AgentId flaky = AgentId.of("flaky", "1");
    AtomicInteger tries = new AtomicInteger();
    try (AgentRuntime rt =
        runtime(
                "flaky",
                id ->
                    (m, ctx) -> {
                      int n = tries.incrementAndGet();
                      if ("ok-on-3".equals(m.payload()) && n == 3) {
                        ctx.effects().put("ok", "3");
                        return;
                      }
                      throw new IllegalStateException("attempt " + n + " fails");
                    })
            .retryPolicy(FAST)
            .build()) {
      rt.send(reliable(flaky, "ok-on-3"));
      eventually(() -> tries.get() == 3, "three attempts");
      eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED) == 0 && tries.get() == 3,
          "no dead letter for a message that succeeded");
      tries.set(0);
      rt.send(reliable(flaky, "always-fails"));
      eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED) == 1, "dead-lettered");
      assertThat(tries.get()).isEqualTo(FAST.maxAttempts());
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.state(flaky.toString(), "ok")).contains("3");
      assertThat(j.recover()).as("dead letters stay dead").isEmpty();
      assertThat(j.deadLetterQueue().list()).hasSize(1);
    }
  }

  @Test
  void aLiveRuntimeReplaysADeadLetter() throws Exception {
    AgentId flaky = AgentId.of("flaky", "1");
    java.util.concurrent.atomic.AtomicBoolean healthy =
        new java.util.concurrent.atomic.AtomicBoolean();
    AtomicInteger handled = new AtomicInteger();
    try (AgentRuntime rt =
        runtime(
                "flaky",
                id ->
                    (m, ctx) -> {
                      if (!healthy.get()) {
                        throw new IllegalStateException("down");
                      }
                      ctx.effects().put("done", "yes");
                      handled.incrementAndGet();
                    })
            .retryPolicy(FAST)
            .build()) {
      rt.send(reliable(flaky, "job"));
      eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED) == 1, "dead-lettered");
      long id = rt.deadLetters().recent().get(0).envelope().id();
      healthy.set(true);
      assertThat(rt.replayDeadLetter(id)).isTrue();
      eventually(() -> handled.get() == 1, "replayed and handled");
      assertThat(rt.replayDeadLetter(id)).as("no longer a dead letter").isFalse();
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.deadLetterQueue().list()).isEmpty();
      assertThat(j.recover()).isEmpty();
      assertThat(j.state("flaky/1", "done")).contains("yes");
    }
  }

  @Test
  void outboxSendsHappenOnlyAfterTheCommit() throws Exception {
    AgentId relay = AgentId.of("relay", "1");
    AgentId sink = AgentId.of("sink", "1");
    AtomicInteger sunk = new AtomicInteger();
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .journal(journal())
            .register(
                AgentType.of(
                    "relay", id -> (m, ctx) -> ctx.effects().send(sink, "from-" + m.payload())))
            .register(
                AgentType.of(
                    "sink",
                    id ->
                        (m, ctx) -> {
                          assertThat(m.delivery()).isEqualTo(DeliveryMode.RELIABLE);
                          sunk.incrementAndGet();
                          ctx.effects().put(m.payload().toString(), "1");
                        }))
            .build()) {
      for (int i = 0; i < 20; i++) {
        rt.send(reliable(relay, i));
      }
      eventually(() -> sunk.get() == 20, "20 relayed");
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.stateKeys(sink.toString())).hasSize(20);
    }
  }

  @Test
  void messagesForATypeRegisteredLaterWaitInTheJournal() throws Exception {
    AgentId late = AgentId.of("late", "1");
    AgentRuntime first = AgentRuntime.builder().journal(journal()).build();
    first.send(reliable(late, "x"));
    first.close();
    AtomicInteger handled = new AtomicInteger();
    try (AgentRuntime second = AgentRuntime.builder().journal(journal()).build()) {
      Thread.sleep(50);
      assertThat(handled.get()).isZero();
      second.register(AgentType.of("late", id -> (m, ctx) -> handled.incrementAndGet()));
      eventually(() -> handled.get() == 1, "delivered after registration");
    }
  }

  @Test
  void aFullDiskRefusesReliableSendsKeepsBestEffortGoingAndRecovers() throws Exception {
    AgentId sink = AgentId.of("sink", "1");
    AtomicInteger reliableHandled = new AtomicInteger();
    AtomicInteger plainHandled = new AtomicInteger();
    java.util.Set<Object> reliablePayloads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    SqliteJournal journal = journal();
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .journal(journal)
            .register(
                AgentType.of(
                    "sink",
                    id ->
                        (m, ctx) -> {
                          if (m.delivery() == DeliveryMode.RELIABLE) {
                            reliableHandled.incrementAndGet();
                            reliablePayloads.add(m.payload());
                            // an effect keyed by the payload's length: committed only with the
                            // message's acknowledgement
                            ctx.effects().put("len" + ((String) m.payload()).length(), "handled");
                          } else {
                            plainHandled.incrementAndGet();
                          }
                        }))
            .build()) {
      rt.send(reliable(sink, "before"));
      eventually(() -> reliableHandled.get() == 1, "first reliable message handled");
      // handled is not acknowledged: its acknowledgement commits after the handler, and must not
      // meet the full disk below (it would stay pending, and rightly be redelivered)
      eventually(() -> rt.pendingCount() == 0, "first reliable message acknowledged");

      journal.maxPageCount(1); // the database cannot grow: SQLITE_FULL on the next commit
      String big = "x".repeat(256 * 1024); // needs pages the database may not add
      assertThatThrownBy(() -> rt.send(reliable(sink, big)))
          .isInstanceOf(dev.cfn.core.spi.JournalException.class)
          .hasMessageContaining("not");
      rt.send(sink, "best effort still flows");
      eventually(() -> plainHandled.get() == 1, "best-effort message handled while full");

      // The refused message reached no handler: an outside sender's message is delivered once
      // durable (with AgentRuntime.Builder.earlyDelivery it may be delivered while its append is
      // queued, see Journal.appendQueued; its acknowledgement is then refused).
      journal.maxPageCount(Integer.MAX_VALUE); // space is back
      rt.send(reliable(sink, "after"));
      eventually(() -> reliablePayloads.contains("after"), "reliable traffic resumed");
      eventually(() -> rt.pendingCount() == 0, "nothing left pending");
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).as("the refused send was never stored").isEmpty();
      assertThat(j.state(sink, "len5")).as("the message after it committed").contains("handled");
      assertThat(j.state(sink, "len" + 256 * 1024))
          .as("nothing of the refused message's handling committed")
          .isEmpty();
    }
  }

  @Test
  void effectsAreOnlyForReliableMessagesAndReliableNeedsAJournal() throws Exception {
    AtomicInteger refused = new AtomicInteger();
    try (AgentRuntime rt = AgentRuntime.builder().build()) {
      rt.register(
          AgentType.of(
              "plain",
              id ->
                  (m, ctx) -> {
                    try {
                      ctx.effects();
                    } catch (IllegalStateException e) {
                      refused.incrementAndGet();
                    }
                  }));
      rt.send(AgentId.of("plain", "1"), "x");
      eventually(() -> refused.get() == 1, "effects refused");
      assertThatThrownBy(() -> rt.send(reliable(AgentId.of("plain", "1"), "y")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("journal");
    }
  }
  // A RELIABLE request whose append fails: EarlyRequestDeliveryTest (by default it reaches no
  // handler; with earlyDelivery(true) it is handled while its append is queued and nothing of that
  // handling commits).
}
