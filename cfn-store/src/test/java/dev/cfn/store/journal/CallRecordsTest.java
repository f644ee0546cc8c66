package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.store.journal.Fixtures.SettableClock;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Call records ({@link Effect.RecordCall}) committed with an acknowledgement: found by key after a
 * reopen, the first record of a key kept, nothing stored when the acknowledgement is refused, swept
 * with the old acknowledged ids, checksummed, and reachable from a handler through {@code
 * Effects.recordCall} and {@code Effects.recordedCall}.
 */
class CallRecordsTest {
  private static final AgentId AGENT = Fixtures.WORKER;
  private static final String NS = AGENT.toString();

  @TempDir Path dir;

  @Test
  void aRecordCommitsWithTheAcknowledgementAndTheFirstOfAKeyWins() {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.recordsCalls()).isTrue();
      journal.append(message(1, "a"));
      journal.append(message(2, "b"));
      assertThat(journal.findCall("k1")).isEmpty();
      assertThat(
              journal
                  .acknowledge(message(1, "a"), List.of(new Effect.RecordCall("k1", "{\"v\":1}")))
                  .join())
          .isTrue();
      assertThat(journal.findCall("k1")).contains("{\"v\":1}");
      journal
          .acknowledge(message(2, "b"), List.of(new Effect.RecordCall("k1", "{\"v\":2}")))
          .join();
      assertThat(journal.findCall("k1")).as("the first record wins").contains("{\"v\":1}");
      assertThat(
              journal
                  .acknowledge(message(1, "a"), List.of(new Effect.RecordCall("k9", "{}")))
                  .join())
          .as("an acknowledged message is not applied again")
          .isFalse();
      assertThat(journal.findCall("k9")).isEmpty();
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.findCall("k1")).as("after a reopen").contains("{\"v\":1}");
      assertThat(journal.check().problems()).isEmpty();
    }
  }

  @Test
  void aRefusedAcknowledgementStoresNoRecord() {
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open()) {
      journal.append(message(1, "a"));
      assertThatThrownBy(
              () ->
                  journal
                      .acknowledge(
                          message(1, "a"),
                          List.of(
                              new Effect.RecordCall("k1", "{}"),
                              new Effect.CompareAndSet(NS, "leader", "someone", "me")))
                      .join())
          .isInstanceOf(CompletionException.class);
      assertThat(journal.findCall("k1")).isEmpty();
      assertThat(journal.isAcknowledged(1)).isFalse();
    }
  }

  @Test
  void recordsAreSweptWithTheOldAcknowledgedIds() {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal =
        SqliteJournal.builder(file).clock(clock).retention(Duration.ofDays(7)).open()) {
      journal.append(message(1, "old"));
      journal.acknowledge(message(1, "old"), List.of(new Effect.RecordCall("old", "{}"))).join();
      clock.advance(Duration.ofDays(6));
      journal.append(message(2, "recent"));
      journal
          .acknowledge(message(2, "recent"), List.of(new Effect.RecordCall("recent", "{}")))
          .join();
      clock.advance(Duration.ofDays(2));
      assertThat(journal.sweep()).isEqualTo(1);
      assertThat(journal.findCall("old")).isEmpty();
      assertThat(journal.findCall("recent")).contains("{}");
    }
  }

  @Test
  void aRecordChangedBehindTheJournalsBackIsReportedNotReturned() throws Exception {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "a"));
      journal.acknowledge(message(1, "a"), List.of(new Effect.RecordCall("k1", "{}"))).join();
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement sql = c.createStatement()) {
      sql.executeUpdate("UPDATE calls SET result = '{\"forged\":true}' WHERE key = 'k1'");
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThatThrownBy(() -> journal.findCall("k1")).hasMessageContaining("calls key 'k1'");
      assertThat(journal.check().problems()).anyMatch(p -> p.contains("calls key 'k1'"));
    }
  }

  @Test
  void aHandlerRecordsACallWithItsAcknowledgementAndALaterHandlerFindsIt() throws Exception {
    AgentId recorder = AgentId.of("recorder", "1");
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .jvmMetrics(false)
            .journal(
                SqliteJournal.builder(dir.resolve("journal.db")).payloadType(String.class).open())
            .register(
                AgentType.of(
                    "recorder",
                    id ->
                        (m, ctx) -> {
                          String key = "call-" + m.payload();
                          Optional<String> before = ctx.effects().recordedCall(key);
                          if (before.isEmpty()) {
                            assertThat(ctx.effects().recordCall(key, "{\"n\":1}")).isTrue();
                            ctx.reply(
                                "recorded, seen by this handler as "
                                    + ctx.effects().recordedCall(key).orElseThrow());
                          } else {
                            ctx.reply("found " + before.get());
                          }
                        }))
            .build()) {
      Envelope.Builder first = Envelope.to(recorder).delivery(DeliveryMode.RELIABLE).payload("x");
      assertThat(rt.request(first, Duration.ofSeconds(60)).get(60, TimeUnit.SECONDS).payload())
          .isEqualTo("recorded, seen by this handler as {\"n\":1}");
      Envelope.Builder again = Envelope.to(recorder).delivery(DeliveryMode.RELIABLE).payload("x");
      assertThat(rt.request(again, Duration.ofSeconds(60)).get(60, TimeUnit.SECONDS).payload())
          .isEqualTo("found {\"n\":1}");
    }
  }
}
