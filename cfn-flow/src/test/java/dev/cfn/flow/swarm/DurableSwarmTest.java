package dev.cfn.flow.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.Task;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.BudgetExhaustedException;
import dev.cfn.core.Envelope;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A durable swarm's spend and refusals survive a SIGKILL: the swarm built again on the same journal
 * starts from them, its budget refuses what would take it over its limit, and a task replayed from
 * the call log is not charged twice.
 */
class DurableSwarmTest {
  @TempDir Path dir;

  /** Sends task {@code key} (its idempotency key too) to the swarm and returns the answer. */
  static String task(Swarm swarm, String key) throws Exception {
    Envelope reply =
        swarm
            .submit(
                new Task("do " + key), Assignment.capability("worker"), Duration.ofSeconds(60), key)
            .get(90, TimeUnit.SECONDS);
    if (reply.payload() instanceof TaskResult r) {
      return r.text();
    }
    throw new IllegalStateException("task " + key + " answered " + reply.payload());
  }

  private List<String> runChild() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                LedgerCrashChild.class.getName(),
                dir.toString())
            .redirectError(dir.resolve("child.err").toFile())
            .start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        lines.add(line);
      }
    } finally {
      assertThat(child.waitFor(180, TimeUnit.SECONDS)).as("the child ends").isTrue();
    }
    assertThat(child.exitValue()).as("SIGKILLed: 128 + 9").isEqualTo(137);
    return lines;
  }

  @Test
  void spendAndRefusalsSurviveASigkillAndTheBudgetRefusesWhatWouldExceedIt() throws Exception {
    assertThat(runChild()).containsExactly("SPENT 2 1");
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir)) {
      Swarm swarm = n.swarm();
      assertThat(swarm.durable()).isTrue();
      assertThat(swarm.budget().spent().calls()).as("calls restored").isEqualTo(2);
      assertThat(swarm.budget().spent().totalTokens())
          .isEqualTo(2 * (LedgerCrashChild.INPUT + LedgerCrashChild.OUTPUT));
      assertThat(swarm.status().refused()).as("refusals restored").isEqualTo(1);
      assertThat(swarm.status().recentRefusals())
          .singleElement()
          .asString()
          .contains("ring topology");

      // t1 again: answered from the call log, its spend counted already
      assertThat(task(swarm, "t1")).isEqualTo("done");
      assertThat(n.model().calls.get()).as("t1 replayed, the model not asked").isZero();
      assertThat(swarm.budget().spent().calls()).as("a replay is not charged twice").isEqualTo(2);

      // the third call fits the budget of 3; the fourth would exceed it
      assertThat(task(swarm, "t3")).isEqualTo("done");
      assertThat(swarm.budget().spent().calls()).isEqualTo(3);
      assertThatThrownBy(() -> task(swarm, "t4"))
          .isInstanceOf(BudgetExhaustedException.class)
          .hasMessageContaining("calls limit reached (3 of 3");
      assertThat(n.model().calls.get()).isEqualTo(1);
    }
    // closed and opened again: the same counts
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir)) {
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(3);
      assertThat(n.swarm().status().refused()).isEqualTo(1);
    }
  }
}
