package dev.cfn.testkit.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.InMemoryJournal;
import dev.cfn.core.Priority;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The wrapper's faults on a real in-memory journal: what fails, what is lost, what is told. */
class FaultyJournalTest {
  static final AgentId TO = AgentId.of("counter", "1");

  static Envelope message(long id) {
    return new Envelope(
        id,
        "t",
        AgentRuntime.EXTERNAL,
        TO,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        "m" + id,
        System.nanoTime());
  }

  static List<Effect> put(long id) {
    return List.of(new Effect.Put(TO.toString(), "k" + id, "v" + id));
  }

  @Test
  void failsTheNextCommitsItPicksApplyingNothingAndLeavingThemPending() throws Exception {
    FaultyJournal journal = FaultyJournal.inMemory().failNext(2, m -> m.size() > 1);
    for (long id = 1; id <= 5; id++) {
      journal.append(message(id));
    }
    assertThat(journal.acknowledge(message(1), put(1)).get()).as("not picked").isTrue();
    assertThatThrownBy(
            () -> journal.acknowledgeTogether(List.of(message(2), message(3)), put(2)).get())
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(JournalException.class)
        .hasMessageContaining("failed on purpose");
    assertThatThrownBy(
            () -> journal.acknowledgeTogether(List.of(message(2), message(3)), put(2)).get())
        .hasCauseInstanceOf(JournalException.class);
    assertThat(journal.failed()).isEqualTo(2);
    assertThat(journal.isAcknowledged(2)).isFalse();
    assertThat(journal.state(TO.toString(), "k2")).isEmpty();
    assertThat(journal.recover())
        .extracting(e -> e.envelope().id())
        .containsExactly(2L, 3L, 4L, 5L);
    // the two failures are spent: the third batched commit goes through
    assertThat(journal.acknowledgeTogether(List.of(message(2), message(3)), put(2)).get()).isTrue();
    assertThat(journal.state(TO.toString(), "k2")).contains("v2");
    assertThat(journal.failed()).isEqualTo(2);
  }

  @Test
  void losesTheEffectsOfEveryKthCommitItPicksYetAcknowledgesIt() throws Exception {
    InMemoryJournal real = new InMemoryJournal();
    FaultyJournal journal =
        FaultyJournal.wrapping(real).loseEvery(3, m -> m.getFirst().recipient().equals(TO));
    for (long id = 1; id <= 6; id++) {
      journal.append(message(id));
      assertThat(journal.acknowledge(message(id), put(id)).get()).isTrue();
    }
    assertThat(journal.lost()).isEqualTo(2);
    assertThat(real.pendingCount()).as("every message acknowledged").isZero();
    List<Long> kept = new ArrayList<>();
    for (long id = 1; id <= 6; id++) {
      if (journal.state(TO.toString(), "k" + id).isPresent()) {
        kept.add(id);
      }
    }
    assertThat(kept).containsExactly(1L, 2L, 4L, 5L);
  }

  @Test
  void tellsItsListenersOfEachCommitAndOfEachThatApplied() throws Exception {
    List<Integer> attempted = new CopyOnWriteArrayList<>();
    List<Long> applied = new CopyOnWriteArrayList<>();
    FaultyJournal journal =
        FaultyJournal.inMemory()
            .onCommit(m -> attempted.add(m.size()))
            .onApplied(m -> m.forEach(e -> applied.add(e.id())))
            .failNext(1, m -> true);
    journal.append(message(1));
    journal.append(message(2));
    assertThatThrownBy(() -> journal.acknowledge(message(1), put(1)).get())
        .hasCauseInstanceOf(JournalException.class);
    assertThat(journal.acknowledge(message(1), put(1)).get()).isTrue();
    assertThat(journal.acknowledge(message(1), put(1)).get()).as("already acknowledged").isFalse();
    assertThat(journal.acknowledgeTogether(List.of(message(2)), put(2)).get()).isTrue();
    assertThat(attempted).containsExactly(1, 1, 1, 1);
    assertThat(applied).as("only commits that applied").containsExactly(1L, 2L);
  }

  @Test
  void picksByTheEffectsAndTellsOfEachCommitItFailed() throws Exception {
    List<Long> failedNow = new CopyOnWriteArrayList<>();
    FaultyJournal journal =
        FaultyJournal.inMemory()
            .onFailed(m -> m.forEach(e -> failedNow.add(e.id())))
            .failNextWithEffects(
                1,
                (m, effects) ->
                    effects.stream()
                        .anyMatch(e -> e instanceof Effect.Put p && p.key().equals("k2")));
    for (long id = 1; id <= 3; id++) {
      journal.append(message(id));
    }
    assertThat(journal.acknowledge(message(1), put(1)).get()).as("other effects").isTrue();
    assertThatThrownBy(() -> journal.acknowledge(message(2), put(2)).get())
        .hasCauseInstanceOf(JournalException.class);
    assertThat(failedNow).containsExactly(2L);
    assertThat(journal.state(TO.toString(), "k2")).isEmpty();
    assertThat(journal.acknowledge(message(2), put(2)).get()).as("the failure is spent").isTrue();
    assertThat(journal.state(TO.toString(), "k2")).contains("v2");
    assertThat(journal.failed()).isEqualTo(1);
    assertThat(failedNow).containsExactly(2L);
    assertThatThrownBy(() -> journal.failNextWithEffects(-1, (m, e) -> true))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void forwardsEverythingElseToTheRealJournal() {
    InMemoryJournal real = new InMemoryJournal();
    FaultyJournal journal = FaultyJournal.wrapping(real);
    assertThat(journal.real()).isSameAs(real);
    assertThat(journal.acknowledgesTogether()).isEqualTo(real.acknowledgesTogether());
    journal.append(message(7));
    assertThat(real.highestId()).isEqualTo(7);
    assertThat(journal.highestId()).isEqualTo(7);
    assertThat(journal.stateByPrefix(TO, "", 10)).isEmpty();
    assertThat(journal.idempotencyKeyId("none")).isEmpty();
    assertThatThrownBy(() -> journal.failNext(-1, m -> true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> journal.loseEvery(0, m -> true))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
