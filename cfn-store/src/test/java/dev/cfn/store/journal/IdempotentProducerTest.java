package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Producer-side exactly-once on SQLite: idempotency keys deduplicated within the retention period,
 * kept across reopening, swept after it, and a producer SIGKILLed after its append retrying with
 * the same key after the restart.
 */
class IdempotentProducerTest {
  static final AgentId COUNTER = AgentId.of("counter", "1");
  static final Duration LONG = Duration.ofSeconds(60);

  @TempDir Path dir;

  /** Counts the distinct messages it handled in committed state: {@code n}. */
  static AgentType counter() {
    return AgentType.of(
        "counter",
        id ->
            (m, ctx) -> {
              int n = Integer.parseInt(ctx.effects().get("n").orElse("0"));
              ctx.effects().put("n", Integer.toString(n + 1)).put("handled-" + m.id(), "yes");
            });
  }

  static Envelope keyed(long id, String key) {
    return new Envelope(
        id,
        "t",
        Fixtures.SENDER,
        Fixtures.WORKER,
        null,
        0,
        dev.cfn.core.Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(Envelope.IDEMPOTENCY_KEY_HEADER, key),
        "payload " + id,
        System.nanoTime());
  }

  @Test
  void aKeyIsStoredOnceKeptAcrossReopeningAndSweptAfterItsRetention() throws Exception {
    Path file = dir.resolve("cfn.db");
    Fixtures.SettableClock clock =
        new Fixtures.SettableClock(Instant.parse("2026-01-01T00:00:00Z"));
    try (SqliteJournal j =
        SqliteJournal.builder(file).clock(clock).retention(Duration.ofHours(1)).open()) {
      assertThat(j.appendOnce(keyed(1, "a"))).isEqualTo(1);
      assertThat(j.appendOnce(keyed(2, "a"))).isEqualTo(1);
      assertThat(j.appendOnce(keyed(3, "b"))).isEqualTo(3);
      assertThat(j.appendOnce(Fixtures.message(4, "no key"))).isEqualTo(4);
      assertThat(j.recover()).extracting(e -> e.envelope().id()).containsExactly(1L, 3L, 4L);
      assertThat(j.recover().getFirst().envelope().idempotencyKey()).contains("a");
    }
    try (SqliteJournal j =
        SqliteJournal.builder(file).clock(clock).retention(Duration.ofHours(1)).open()) {
      assertThat(j.appendOnce(keyed(5, "a"))).as("kept across reopening").isEqualTo(1);
      assertThat(j.idempotencyKeyId("b")).contains(3L);
      clock.advance(Duration.ofMinutes(61));
      assertThat(j.idempotencyKeyId("b")).as("expired").isEmpty();
      assertThat(j.appendOnce(keyed(6, "a"))).as("an expired key is a new message").isEqualTo(6);
      j.sweep();
      assertThat(j.idempotencyKeyId("a")).contains(6L);
      assertThat(j.check().ok()).isTrue();
    }
    try (Connection c = Fixtures.raw(file);
        Statement sql = c.createStatement();
        ResultSet rows = sql.executeQuery("SELECT key FROM idempotency ORDER BY key")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1)).isEqualTo("a");
      assertThat(rows.next()).as("b was swept").isFalse();
    }
  }

  @Test
  void twoKeyedAppendsInOneGroupCommitStoreOneMessage() throws Exception {
    try (SqliteJournal j = SqliteJournal.builder(dir.resolve("cfn.db")).open()) {
      Fixtures.Hold hold = Fixtures.hold(j); // the next writes line up in one batch
      var first =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> j.appendOnce(keyed(1, "k")));
      Fixtures.awaitQueued(j, 1);
      var second =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> j.appendOnce(keyed(2, "k")));
      Fixtures.awaitQueued(j, 2);
      hold.release.countDown();
      assertThat(List.of(first.get(30, TimeUnit.SECONDS), second.get(30, TimeUnit.SECONDS)))
          .containsExactly(1L, 1L);
      assertThat(j.recover()).hasSize(1);
    }
  }

  /**
   * The producer's crash, for real: a child JVM sends with a key and is SIGKILLed once the send
   * returned. The restarted producer sends again with the same key: it gets the first message's id,
   * nothing new is stored, and exactly one message is handled, whether or not the child's own agent
   * handled it before the kill.
   */
  @ParameterizedTest(name = "child handles: {0}")
  @ValueSource(booleans = {false, true})
  void aProducerKilledAfterItsAppendRetriesWithTheSameKeyAndOneMessageIsHandled(boolean handle)
      throws Exception {
    Path file = dir.resolve("cfn.db");
    String line;
    try (ChildJvm child =
        ChildJvm.start(
            KeyedProducer.class, file.toString(), "order-42", handle ? "handle" : "send-only")) {
      try {
        line = String.valueOf(child.readLine());
      } finally {
        child.kill(); // SIGKILL: no shutdown hook, no close
      }
    }
    assertThat(line).startsWith("APPENDED ");
    long firstId = Long.parseLong(line.substring("APPENDED ".length()));

    long retried;
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .carriers(1)
            .journal(SqliteJournal.builder(file).open())
            .register(counter())
            .build()) {
      retried =
          rt.send(
              Envelope.to(COUNTER)
                  .delivery(DeliveryMode.RELIABLE)
                  .idempotencyKey("order-42")
                  .payload("order"));
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(rt.pendingCount()).isZero();
    }
    assertThat(retried).isEqualTo(firstId);
    try (SqliteJournal j = SqliteJournal.builder(file).open()) {
      assertThat(j.recover()).isEmpty();
      assertThat(j.state(COUNTER.toString(), "n")).contains("1");
      assertThat(j.stateKeys(COUNTER.toString())).containsExactly("handled-" + firstId, "n");
    }
  }
}
