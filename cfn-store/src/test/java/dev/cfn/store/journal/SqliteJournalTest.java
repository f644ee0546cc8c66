package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static dev.cfn.store.journal.Fixtures.richMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal.JournalEntry;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.Fixtures.SettableClock;
import dev.cfn.store.journal.Fixtures.Task;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteJournalTest {
  private static final String NS = "worker/7";

  @TempDir Path dir;

  private SqliteJournal open() {
    return SqliteJournal.builder(dir.resolve("journal.db")).payloadType(Task.class).open();
  }

  @Test
  void appendedMessagesComeBackAfterReopenWithEveryField() {
    Envelope rich = richMessage(1, new Task("build", 3, List.of("ci", "fast")));
    Envelope plain = message(2, "hello");
    try (SqliteJournal journal = open()) {
      journal.append(rich);
      journal.append(plain);
    }
    try (SqliteJournal journal = open()) {
      List<JournalEntry> entries = journal.recover();
      assertThat(entries).containsExactly(new JournalEntry(rich, 0), new JournalEntry(plain, 0));
      Envelope back = entries.getFirst().envelope();
      assertThat(back.headers()).isEqualTo(rich.headers());
      assertThat(back.topic()).isEqualTo(rich.topic());
      assertThat(back.priority()).isEqualTo(rich.priority());
      assertThat(back.correlationId()).isEqualTo(4242);
      assertThat(back.createdNanos()).isEqualTo(rich.createdNanos());
      assertThat(journal.highestId()).isEqualTo(2);
    }
  }

  @Test
  void builtInPayloadTypesRoundTrip() {
    List<Object> payloads =
        List.of(
            "text",
            42,
            7L,
            2.5d,
            1.5f,
            true,
            'c',
            (short) 3,
            (byte) 4,
            Map.of("a", 1, "b", List.of("x", true)),
            List.of("one", 2, Map.of("k", "v")));
    try (SqliteJournal journal = open()) {
      for (int i = 0; i < payloads.size(); i++) {
        journal.append(message(i + 1, payloads.get(i)));
      }
      journal.append(message(100, new byte[] {1, 2, 3}));
    }
    try (SqliteJournal journal = open()) {
      List<JournalEntry> entries = journal.recover();
      assertThat(entries.stream().limit(payloads.size()).map(e -> e.envelope().payload()))
          .containsExactlyElementsOf(payloads);
      assertThat((byte[]) entries.getLast().envelope().payload()).containsExactly(1, 2, 3);
    }
  }

  @Test
  void unregisteredPayloadClassIsRefusedAndNothingIsStored() {
    record Secret(String value) {}
    try (SqliteJournal journal = open()) {
      assertThatThrownBy(() -> journal.append(message(5, new Secret("x"))))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(Secret.class.getName())
          .hasMessageContaining("payloadType(")
          .hasCauseInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> journal.append(message(6, Map.of("nested", new Secret("y")))))
          .isInstanceOf(JournalException.class)
          .hasCauseInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Secret.class.getName());
      assertThat(journal.recover()).isEmpty();
      assertThat(journal.highestId()).isZero();
    }
  }

  @Test
  void fileNamingAnUnregisteredClassIsNotDecoded() {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = open()) {
      journal.append(message(1, new Task("t", 1, List.of())));
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThatThrownBy(journal::recover)
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("messages id 1")
          .hasMessageContaining(Task.class.getName())
          .hasMessageContaining("payloadType(");
    }
  }

  @Test
  void acknowledgeAppliesEffectsOnceAndTheSecondAcknowledgeAppliesNothing() {
    Envelope handled = message(1, "do it");
    Envelope outgoing = message(2, new Task("next", 1, List.of()));
    try (SqliteJournal journal = open()) {
      journal.append(handled);
      boolean first =
          journal
              .acknowledge(
                  handled,
                  List.of(
                      new Effect.Put(NS, "a", "1"),
                      new Effect.Put(NS, "b", "2"),
                      new Effect.Delete(NS, "b"),
                      new Effect.Send(outgoing)))
              .join();
      assertThat(first).isTrue();
      assertThat(journal.isAcknowledged(1)).isTrue();
      assertThat(journal.state(NS, "a")).contains("1");
      assertThat(journal.state(NS, "b")).isEmpty();
      assertThat(journal.recover()).containsExactly(new JournalEntry(outgoing, 0));

      boolean second =
          journal
              .acknowledge(
                  handled,
                  List.of(new Effect.Put(NS, "a", "changed"), new Effect.Send(message(3, "x"))))
              .join();
      assertThat(second).isFalse();
      assertThat(journal.state(NS, "a")).contains("1");
      assertThat(journal.recover()).containsExactly(new JournalEntry(outgoing, 0));
    }
    try (SqliteJournal journal = open()) {
      assertThat(journal.isAcknowledged(1)).isTrue();
      assertThat(journal.acknowledge(handled, List.of()).join()).isFalse();
      assertThat(journal.stateKeys(NS)).containsExactly("a");
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(2L);
      assertThat(journal.highestId()).isEqualTo(2);
    }
  }

  @Test
  void failedAcknowledgeAppliesNoneOfItsEffectsAndOthersInTheBatchStillCommit() throws Exception {
    Envelope pending = message(1, "one");
    Envelope clash = message(2, "two"); // already pending: its Send must fail
    try (SqliteJournal journal = open()) {
      journal.append(pending);
      journal.append(clash);
      Fixtures.Hold hold = Fixtures.hold(journal);
      CompletableFuture<Boolean> bad =
          journal.acknowledge(
              pending, List.of(new Effect.Put(NS, "k", "v"), new Effect.Send(clash)));
      CompletableFuture<Boolean> good =
          journal.acknowledge(clash, List.of(new Effect.Put(NS, "ok", "1")));
      Fixtures.awaitQueued(journal, 2);
      long commits = journal.commitCount();
      hold.release.countDown();

      assertThatThrownBy(bad::join)
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("message 1 was not acknowledged and stays pending");
      assertThat(good.join()).isTrue();
      assertThat(journal.commitCount() - commits).isEqualTo(2); // the hold's batch, then one
      assertThat(journal.isAcknowledged(1)).isFalse();
      assertThat(journal.state(NS, "k")).isEmpty();
      assertThat(journal.state(NS, "ok")).contains("1");
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(1L);
    }
  }

  @Test
  void acknowledgeWithAnUnregisteredSendFailsAtOnce() {
    record Secret(int n) {}
    try (SqliteJournal journal = open()) {
      Envelope m = message(1, "x");
      journal.append(m);
      CompletableFuture<Boolean> ack =
          journal.acknowledge(m, List.of(new Effect.Send(message(2, new Secret(1)))));
      assertThatThrownBy(ack::join)
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(Secret.class.getName())
          .hasRootCauseInstanceOf(IllegalArgumentException.class);
      assertThat(journal.isAcknowledged(1)).isFalse();
      assertThat(journal.recover()).hasSize(1);
    }
  }

  @Test
  void callbacksRunOffTheWriterAndMayAppendAgain() {
    try (SqliteJournal journal = open()) {
      Envelope first = message(1, "first");
      Envelope second = message(2, "second");
      journal.append(first);
      journal.acknowledge(first, List.of()).thenRun(() -> journal.append(second)).join();
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(2L);
    }
  }

  @Test
  void recordedFailuresAreVisibleAfterReopen() {
    Envelope m = message(1, "flaky");
    try (SqliteJournal journal = open()) {
      journal.append(m);
      journal.recordFailure(m, 1, "timeout").join();
      journal.recordFailure(m, 2, "connection reset").join();
    }
    try (SqliteJournal journal = open()) {
      assertThat(journal.recover()).containsExactly(new JournalEntry(m, 2));
    }
  }

  @Test
  void deadLetterMovesTheMessageWithItsHistoryAndReplayBringsItBack() {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Path file = dir.resolve("journal.db");
    Envelope m = richMessage(9, new Task("doomed", 1, List.of("x")));
    try (SqliteJournal journal =
        SqliteJournal.builder(file).clock(clock).payloadType(Task.class).open()) {
      journal.append(m);
      journal.recordFailure(m, 1, "boom 1").join();
      clock.advance(Duration.ofSeconds(1));
      journal.recordFailure(m, 2, "boom 2").join();
      clock.advance(Duration.ofSeconds(1));
      journal.deadLetter(m, 2, "gave up after 2 attempts").join();
      assertThat(journal.recover()).isEmpty();
    }
    try (SqliteJournal journal =
        SqliteJournal.builder(file).clock(clock).payloadType(Task.class).open()) {
      assertThat(journal.recover()).isEmpty();
      List<DeadLetterRecord> dead = journal.deadLetterQueue().list();
      assertThat(dead).hasSize(1);
      DeadLetterRecord record = dead.getFirst();
      assertThat(record.envelope()).isEqualTo(m);
      assertThat(record.attempts()).isEqualTo(2);
      assertThat(record.cause()).isEqualTo("gave up after 2 attempts");
      assertThat(record.deadAt()).isEqualTo(Instant.parse("2030-01-01T00:00:02Z"));
      assertThat(record.history())
          .containsExactly(
              new DeadLetterRecord.Attempt(1, Instant.parse("2030-01-01T00:00:00Z"), "boom 1"),
              new DeadLetterRecord.Attempt(2, Instant.parse("2030-01-01T00:00:01Z"), "boom 2"));
      assertThat(journal.deadLetterQueue().find(9)).contains(record);
      assertThat(journal.deadLetterQueue().find(10)).isEmpty();
      assertThat(journal.highestId()).isEqualTo(9);

      assertThat(journal.replayDeadLetter(9)).contains(m);
      assertThat(journal.replayDeadLetter(9)).isEmpty();
      assertThat(journal.deadLetterQueue().list()).isEmpty();
      assertThat(journal.recover()).containsExactly(new JournalEntry(m, 0));
    }
  }

  @Test
  void deadLettersCanBeRemovedAndPurged() {
    try (SqliteJournal journal = open()) {
      for (long id = 1; id <= 3; id++) {
        Envelope m = message(id, "m" + id);
        journal.append(m);
        journal.recordFailure(m, 1, "no").join();
        journal.deadLetter(m, 1, "no").join();
      }
      assertThat(journal.deadLetterQueue().remove(2)).isTrue();
      assertThat(journal.deadLetterQueue().remove(2)).isFalse();
      assertThat(journal.deadLetterQueue().list())
          .extracting(DeadLetterRecord::id)
          .containsExactly(1L, 3L);
      assertThat(journal.deadLetterQueue().purge()).isEqualTo(2);
      assertThat(journal.deadLetterQueue().list()).isEmpty();
      assertThat(journal.highestId()).as("removed ids are never reused").isEqualTo(3);
      assertThat(journal.check().ok()).isTrue();
    }
  }

  @Test
  void deadLettersOfUnknownClassesAreShownRaw() {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal journal = open()) {
      Envelope m = message(1, new Task("t", 2, List.of("a")));
      journal.append(m);
      journal.deadLetter(m, 3, "failed").join();
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      Object payload = journal.deadLetterQueue().list().getFirst().envelope().payload();
      assertThat(payload)
          .isEqualTo(
              new RawPayload(
                  Task.class.getName(), "{\"name\":\"t\",\"priority\":2,\"tags\":[\"a\"]}"));
    }
  }

  @Test
  void retentionSweepForgetsOldAcknowledgedIds() {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Path file = dir.resolve("journal.db");
    Envelope old = message(1, "old");
    Envelope recent = message(2, "recent");
    try (SqliteJournal journal =
        SqliteJournal.builder(file).clock(clock).retention(Duration.ofDays(7)).open()) {
      journal.append(old);
      journal.acknowledge(old, List.of()).join();
      clock.advance(Duration.ofDays(6));
      journal.append(recent);
      journal.acknowledge(recent, List.of()).join();
      assertThat(journal.sweep()).isZero();
      clock.advance(Duration.ofDays(2)); // old is 8 days old, recent 2
    }
    try (SqliteJournal journal =
        SqliteJournal.builder(file).clock(clock).retention(Duration.ofDays(7)).open()) {
      assertThat(journal.isAcknowledged(1)).as("swept on open").isFalse();
      assertThat(journal.isAcknowledged(2)).isTrue();
      assertThat(journal.highestId()).isEqualTo(2);
      clock.advance(Duration.ofDays(6));
      assertThat(journal.sweep()).isEqualTo(1);
      assertThat(journal.isAcknowledged(2)).isFalse();
      assertThat(journal.highestId()).as("never goes down").isEqualTo(2);
    }
  }

  @Test
  void closeWritesEverythingQueuedAndLaterWritesAreRefused() {
    Path file = dir.resolve("journal.db");
    SqliteJournal journal = open();
    for (long id = 1; id <= 50; id++) {
      journal.append(message(id, "m"));
    }
    List<CompletableFuture<Boolean>> acks =
        LongStream.rangeClosed(1, 50)
            .mapToObj(id -> journal.acknowledge(message(id, "m"), List.of()))
            .toList();
    journal.close();
    assertThat(acks).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
    assertThatThrownBy(() -> journal.append(message(99, "late")))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(journal::recover).isInstanceOf(JournalException.class);
    journal.close(); // idempotent
    try (SqliteJournal again = SqliteJournal.builder(file).open()) {
      assertThat(again.recover()).isEmpty();
      assertThat(again.isAcknowledged(50)).isTrue();
    }
  }

  @Test
  void appendingAPendingIdAgainFails() {
    try (SqliteJournal journal = open()) {
      journal.append(message(1, "a"));
      assertThatThrownBy(() -> journal.append(message(1, "b")))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("message 1 was not stored");
      assertThat(journal.recover()).extracting(e -> e.envelope().payload()).containsExactly("a");
    }
  }

  @Test
  void normalSynchronousModeWorksToo() {
    Path file = dir.resolve("normal.db");
    try (SqliteJournal journal =
        SqliteJournal.builder(file).synchronous(SqliteJournal.Synchronous.NORMAL).open()) {
      journal.append(message(1, "n"));
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      assertThat(journal.recover()).hasSize(1);
    }
  }

  @Test
  void builderRejectsBadOptions() {
    SqliteJournal.Builder builder = SqliteJournal.builder(dir.resolve("x.db"));
    assertThatThrownBy(() -> builder.retention(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.payloadType(Runnable.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interface");
    assertThatThrownBy(() -> builder.payloadType(Number.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("abstract");
  }
}
