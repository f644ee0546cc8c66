package dev.cfn.store.memory;

import static dev.cfn.store.memory.MemoryFixtures.ALICE;
import static dev.cfn.store.memory.MemoryFixtures.OPERATOR;
import static dev.cfn.store.memory.MemoryFixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryException;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryWrite;
import dev.cfn.store.journal.Fixtures;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips, upserts, expiry and sweeps, validation and concurrent use of a memory file. */
class MemoryStoreTest {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("memory.db");
  }

  private SqliteMemoryStore open(Fixtures.SettableClock clock) {
    return SqliteMemoryStore.builder(file()).clock(clock).open();
  }

  @Test
  void anEntryRoundTripsWithEverythingItWasGiven() {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    try (SqliteMemoryStore memory = open(clock)) {
      MemoryEntry stored =
          memory.put(
              ALICE,
              "plans",
              "release-42",
              "{\"steps\":[\"build\",\"deploy\"]}",
              MemoryWrite.defaults()
                  .level(MemoryAccessLevel.SWARM)
                  .ttl(Duration.ofHours(2))
                  .metadata(Map.of("source", "planner", "confidence", "0.9"))
                  .tags("release", "deploy", "release"));

      MemoryEntry read = memory.get(ALICE, "plans", "release-42").orElseThrow();
      assertThat(read).isEqualTo(stored);
      assertThat(read.value()).isEqualTo("{\"steps\":[\"build\",\"deploy\"]}");
      assertThat(read.metadata())
          .containsOnly(Map.entry("source", "planner"), Map.entry("confidence", "0.9"));
      assertThat(read.tags()).containsExactly("deploy", "release");
      assertThat(read.level()).isEqualTo(MemoryAccessLevel.SWARM);
      assertThat(read.owner()).isEqualTo("alice/1");
      assertThat(read.swarm()).isEqualTo("swarm-a");
      assertThat(read.project()).isEqualTo("project-x");
      assertThat(read.createdAt()).isEqualTo(START);
      assertThat(read.updatedAt()).isEqualTo(START);
      assertThat(read.expiry()).contains(START.plus(Duration.ofHours(2)));
      assertThat(read.name()).isEqualTo("plans/release-42");
    }
  }

  @Test
  void theClassCommentsExampleRunsAsWritten() {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(dir.resolve(".cfn/memory.db"))) {
      MemoryAccessor planner = MemoryAccessor.agent("planner/1", "swarm-a", "shop");
      memory.put(
          planner,
          "plans",
          "release-42",
          "{\"steps\":[\"build\",\"deploy\"]}",
          MemoryWrite.defaults()
              .level(MemoryAccessLevel.SWARM)
              .ttl(Duration.ofDays(7))
              .tags("release", "deploy"));
      MemoryAccessor coder = MemoryAccessor.agent("coder/2", "swarm-a", "shop");
      List<MemoryMatch> hits = memory.search(coder, "deploy*", "plans", 10);
      assertThat(hits).extracting(m -> m.entry().key()).containsExactly("release-42");
    }
  }

  @Test
  void unicodeAndLargeValuesRoundTrip() {
    String value = "naïve café — 日本語 🚀 ".repeat(20_000);
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      memory.put(ALICE, "ns ü", "ключ/with spaces", value);
      assertThat(memory.get(ALICE, "ns ü", "ключ/with spaces").orElseThrow().value())
          .isEqualTo(value);
    }
  }

  @Test
  void aPutReplacesTheValueMetadataTagsAndExpiryButKeepsLevelOwnerAndCreation() {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    try (SqliteMemoryStore memory = open(clock)) {
      memory.put(
          ALICE,
          "n",
          "k",
          "v1",
          MemoryWrite.defaults()
              .level(MemoryAccessLevel.PROJECT)
              .ttl(Duration.ofMinutes(5))
              .metadata(Map.of("a", "1"))
              .tags("old"));
      clock.advance(Duration.ofMinutes(1));
      MemoryEntry updated =
          memory.put(
              ALICE, "n", "k", "v2", MemoryWrite.defaults().metadata(Map.of("b", "2")).tags("new"));

      assertThat(memory.get(ALICE, "n", "k")).contains(updated);
      assertThat(updated.value()).isEqualTo("v2");
      assertThat(updated.metadata()).containsOnly(Map.entry("b", "2"));
      assertThat(updated.tags()).containsExactly("new");
      assertThat(updated.level()).isEqualTo(MemoryAccessLevel.PROJECT);
      assertThat(updated.expiry()).isEmpty();
      assertThat(updated.createdAt()).isEqualTo(START);
      assertThat(updated.updatedAt()).isEqualTo(START.plus(Duration.ofMinutes(1)));
      assertThat(memory.list(ALICE, "n", null, 10)).hasSize(1);
    }
  }

  @Test
  void aMissingEntryIsEmptyAndDeletingItIsFalse() {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      assertThat(memory.get(ALICE, "n", "nothing")).isEmpty();
      assertThat(memory.delete(ALICE, "n", "nothing")).isFalse();
      memory.put(ALICE, "n", "k", "v");
      assertThat(memory.delete(ALICE, "n", "k")).isTrue();
      assertThat(memory.get(ALICE, "n", "k")).isEmpty();
      assertThat(memory.delete(ALICE, "n", "k")).isFalse();
    }
  }

  @Test
  void listFiltersByNamespaceAndPrefixInKeyOrderUpToTheLimit() {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      for (String key : List.of("task/3", "task/1", "task/2", "tasks", "note/1", "task%_x")) {
        memory.put(ALICE, "work", key, "value of " + key);
      }
      memory.put(ALICE, "other", "task/9", "elsewhere");

      assertThat(memory.list(ALICE, "work", "task/", 100))
          .extracting(MemoryEntry::key)
          .containsExactly("task/1", "task/2", "task/3");
      assertThat(memory.list(ALICE, "work", "task/", 2))
          .extracting(MemoryEntry::key)
          .containsExactly("task/1", "task/2");
      assertThat(memory.list(ALICE, "work", "task%", 100))
          .extracting(MemoryEntry::key)
          .containsExactly("task%_x"); // no LIKE wildcards
      assertThat(memory.list(ALICE, "work", null, 100)).hasSize(6);
      assertThat(memory.list(ALICE, "work", "", 100)).hasSize(6);
      assertThat(memory.list(ALICE, "empty", null, 100)).isEmpty();
    }
  }

  @Test
  void expiredEntriesAreInvisibleBeforeTheSweepAndDeletedByIt() throws Exception {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    try (SqliteMemoryStore memory = open(clock)) {
      memory.put(
          ALICE, "n", "short", "soon gone", MemoryWrite.defaults().ttl(Duration.ofMinutes(10)));
      memory.put(ALICE, "n", "long", "stays", MemoryWrite.defaults().ttl(Duration.ofDays(7)));
      memory.put(ALICE, "n", "forever", "stays");

      clock.advance(Duration.ofMinutes(10).minusMillis(1));
      assertThat(memory.get(ALICE, "n", "short")).isPresent();

      clock.advance(Duration.ofMillis(1));
      assertThat(memory.get(ALICE, "n", "short")).isEmpty();
      assertThat(memory.get(OPERATOR, "n", "short")).isEmpty();
      assertThat(memory.list(ALICE, "n", null, 10))
          .extracting(MemoryEntry::key)
          .containsExactly("forever", "long");
      assertThat(memory.search(OPERATOR, "soon", null, 10)).isEmpty();
      assertThat(memory.delete(ALICE, "n", "short")).isFalse();
      assertThat(rowCount()).isEqualTo(3); // still on disk

      assertThat(memory.sweepExpired()).isEqualTo(1);
      assertThat(rowCount()).isEqualTo(2);
      assertThat(memory.sweepExpired()).isZero();
      assertThat(memory.check().ok()).isTrue(); // the full-text index followed the delete
    }
  }

  @Test
  void anExpiredKeyIsFreeForANewEntryOfAnotherOwner() {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    MemoryAccessor other = MemoryAccessor.agent("other/1");
    try (SqliteMemoryStore memory = open(clock)) {
      memory.put(ALICE, "n", "k", "alice's", MemoryWrite.defaults().ttl(Duration.ofSeconds(1)));
      assertThatThrownBy(() -> memory.put(other, "n", "k", "mine"))
          .isInstanceOf(MemoryAccessException.class);
      clock.advance(Duration.ofSeconds(1));
      MemoryEntry mine = memory.put(other, "n", "k", "mine");
      assertThat(mine.owner()).isEqualTo("other/1");
      assertThat(mine.createdAt()).isEqualTo(START.plusSeconds(1));
      assertThat(memory.get(other, "n", "k").orElseThrow().value()).isEqualTo("mine");
    }
  }

  @Test
  void aScheduledSweepDeletesExpiredEntries() throws Exception {
    Fixtures.SettableClock clock = new Fixtures.SettableClock(START);
    try (SqliteMemoryStore memory =
        SqliteMemoryStore.builder(file()).clock(clock).sweepEvery(Duration.ofMillis(20)).open()) {
      memory.put(ALICE, "n", "k", "v", MemoryWrite.defaults().ttl(Duration.ofMinutes(1)));
      memory.put(ALICE, "n", "kept", "v");
      assertThat(rowCount()).isEqualTo(2);
      clock.advance(Duration.ofMinutes(2));
      Instant deadline = Instant.now().plusSeconds(10);
      while (rowCount() != 1 && Instant.now().isBefore(deadline)) {
        Thread.sleep(10);
      }
      assertThat(rowCount()).isEqualTo(1);
      assertThat(memory.get(ALICE, "n", "kept")).isPresent();
    }
  }

  @Test
  void badInputIsRefusedWithAClearMessageAndChangesNothing() {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file())) {
      assertThatThrownBy(() -> memory.put(ALICE, "", "k", "v"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("namespace must not be empty");
      assertThatThrownBy(() -> memory.put(ALICE, "n", " ", "v"))
          .hasMessageContaining("key must not be empty");
      assertThatThrownBy(() -> memory.put(ALICE, "n", "x".repeat(513), "v"))
          .hasMessageContaining("at most 512 characters");
      assertThatThrownBy(() -> memory.put(ALICE, "n", "a\nb", "v"))
          .hasMessageContaining("control character");
      assertThatThrownBy(() -> memory.put(ALICE, "n", "k", "v", MemoryWrite.defaults().tags(" ")))
          .hasMessageContaining("memory tag");
      assertThatThrownBy(() -> MemoryWrite.defaults().ttl(Duration.ZERO))
          .hasMessageContaining("must be positive");
      assertThatThrownBy(() -> memory.list(ALICE, "n", null, 0))
          .hasMessageContaining("between 1 and 10000");
      assertThatThrownBy(
              () ->
                  memory.put(
                      MemoryAccessor.agent("solo"),
                      "n",
                      "k",
                      "v",
                      MemoryWrite.defaults().level(MemoryAccessLevel.SWARM)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cannot be SWARM-level")
          .hasMessageContaining("no swarm");
      assertThatThrownBy(() -> MemoryAccessor.agent("@root")).hasMessageContaining("reserved");
      assertThat(memory.list(OPERATOR, "n", null, 10)).isEmpty();
    }
  }

  @Test
  void aClosedStoreSaysSo() {
    SqliteMemoryStore memory = SqliteMemoryStore.open(file());
    memory.close();
    memory.close();
    assertThatThrownBy(() -> memory.get(ALICE, "n", "k"))
        .isInstanceOf(MemoryException.class)
        .hasMessageContaining("is closed");
  }

  @Test
  void concurrentWritersAndTwoStoresOnOneFileLoseNothing() throws Exception {
    try (SqliteMemoryStore first = SqliteMemoryStore.open(file());
        SqliteMemoryStore second = SqliteMemoryStore.open(file())) {
      MemoryAccessor agent = MemoryAccessor.of(AgentId.of("worker", "1"), "s", null);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          SqliteMemoryStore store = t % 2 == 0 ? first : second;
          int thread = t;
          done.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < 25; i++) {
                      store.put(
                          agent,
                          "n",
                          "k-" + thread + "-" + i,
                          "v",
                          MemoryWrite.defaults().level(MemoryAccessLevel.SWARM));
                      store.put(agent, "n", "shared", "from " + thread);
                    }
                    return null;
                  }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      assertThat(first.list(agent, "n", "k-", 1000)).hasSize(200);
      assertThat(second.get(agent, "n", "shared").orElseThrow().value()).startsWith("from ");
      assertThat(first.check().ok()).isTrue();
    }
  }

  private long rowCount() throws Exception {
    try (Connection c = Fixtures.raw(file());
        Statement sql = c.createStatement();
        ResultSet rows = sql.executeQuery("SELECT count(*) FROM memory_entries")) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
