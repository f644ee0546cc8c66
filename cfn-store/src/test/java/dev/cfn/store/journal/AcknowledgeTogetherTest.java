package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal.JournalEntry;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.Fixtures.Task;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SqliteJournal#acknowledgeTogether}: several messages acknowledged with their effects in
 * one write operation, all or nothing, durable across a reopen.
 */
class AcknowledgeTogetherTest {
  private static final String NS = "coordinator/1";

  @TempDir Path dir;

  private SqliteJournal open() {
    return SqliteJournal.builder(dir.resolve("journal.db")).payloadType(Task.class).open();
  }

  @Test
  void messagesAcknowledgedTogetherApplyEveryEffectInOrderOnce() {
    Envelope a = message(1, "a");
    Envelope b = message(2, "b");
    Envelope c = message(3, "c");
    Envelope out = message(4, new Task("next", 1, List.of()));
    try (SqliteJournal journal = open()) {
      assertThat(journal.acknowledgesTogether()).isTrue();
      journal.append(a);
      journal.append(b);
      journal.append(c);
      boolean applied =
          journal
              .acknowledgeTogether(
                  List.of(a, b, c),
                  List.of(
                      new Effect.Put(NS, "n", "1"),
                      new Effect.Put(NS, "n", "2"),
                      new Effect.Increment(NS, "count", 5),
                      new Effect.Put(NS, "n", "3"),
                      new Effect.Send(out)))
              .join();
      assertThat(applied).isTrue();
      assertThat(journal.state(NS, "n")).as("the last write wins, as one by one").contains("3");
      assertThat(journal.state(NS, "count")).contains("5");
      assertThat(journal.recover()).containsExactly(new JournalEntry(out, 0));
    }
    try (SqliteJournal journal = open()) {
      for (long id = 1; id <= 3; id++) {
        assertThat(journal.isAcknowledged(id)).as("message %d", id).isTrue();
      }
      assertThat(journal.state(NS, "n")).contains("3");
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(4L);
    }
  }

  @Test
  void oneMessageAcknowledgedBeforeMakesTheWholeBatchApplyNothing() {
    Envelope a = message(1, "a");
    Envelope b = message(2, "b");
    try (SqliteJournal journal = open()) {
      journal.append(a);
      journal.append(b);
      assertThat(journal.acknowledge(b, List.of(new Effect.Put(NS, "b", "once"))).join()).isTrue();
      assertThatThrownBy(
              () ->
                  journal
                      .acknowledgeTogether(
                          List.of(a, b),
                          List.of(
                              new Effect.Put(NS, "a", "1"),
                              new Effect.Put(NS, "b", "twice"),
                              new Effect.Send(message(3, "x"))))
                      .join())
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("message 2 of them was acknowledged before")
          .hasMessageContaining("none of their effects were applied");
      assertThat(journal.isAcknowledged(1)).as("a stays pending").isFalse();
      assertThat(journal.state(NS, "a")).isEmpty();
      assertThat(journal.state(NS, "b")).contains("once");
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(1L);
      // one at a time, as the runtime does after such a failure: a applies, b is skipped
      assertThat(journal.acknowledge(a, List.of(new Effect.Put(NS, "a", "1"))).join()).isTrue();
      assertThat(journal.acknowledge(b, List.of(new Effect.Put(NS, "b", "twice"))).join())
          .isFalse();
      assertThat(journal.state(NS, "b")).contains("once");
      assertThat(journal.recover()).isEmpty();
    }
  }

  @Test
  void aRefusedEffectFailsTheWholeBatchAndLeavesEveryMessagePending() {
    Envelope a = message(1, "a");
    Envelope b = message(2, "b");
    try (SqliteJournal journal = open()) {
      journal.append(a);
      journal.append(b);
      assertThatThrownBy(
              () ->
                  journal
                      .acknowledgeTogether(
                          List.of(a, b),
                          List.of(
                              new Effect.Put(NS, "a", "1"),
                              new Effect.CompareAndSet(NS, "v", "expected", "new")))
                      .join())
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("2 messages acknowledged together");
      assertThat(journal.isAcknowledged(1)).isFalse();
      assertThat(journal.isAcknowledged(2)).isFalse();
      assertThat(journal.state(NS, "a")).isEmpty();
      assertThat(journal.recover()).extracting(e -> e.envelope().id()).containsExactly(1L, 2L);
    }
  }
}
