package dev.cfn.flow.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.spi.Journal;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A durable swarm's spend after a SIGKILL at each point of the window between a model call's answer
 * and the commit of its charge ({@link LedgerWindowChild}): every call whose answer was recorded is
 * counted exactly once, whether the answer's record rides a RELIABLE request's acknowledgement (the
 * charge in the same commit) or goes to the call log (the charge journaled first); a call whose
 * answer died with the process is made again and counted once.
 */
class LedgerCrashWindowTest {
  private static final AgentId LEDGER = AgentId.of(Ledger.TYPE, "team");
  private static final long TOKENS = LedgerCrashChild.INPUT + LedgerCrashChild.OUTPUT;

  @TempDir Path dir;

  private List<String> crashAt(String point) throws Exception {
    try (ChildJvm child =
        ChildJvm.of(LedgerWindowChild.class, dir.toString(), point)
            .errorTo(dir.resolve("child.err"))
            .start()) {
      List<String> lines = child.readToEnd();
      assertThat(child.waitFor(Duration.ofSeconds(180))).as("the child ends").isTrue();
      assertThat(child.exitValue()).as("SIGKILLed").isEqualTo(ChildJvm.SIGKILLED);
      return lines;
    }
  }

  /** The ledger's totals as the journal holds them, once everything pending is applied. */
  private static Map<String, String> totals(LedgerCrashChild.Node n) throws Exception {
    assertThat(n.runtime().awaitDrained(Duration.ofSeconds(60))).isTrue();
    n.swarm().awaitLedger(Duration.ofSeconds(60));
    return n.journal().stateByPrefix(LEDGER, "spent.", Journal.MAX_PREFIX_ENTRIES);
  }

  @Test
  void aCrashBeforeTheAcknowledgementCarryingTheAnswerAndItsChargeCountsOnlyTheCallMadeAgain()
      throws Exception {
    assertThat(crashAt("before-ack")).containsExactly("CALLED 1");
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, null)) {
      Map<String, String> totals = totals(n);
      assertThat(n.model().calls.get())
          .as("the request, never acknowledged, is handled again: its one call made again")
          .isEqualTo(1);
      assertThat(totals)
          .as("the lost answer's charge was lost with it; the call made again is counted once")
          .containsEntry("spent.calls.test-model", "1")
          .containsEntry("spent.input.test-model", Long.toString(LedgerCrashChild.INPUT));
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(1);
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, null)) {
      assertThat(n.swarm().budget().spent().calls()).as("restored: once").isEqualTo(1);
      assertThat(n.swarm().budget().spent().totalTokens()).isEqualTo(TOKENS);
      assertThat(n.runtime().awaitDrained(Duration.ofSeconds(60))).isTrue();
      assertThat(n.model().calls.get()).as("acknowledged: not asked again").isZero();
    }
  }

  @Test
  void aCrashJustAfterTheAcknowledgementCarryingTheAnswerAndItsChargeCountsTheCallOnce()
      throws Exception {
    assertThat(crashAt("after-ack")).containsExactly("CALLED 1");
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, null)) {
      assertThat(n.swarm().budget().spent().calls())
          .as("the charge, committed with the answer, applied before the restore read it")
          .isEqualTo(1);
      assertThat(n.swarm().budget().spent().totalTokens()).isEqualTo(TOKENS);
      assertThat(totals(n)).containsEntry("spent.calls.test-model", "1");
      assertThat(n.model().calls.get()).as("acknowledged: not asked again").isZero();
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(1);
    }
  }

  @Test
  void aCrashAfterTheChargeAndBeforeTheCallLogsRecordCountsBothCallsTheProviderWasAsked()
      throws Exception {
    assertThat(crashAt("before-record")).containsExactly("CALLED 1");
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, null)) {
      assertThat(n.swarm().budget().spent().calls())
          .as("the charge was journaled before the record was written")
          .isEqualTo(1);
      assertThat(DurableSwarmTest.task(n.swarm(), "k1")).isEqualTo("done");
      assertThat(n.model().calls.get()).as("no record: the call is made again").isEqualTo(1);
      assertThat(n.swarm().budget().spent().calls())
          .as("two calls were made, two are counted")
          .isEqualTo(2);
      assertThat(DurableSwarmTest.task(n.swarm(), "k1")).isEqualTo("done");
      assertThat(n.model().calls.get()).as("now replayed from the call log").isEqualTo(1);
      assertThat(n.swarm().budget().spent().calls()).as("a replay is not charged").isEqualTo(2);
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, null)) {
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(2);
      assertThat(n.swarm().budget().spent().totalTokens()).isEqualTo(2 * TOKENS);
    }
  }
}
