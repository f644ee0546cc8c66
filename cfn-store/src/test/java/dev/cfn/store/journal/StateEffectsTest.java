package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal.JournalEntry;
import dev.cfn.core.spi.JournalException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Typed effects applied by the SQLite journal with the acknowledgement (counters, compare-and-set),
 * reads by {@link AgentId} and by prefix, and the in-memory state cache that serves them.
 */
class StateEffectsTest {
  private static final AgentId AGENT = Fixtures.WORKER;
  private static final String NS = AGENT.toString();

  @TempDir Path dir;

  private SqliteJournal open() {
    return SqliteJournal.builder(dir.resolve("journal.db")).open();
  }

  @Test
  void countersAndCompareAndSetCommitWithTheAcknowledgementAndSurviveAReopen() {
    try (SqliteJournal journal = open()) {
      journal.append(message(1, "a"));
      journal.append(message(2, "b"));
      assertThat(
              journal
                  .acknowledge(
                      message(1, "a"),
                      List.of(
                          new Effect.Increment(NS, "hits", 40),
                          new Effect.Increment(NS, "hits", 2),
                          new Effect.CompareAndSet(NS, "leader", null, "me"),
                          new Effect.Put(NS, "task/1", "x"),
                          new Effect.Put(NS, "task/2", "y"),
                          new Effect.Put(NS, "tasks", "z")))
                  .join())
          .isTrue();
      assertThat(journal.state(AGENT, "hits")).contains("42");
      assertThat(journal.state(AGENT, "leader")).contains("me");
      assertThat(journal.stateByPrefix(AGENT, "task/", 10).keySet())
          .containsExactly("task/1", "task/2");
      assertThat(journal.stateByPrefix(NS, "task", 2).keySet()).containsExactly("task/1", "task/2");

      journal
          .acknowledge(
              message(2, "b"),
              List.of(
                  new Effect.CompareAndSet(NS, "leader", "me", "you"),
                  new Effect.Delete(NS, "task/1")))
          .join();
      assertThat(journal.state(AGENT, "leader")).contains("you");
      assertThat(journal.stateByPrefix(AGENT, "task/", 10).keySet()).containsExactly("task/2");
    }
    try (SqliteJournal journal = open()) {
      assertThat(journal.state(AGENT, "hits")).contains("42");
      assertThat(journal.state(AGENT, "leader")).contains("you");
      assertThat(journal.stateKeys(NS)).containsExactly("hits", "leader", "task/2", "tasks");
    }
  }

  @Test
  void aRefusedCompareAndSetOrIncrementAppliesNothingAndLeavesTheMessagePending() {
    try (SqliteJournal journal = open()) {
      journal.append(message(1, "a"));
      journal.append(message(2, "b"));
      journal.append(message(3, "c"));
      journal.acknowledge(message(1, "a"), List.of(new Effect.Put(NS, "name", "ada"))).join();

      assertThatThrownBy(
              () ->
                  journal
                      .acknowledge(
                          message(2, "b"),
                          List.of(
                              new Effect.Put(NS, "note", "lost"),
                              new Effect.CompareAndSet(NS, "name", "bob", "carol")))
                      .join())
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("message 2 was not acknowledged and stays pending")
          .hasMessageContaining("compare-and-set of state key 'name'");
      assertThatThrownBy(
              () ->
                  journal
                      .acknowledge(message(3, "c"), List.of(new Effect.Increment(NS, "name", 1)))
                      .join())
          .cause()
          .hasMessageContaining("not a whole number");

      assertThat(journal.state(AGENT, "note")).isEmpty();
      assertThat(journal.state(AGENT, "name")).contains("ada");
      assertThat(journal.recover().stream().map(JournalEntry::envelope).map(e -> e.id()))
          .containsExactly(2L, 3L);
      assertThat(journal.isAcknowledged(2)).isFalse();
    }
  }

  @Test
  void readsAreServedFromMemoryAndSeeEveryCommittedAcknowledgement() {
    try (SqliteJournal journal = open()) {
      assertThat(journal.state(AGENT, "n")).isEmpty();
      assertThat(journal.stateLoads()).isEqualTo(1);
      for (long id = 1; id <= 50; id++) {
        journal.append(message(id, "m"));
        journal.acknowledge(message(id, "m"), List.of(new Effect.Increment(NS, "n", 1))).join();
        assertThat(journal.state(AGENT, "n")).contains(Long.toString(id));
      }
      assertThat(journal.stateByPrefix(AGENT, "", 5)).containsOnlyKeys("n");
      assertThat(journal.stateLoads()).as("one load of the namespace, then memory").isEqualTo(1);
      assertThat(journal.state("another/1", "n")).isEmpty();
      assertThat(journal.stateLoads()).isEqualTo(2);
    }
  }

  @Test
  void aBoundedCacheDropsNamespacesAndStillAnswersFromTheFile() {
    try (SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("journal.db")).stateCacheKeys(2).open()) {
      for (int i = 1; i <= 5; i++) {
        journal.append(message(i, "m"));
        journal
            .acknowledge(
                message(i, "m"),
                List.of(new Effect.Put("a/" + i, "k", "v" + i), new Effect.Put("a/" + i, "j", "w")))
            .join();
      }
      for (int round = 0; round < 2; round++) {
        for (int i = 1; i <= 5; i++) {
          assertThat(journal.state("a/" + i, "k")).contains("v" + i);
        }
      }
      assertThat(journal.stateLoads()).isGreaterThan(5);
    }
    try (SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("journal.db")).stateCacheKeys(0).open()) {
      assertThat(journal.state("a/3", "k")).contains("v3");
      assertThat(journal.state("a/3", "k")).contains("v3");
      assertThat(journal.stateByPrefix("a/3", "", 10)).containsOnlyKeys("j", "k");
      assertThat(journal.stateLoads()).as("without a cache, reads are single queries").isZero();
    }
    assertThatThrownBy(() -> SqliteJournal.builder(dir.resolve("x.db")).stateCacheKeys(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("stateCacheKeys");
  }

  @Test
  void aClosedJournalRefusesStateReads() {
    SqliteJournal journal = open();
    journal.state(AGENT, "k");
    journal.close();
    assertThatThrownBy(() -> journal.state(AGENT, "k"))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("is closed");
  }

  @Test
  void handlersReadTheirStateFromMemoryThroughTheRuntime() throws Exception {
    SqliteJournal journal = open();
    try (dev.cfn.core.AgentRuntime rt =
        dev.cfn.core.AgentRuntime.builder()
            .journal(journal)
            .register(
                dev.cfn.core.AgentType.of(
                    "worker",
                    id ->
                        (m, ctx) -> {
                          long seen = ctx.effects().getLong("n").orElse(0);
                          ctx.effects().increment("n", 1);
                          ctx.effects().put("seen/" + seen, "x");
                        }))
            .build()) {
      for (int i = 0; i < 100; i++) {
        rt.send(
            dev.cfn.core.Envelope.to(AGENT)
                .delivery(dev.cfn.core.DeliveryMode.RELIABLE)
                .payload("m" + i));
      }
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (!journal.state(AGENT, "n").equals(java.util.Optional.of("100"))
          && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(journal.state(AGENT, "n")).contains("100");
      // each handler saw the previous one's count: no lost update, no duplicate
      assertThat(journal.stateByPrefix(AGENT, "seen/", 1000)).hasSize(100);
      assertThat(journal.stateLoads())
          .as("the namespace was loaded once, then read in memory")
          .isEqualTo(1);
    }
  }

  @Test
  void aFailedBatchLeavesNoStaleStateInMemory() {
    try (SqliteJournal journal = open()) {
      journal.append(message(1, "a"));
      journal.acknowledge(message(1, "a"), List.of(new Effect.Put(NS, "k", "before"))).join();
      assertThat(journal.state(AGENT, "k")).contains("before");
      long loads = journal.stateLoads();

      journal.append(message(2, "b"));
      journal.maxPageCount(1); // the disk is full: the whole batch fails
      assertThatThrownBy(
              () ->
                  journal
                      .acknowledge(
                          message(2, "b"), List.of(new Effect.Put(NS, "k", "x".repeat(100_000))))
                      .join())
          .cause()
          .hasMessageContaining("disk full");
      journal.maxPageCount(Integer.MAX_VALUE);

      assertThat(journal.state(AGENT, "k")).contains("before");
      assertThat(journal.stateLoads()).as("read again from the file").isEqualTo(loads + 1);
      journal.acknowledge(message(2, "b"), List.of(new Effect.Put(NS, "k", "after"))).join();
      assertThat(journal.state(AGENT, "k")).contains("after");
    }
  }
}
