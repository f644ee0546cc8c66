package dev.cfn.store.calls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group-committed records survive the process being killed: a child JVM records from many threads
 * at once and prints each key once its {@code record} returned; the test kills it with SIGKILL
 * while records are in flight, then every key the child printed must be in the file with its
 * result.
 *
 * <p>What this proves, and what not: SIGKILL ends the process but not the kernel, so pages written
 * and not yet fsynced survive it too. The test proves that {@code record} returns only once its
 * record is committed (a caller never runs ahead of its batch's commit), and that a kill in the
 * middle of batches leaves a file that opens, checks clean and holds every acknowledged record.
 * That the commit is fsynced is SQLite's {@code synchronous=FULL}, which {@link
 * CallLogGroupCommitTest#theWriterCommitsWithSynchronousFull} checks on the writer's connection; a
 * power cut is not simulated here.
 */
class CallLogCrashTest {
  private static final int THREADS = 16;
  private static final int ACKNOWLEDGED_BEFORE_KILL = 2_000;

  @TempDir Path dir;

  @Test
  void everyAcknowledgedRecordSurvivesASigkillInTheMiddleOfBatches() throws Exception {
    Path file = dir.resolve("calls.db");
    List<String> acknowledged = new ArrayList<>();
    try (ChildJvm child =
        ChildJvm.start(CallLogRecorder.class, file.toString(), Integer.toString(THREADS))) {
      assertThat(child.readLine()).as("the child opened the call log").isEqualTo("OPEN");
      String line;
      while (acknowledged.size() < ACKNOWLEDGED_BEFORE_KILL && (line = child.readLine()) != null) {
        acknowledged.add(line);
      }
      assertThat(acknowledged).as("the child kept recording").hasSize(ACKNOWLEDGED_BEFORE_KILL);
      // SIGKILL: no shutdown hook, no close, batches in flight. (It also closes our end of the
      // pipe, so the keys acknowledged after the ones read here are not checked: a subset.)
      assertThat(child.kill()).as("the child died").isTrue();
      assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(ChildJvm.SIGKILLED);
    }

    try (SqliteCallLogStore calls =
        SqliteCallLogStore.builder(file).sweepEvery(Duration.ZERO).open()) {
      List<String> missing = new ArrayList<>();
      for (String key : acknowledged) {
        if (!calls.find(key).equals(Optional.of(CallLogRecorder.resultOf(key)))) {
          missing.add(key);
        }
      }
      assertThat(missing).as("acknowledged records missing or wrong after the kill").isEmpty();
      assertThat(calls.count()).isGreaterThanOrEqualTo(acknowledged.size());
      assertThat(calls.check().ok()).as("the file checks clean after the kill").isTrue();
    }
  }
}
