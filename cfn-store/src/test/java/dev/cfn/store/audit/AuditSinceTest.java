package dev.cfn.store.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AuditLog#since(long)} keeps the events numbered from a given entry on, checkpoints taking
 * numbers too; {@link AuditLog#id()} tells a log from one started in its place.
 */
class AuditSinceTest {
  @TempDir Path dir;

  private static AuditEvent event(int i) {
    return AuditEvent.now("user:t", "test.event", "t:" + i, AuditEvent.Outcome.SUCCESS, Map.of());
  }

  @Test
  void sinceKeepsTheEventsFromANumberOnAndIdsDiffer() {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    try (AuditLog log = AuditLog.builder(a).checkpointEvery(3).open()) {
      long[] seqs = new long[7];
      for (int i = 0; i < 7; i++) {
        seqs[i] = log.append(event(i)).seq();
      }
      assertThat(seqs[3]).as("a checkpoint took a number").isGreaterThan(4);
      AuditLog.Page page = log.since(seqs[3]);
      assertThat(page.problem()).isNull();
      assertThat(page.entries())
          .extracting(e -> e.event().target())
          .containsExactly("t:3", "t:4", "t:5", "t:6");
      assertThat(log.since(seqs[6] + 1).entries()).isEmpty();
      assertThat(log.since(1).entries()).hasSize(7);
      assertThat(log.id()).matches("[0-9a-f]{32}");
      try (AuditLog other = AuditLog.open(b)) {
        assertThat(other.id()).isNotEqualTo(log.id());
      }
      String id = log.id();
      log.close();
      try (AuditLog again = AuditLog.open(a)) {
        assertThat(again.id()).as("the same log, reopened").isEqualTo(id);
      }
    }
  }
}
