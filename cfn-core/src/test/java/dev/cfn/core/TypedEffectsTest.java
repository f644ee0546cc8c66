package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Typed effects (counters, bytes, JSON, compare-and-set) and prefix reads: as a handler sees them
 * before the commit, and as the journal applies them with the acknowledgement, all or nothing.
 */
class TypedEffectsTest {
  static final AgentId AGENT = AgentId.of("counter", "1");

  static Envelope message(long id) {
    return new Envelope(
        id,
        "t",
        AgentRuntime.EXTERNAL,
        AGENT,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        "x",
        System.nanoTime());
  }

  static EffectsBuffer buffer(Journal journal) {
    // no swarm rule is installed, so the rules never consult a directory
    return new EffectsBuffer(AGENT, journal, new Ids(new Carrier[0]), new SwarmRules(null));
  }

  @Test
  void aHandlerSeesItsOwnTypedWritesAndTheJournalCommitsThem() {
    InMemoryJournal journal = new InMemoryJournal();
    journal.append(message(1));
    EffectsBuffer fx = buffer(journal);
    assertThat(fx.increment("hits", 5)).isEqualTo(5);
    assertThat(fx.increment("hits", -2)).isEqualTo(3);
    fx.putBytes("blob", new byte[] {0, 1, (byte) 0xff});
    fx.putJson("doc", "{\"a\": [1, 2.5e3, true, null, \"\\u00e9\"]}");
    assertThat(fx.compareAndSet("owner", null, "me")).isTrue();
    assertThat(fx.compareAndSet("owner", "someone else", "me too")).isFalse();
    assertThat(fx.getLong("hits")).hasValue(3);
    assertThat(fx.getBytes("blob"))
        .hasValueSatisfying(b -> assertThat(b).containsExactly(0, 1, -1));
    assertThat(fx.get("owner")).contains("me");

    assertThat(journal.acknowledge(message(1), fx.effects()).join()).isTrue();

    assertThat(journal.state(AGENT, "hits")).contains("3");
    assertThat(journal.state(AGENT, "blob")).contains("AAH/");
    assertThat(journal.state(AGENT, "doc"))
        .contains("{\"a\": [1, 2.5e3, true, null, \"\\u00e9\"]}");
    assertThat(journal.state(AGENT, "owner")).contains("me");
    EffectsBuffer next = buffer(journal);
    assertThat(next.getLong("hits")).hasValue(3);
    assertThat(next.increment("hits", 1)).isEqualTo(4);
  }

  @Test
  void prefixReadsMergeTheHandlersWritesAndStopAtTheLimit() {
    InMemoryJournal journal = new InMemoryJournal();
    journal.append(message(1));
    EffectsBuffer first = buffer(journal);
    for (String k : List.of("task/1", "task/2", "task/3", "other", "tasks")) {
      first.put(k, k.toUpperCase(java.util.Locale.ROOT));
    }
    journal.acknowledge(message(1), first.effects()).join();

    assertThat(journal.stateByPrefix(AGENT, "task/", 10).keySet())
        .containsExactly("task/1", "task/2", "task/3");
    assertThat(journal.stateByPrefix(AGENT, "task/", 2).keySet())
        .containsExactly("task/1", "task/2");
    assertThat(journal.stateByPrefix(AGENT, "", 10)).hasSize(5);

    EffectsBuffer fx = buffer(journal);
    fx.delete("task/1");
    fx.put("task/0", "new");
    assertThat(fx.getByPrefix("task/", 10).keySet()).containsExactly("task/0", "task/2", "task/3");
    assertThat(fx.getByPrefix("task/", 2))
        .containsExactly(Map.entry("task/0", "new"), Map.entry("task/2", "TASK/2"));
    assertThatThrownBy(() -> fx.getByPrefix("task/", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 to 10000");
    assertThatThrownBy(() -> journal.stateByPrefix(AGENT, "", Journal.MAX_PREFIX_ENTRIES + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aCompareAndSetThatNoLongerHoldsAtCommitAppliesNothing() {
    InMemoryJournal journal = new InMemoryJournal();
    journal.append(message(1));
    journal.append(message(2));
    EffectsBuffer fx = buffer(journal);
    fx.put("note", "written with the lost race");
    assertThat(fx.compareAndSet("leader", null, "a")).isTrue();
    // another writer commits first
    journal
        .acknowledge(message(2), List.of(new Effect.Put(AGENT.toString(), "leader", "b")))
        .join();

    assertThatThrownBy(() -> journal.acknowledge(message(1), fx.effects()).join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("message 1 was not acknowledged and stays pending")
        .hasMessageContaining("leader");
    assertThat(journal.state(AGENT, "note")).isEmpty();
    assertThat(journal.state(AGENT, "leader")).contains("b");
    assertThat(journal.isAcknowledged(1)).isFalse();
    assertThat(journal.pendingCount()).isEqualTo(1);
  }

  @Test
  void wrongTypesAndBadJsonAreRefusedNamingTheKey() {
    InMemoryJournal journal = new InMemoryJournal();
    journal.append(message(1));
    EffectsBuffer fx = buffer(journal);
    fx.put("name", "ada");
    assertThatThrownBy(() -> fx.getLong("name"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'name'")
        .hasMessageContaining("not a whole number");
    assertThatThrownBy(() -> fx.increment("name", 1)).isInstanceOf(IllegalStateException.class);
    fx.put("b", "not base64!");
    assertThatThrownBy(() -> fx.getBytes("b")).hasMessageContaining("not Base64");
    assertThatThrownBy(() -> fx.putJson("doc", "{\"a\": 1,}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'doc'")
        .hasMessageContaining("character 9");
    fx.putLong("max", Long.MAX_VALUE);
    assertThatThrownBy(() -> fx.increment("max", 1)).isInstanceOf(ArithmeticException.class);
    assertThat(fx.get("doc")).isEmpty();
    assertThat(fx.getLong("max")).hasValue(Long.MAX_VALUE);
  }

  @Test
  void aCounterIncrementedByManyReliableMessagesCountsEachOnce() {
    InMemoryJournal journal = new InMemoryJournal();
    try (AgentRuntime rt =
        TestSupport.builder()
            .journal(journal)
            .register(
                AgentType.of(
                    "counter",
                    id ->
                        (m, ctx) -> {
                          ctx.effects().increment("n", 1);
                          ctx.effects()
                              .putBytes(
                                  "last", ((String) m.payload()).getBytes(StandardCharsets.UTF_8));
                        }))
            .build()) {
      for (int i = 0; i < 200; i++) {
        rt.send(Envelope.to(AGENT).delivery(DeliveryMode.RELIABLE).payload("m" + i));
      }
      TestSupport.eventually(() -> journal.pendingCount() == 0, "all 200 acknowledged");
      assertThat(journal.state(AGENT, "n")).contains("200");
    }
  }
}
