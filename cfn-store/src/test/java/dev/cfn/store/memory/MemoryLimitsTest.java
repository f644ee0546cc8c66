package dev.cfn.store.memory;

import static dev.cfn.store.memory.MemoryFixtures.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryWrite;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One memory entry cannot fill the disk, and a huge time to live is refused clearly. */
class MemoryLimitsTest {
  @TempDir Path dir;

  @Test
  void aValueOverTheDefaultLimitIsRefusedAndNothingIsStored() {
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(dir.resolve("memory.db"))) {
      String fiftyMegabytes = "x".repeat(50 * 1024 * 1024);
      assertThatThrownBy(() -> memory.put(ALICE, "n", "big", fiftyMegabytes))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("memory entry 'big' in namespace 'n' was not stored")
          .hasMessageContaining("52,428,800 bytes, over the limit of 1,048,576 bytes")
          .hasMessageContaining("fix: ");
      assertThat(memory.get(ALICE, "n", "big")).isEmpty();
      String exactly = "é".repeat(SqliteMemoryStore.DEFAULT_MAX_VALUE_BYTES / 2); // 2 bytes each
      assertThat(memory.put(ALICE, "n", "fits", exactly).value()).hasSize(exactly.length());
    }
  }

  @Test
  void theLimitIsConfigurableAndCountsMetadata() {
    try (SqliteMemoryStore memory =
        SqliteMemoryStore.builder(dir.resolve("memory.db")).maxValueBytes(100).open()) {
      memory.put(ALICE, "n", "k", "v".repeat(100));
      MemoryWrite withMetadata = MemoryWrite.defaults().metadata(Map.of("source", "x".repeat(90)));
      assertThatThrownBy(() -> memory.put(ALICE, "n", "k2", "v".repeat(10), withMetadata))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("106 bytes, over the limit of 100 bytes");
    }
    assertThatThrownBy(() -> SqliteMemoryStore.builder(dir.resolve("m.db")).maxValueBytes(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aTimeToLiveThatWouldOverflowIsRefusedWithAClearMessage() {
    Duration absurd = Duration.parse("P999999999999D");
    assertThatThrownBy(() -> MemoryWrite.defaults().ttl(absurd))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "a memory time to live is at most 36500 days (about 100 years), not PT23999999999976H"
                + " (fix: use a shorter time to live, or none for an entry that never expires)");
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(dir.resolve("memory.db"))) {
      MemoryEntry longLived =
          memory.put(ALICE, "n", "k", "v", MemoryWrite.defaults().ttl(MemoryWrite.MAX_TTL));
      assertThat(longLived.expiresAt()).isNotNull();
    }
  }
}
