package dev.cfn.cluster.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.Journal.JournalEntry;
import dev.cfn.core.spi.JournalException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Journal} SPI's contract (its javadoc), run against every journal cfn has: {@code
 * InMemoryJournal} (cfn-core), {@code SqliteJournal} (cfn-store) and {@link PgJournal}. A subclass
 * says how to open a fresh journal and how to open it again after a close (the same storage): for
 * the durable ones a new instance on the same file or database, so "durable" is checked by reading
 * what a closed instance wrote.
 */
abstract class JournalContractTest {
  static final AgentId SENDER = AgentId.of("client", "1");
  static final AgentId WORKER = AgentId.of("worker", "7");
  static final String NS = WORKER.toString();

  Journal journal;

  /** A new, empty journal. */
  abstract Journal openFresh();

  /** The journal last opened, closed (by the caller) and opened again on the same storage. */
  abstract Journal reopen();

  @BeforeEach
  void open() {
    journal = openFresh();
  }

  @AfterEach
  void closeJournal() {
    journal.close();
  }

  Journal closeAndReopen() {
    journal.close();
    journal = reopen();
    return journal;
  }

  static Envelope message(long id, Object payload) {
    return message(id, payload, Map.of());
  }

  static Envelope message(long id, Object payload, Map<String, String> headers) {
    return new Envelope(
        id,
        "test.task",
        SENDER,
        WORKER,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        headers,
        payload,
        System.nanoTime());
  }

  static Envelope keyed(long id, String key) {
    Map<String, String> headers = new HashMap<>();
    headers.put(Envelope.IDEMPOTENCY_KEY_HEADER, key);
    return message(id, "keyed " + id, headers);
  }

  static List<Long> ids(List<JournalEntry> entries) {
    return entries.stream().map(e -> e.envelope().id()).toList();
  }

  @Test
  void appendIsDurableAndRecoverReturnsEveryUnacknowledgedMessageOldestFirst() {
    journal.append(message(1, "one"));
    journal.append(message(2, Map.of("k", "v")));
    journal.append(message(3, "three"));
    closeAndReopen();
    List<JournalEntry> entries = journal.recover();
    assertThat(ids(entries)).containsExactly(1L, 2L, 3L);
    assertThat(entries.get(0).envelope().payload()).isEqualTo("one");
    assertThat(entries.get(1).envelope().payload()).isEqualTo(Map.of("k", "v"));
    assertThat(entries.get(0).envelope().recipient()).isEqualTo(WORKER);
    assertThat(entries).allSatisfy(e -> assertThat(e.attempts()).isZero());
    assertThat(journal.highestId()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void aMessageIsAcknowledgedOnceAndItsEffectsAppliedOnce() {
    Envelope m = message(10, "work");
    journal.append(m);
    assertThat(journal.acknowledge(m, List.of(new Effect.Increment(NS, "count", 1))).join())
        .isTrue();
    assertThat(journal.acknowledge(m, List.of(new Effect.Increment(NS, "count", 1))).join())
        .as("the second acknowledgement applies nothing")
        .isFalse();
    assertThat(journal.state(NS, "count")).contains("1");
    assertThat(journal.isAcknowledged(10)).isTrue();
    assertThat(journal.isAcknowledged(11)).isFalse();
    closeAndReopen();
    assertThat(journal.recover()).isEmpty();
    assertThat(journal.isAcknowledged(10)).isTrue();
    assertThat(journal.state(NS, "count")).contains("1");
    assertThat(journal.acknowledge(m, List.of(new Effect.Increment(NS, "count", 1))).join())
        .isFalse();
    assertThat(journal.state(NS, "count")).contains("1");
  }

  @Test
  void effectsApplyAllOrNothing() {
    Envelope m = message(20, "cas");
    journal.append(m);
    journal.acknowledge(message(19, "seed"), List.of(new Effect.Put(NS, "owner", "alice"))).join();
    List<Effect> effects =
        List.of(
            new Effect.Put(NS, "x", "1"),
            new Effect.Send(message(21, "outgoing")),
            new Effect.CompareAndSet(NS, "owner", "bob", "carol"));
    assertThatThrownBy(() -> journal.acknowledge(m, effects).join())
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(JournalException.class);
    assertThat(journal.state(NS, "x")).as("the put before the refused CAS").isEmpty();
    assertThat(journal.state(NS, "owner")).contains("alice");
    assertThat(journal.isAcknowledged(20)).isFalse();
    assertThat(ids(journal.recover()))
        .as("still pending, no outgoing message")
        .containsExactly(20L);

    assertThat(
            journal
                .acknowledge(
                    m,
                    List.of(
                        new Effect.Put(NS, "x", "1"),
                        new Effect.Send(message(21, "outgoing")),
                        new Effect.CompareAndSet(NS, "owner", "alice", "carol")))
                .join())
        .isTrue();
    closeAndReopen();
    assertThat(journal.state(NS, "x")).contains("1");
    assertThat(journal.state(NS, "owner")).contains("carol");
    assertThat(ids(journal.recover())).as("the outbox message").containsExactly(21L);
  }

  @Test
  void anIncrementOfTextThatIsNotANumberRefusesTheWholeAcknowledgement() {
    journal
        .acknowledge(message(1, "seed"), List.of(new Effect.Put(NS, "n", "not a number")))
        .join();
    Envelope m = message(2, "inc");
    journal.append(m);
    assertThatThrownBy(
            () ->
                journal
                    .acknowledge(
                        m, List.of(new Effect.Put(NS, "y", "1"), new Effect.Increment(NS, "n", 1)))
                    .join())
        .hasCauseInstanceOf(JournalException.class)
        .hasMessageContaining("stays pending");
    assertThat(journal.state(NS, "y")).isEmpty();
    assertThat(ids(journal.recover())).containsExactly(2L);
    assertThat(
            journal
                .acknowledge(
                    m,
                    List.of(
                        new Effect.Increment(NS, "m", 5),
                        new Effect.Increment(NS, "m", -2),
                        new Effect.Delete(NS, "n")))
                .join())
        .isTrue();
    assertThat(journal.state(NS, "m")).contains("3");
    assertThat(journal.state(NS, "n")).isEmpty();
  }

  @Test
  void acknowledgeTogetherIsAllOrNothing() {
    assumeTrue(journal.acknowledgesTogether(), "this journal does not acknowledge together");
    Envelope a = message(1, "a");
    Envelope b = message(2, "b");
    Envelope c = message(3, "c");
    journal.append(a);
    journal.append(b);
    journal.append(c);
    assertThat(journal.acknowledge(b, List.of()).join()).isTrue();
    assertThatThrownBy(
            () ->
                journal
                    .acknowledgeTogether(List.of(a, b, c), List.of(new Effect.Put(NS, "t", "1")))
                    .join())
        .hasCauseInstanceOf(JournalException.class);
    assertThat(journal.state(NS, "t")).isEmpty();
    assertThat(ids(journal.recover())).containsExactly(1L, 3L);
    assertThat(
            journal
                .acknowledgeTogether(List.of(a, c), List.of(new Effect.Put(NS, "t", "1")))
                .join())
        .isTrue();
    closeAndReopen();
    assertThat(journal.recover()).isEmpty();
    assertThat(journal.state(NS, "t")).contains("1");
    assertThat(journal.isAcknowledged(1)).isTrue();
    assertThat(journal.isAcknowledged(3)).isTrue();
  }

  @Test
  void recoverReturnsTheAttemptsRecorded() {
    Envelope m = message(5, "flaky");
    journal.append(m);
    journal.recordFailure(m, 1, "boom").join();
    journal.recordFailure(m, 2, "boom again").join();
    closeAndReopen();
    List<JournalEntry> entries = journal.recover();
    assertThat(entries).hasSize(1);
    assertThat(entries.getFirst().attempts()).isEqualTo(2);
  }

  @Test
  void deadLettersLeaveTheRecoveryAndReplayBringsThemBack() {
    Envelope m = message(7, "poison");
    Envelope other = message(8, "fine");
    journal.append(m);
    journal.append(other);
    journal.recordFailure(m, 3, "boom").join();
    journal.deadLetter(m, 3, "gave up after 3 attempts").join();
    closeAndReopen();
    assertThat(ids(journal.recover())).containsExactly(8L);
    assertThat(journal.replayDeadLetter(999)).isEmpty();
    Envelope replayed = journal.replayDeadLetter(7).orElseThrow();
    assertThat(replayed.id()).isEqualTo(7);
    assertThat(replayed.payload()).isEqualTo("poison");
    List<JournalEntry> entries = journal.recover();
    assertThat(ids(entries)).containsExactlyInAnyOrder(7L, 8L);
    assertThat(entries).allSatisfy(e -> assertThat(e.attempts()).as("attempts reset").isZero());
    assertThat(journal.replayDeadLetter(7)).as("no longer a dead letter").isEmpty();
  }

  @Test
  void aKeyedAppendIsStoredOncePerKey() {
    assertThat(journal.appendOnce(keyed(1, "order-42"))).isEqualTo(1);
    assertThat(journal.appendOnce(keyed(2, "order-42"))).as("the first one's id").isEqualTo(1);
    assertThat(journal.appendOnce(keyed(3, "order-43"))).isEqualTo(3);
    assertThat(journal.appendOnce(message(4, "no key"))).isEqualTo(4);
    closeAndReopen();
    assertThat(ids(journal.recover())).containsExactly(1L, 3L, 4L);
    assertThat(journal.idempotencyKeyId("order-42")).contains(1L);
    assertThat(journal.idempotencyKeyId("order-44")).isEmpty();
    journal.acknowledge(keyed(1, "order-42"), List.of()).join();
    assertThat(journal.appendOnce(keyed(5, "order-42")))
        .as("the key outlives its handled message")
        .isEqualTo(1);
    assertThat(ids(journal.recover())).containsExactly(3L, 4L);
  }

  @Test
  void stateReadsSeeCommittedValuesByKeyAndByPrefix() {
    journal
        .acknowledge(
            message(1, "s"),
            List.of(
                new Effect.Put(NS, "task/2", "b"),
                new Effect.Put(NS, "task/1", "a"),
                new Effect.Put(NS, "task/3", "c"),
                new Effect.Put(NS, "other", "o"),
                new Effect.Put("worker/8", "task/9", "elsewhere")))
        .join();
    assertThat(journal.state(NS, "task/1")).contains("a");
    assertThat(journal.state(WORKER, "other")).contains("o");
    assertThat(journal.state(NS, "missing")).isEmpty();
    assertThat(journal.stateByPrefix(NS, "task/", 10))
        .containsExactly(
            Map.entry("task/1", "a"), Map.entry("task/2", "b"), Map.entry("task/3", "c"));
    assertThat(journal.stateByPrefix(NS, "task/", 2).keySet()).containsExactly("task/1", "task/2");
    assertThat(journal.stateByPrefix(NS, "", 10)).hasSize(4);
    assertThatThrownBy(() -> journal.stateByPrefix(NS, "", 0))
        .isInstanceOf(IllegalArgumentException.class);
    journal
        .acknowledge(
            message(2, "s"),
            List.of(new Effect.Delete(NS, "task/2"), new Effect.Put(NS, "task/1", "A")))
        .join();
    assertThat(journal.stateByPrefix(NS, "task/", 10).keySet()).containsExactly("task/1", "task/3");
    assertThat(journal.state(NS, "task/1")).contains("A");
    closeAndReopen();
    assertThat(journal.state(NS, "task/1")).contains("A");
    assertThat(journal.state(NS, "task/2")).isEmpty();
  }

  @Test
  void callRecordsCommitWithTheAcknowledgementAndTheFirstWins() {
    assumeTrue(journal.recordsCalls(), "this journal keeps no call records (the SPI's default)");
    assertThat(journal.findCall("call-1")).isEmpty();
    journal.append(message(1, "m"));
    journal
        .acknowledge(message(1, "m"), List.of(new Effect.RecordCall("call-1", "{\"a\":1}")))
        .join();
    journal
        .acknowledge(message(2, "m"), List.of(new Effect.RecordCall("call-1", "{\"a\":2}")))
        .join();
    closeAndReopen();
    assertThat(journal.findCall("call-1")).contains("{\"a\":1}");
  }

  @Test
  void highestIdCoversAcknowledgedAndDeadLetteredMessages() {
    journal.append(message(40, "a"));
    journal.acknowledge(message(40, "a"), List.of()).join();
    journal.append(message(41, "b"));
    journal.deadLetter(message(41, "b"), 1, "refused").join();
    closeAndReopen();
    assertThat(journal.recover()).isEmpty();
    assertThat(journal.highestId()).isGreaterThanOrEqualTo(41);
  }
}
