package dev.cfn.flow.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.spi.Journal;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.journal.FaultyJournal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit that fails without a crash (a full disk, injected with {@link FaultyJournal}) does not
 * make a durable swarm's ledger and its budget in memory disagree: the acknowledgement that carried
 * a member's final answer and its charge fails, the request is handled again and its call made
 * again; the budget in memory counts both calls, the provider was asked both, and the ledger counts
 * both too (the discarded charge journaled on its own), so the swarm built again after a restart
 * starts from the same count.
 */
class LedgerFailedCommitTest {
  private static final AgentId LEDGER = AgentId.of(Ledger.TYPE, "team");
  private static final long TOKENS = LedgerCrashChild.INPUT + LedgerCrashChild.OUTPUT;

  @TempDir Path dir;

  @Test
  void aFailedAcknowledgementCarryingACharge_theLedgerStillCountsEveryCallTheBudgetCounts()
      throws Exception {
    FaultyJournal journal =
        FaultyJournal.wrapping(
            SqliteJournal.builder(dir.resolve("journal.db"))
                .payloadType(Task.class, TaskResult.class, TaskFailed.class)
                .open());
    // the first commit acknowledging the worker's task fails, as on a full disk
    journal.failNext(1, messages -> messages.stream().anyMatch(m -> m.payload() instanceof Task));
    SqliteCallLogStore calls =
        SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
    LedgerCrashChild.InstantModel model = new LedgerCrashChild.InstantModel();
    long inMemory;
    try (AgentRuntime rt =
        AgentRuntime.builder().jvmMetrics(false).carriers(2).journal(journal).build()) {
      Swarm swarm =
          Swarm.builder("team", rt)
              .topology(Topology.RING)
              .budget(Budget.builder("swarm team").maxCalls(10).build())
              .durable(journal)
              .build();
      rt.register(
          LlmAgent.builder(LedgerCrashChild.worker())
              .model(model)
              .callLog(CallLog.durable(calls))
              .budgetPerAgent(swarm::memberBudget)
              .type("worker"));
      rt.register(new Members().type());
      swarm.join(AgentId.of("worker", "1"), "worker", List.of());
      Members.join(swarm, 0, 4);

      assertThat(LedgerCrashChild.askReliably(rt, "answer once")).isEqualTo("done");
      assertThat(journal.failed()).as("the acknowledgement carrying the charge failed").isOne();
      assertThat(model.calls.get())
          .as("its answer's record was lost with it: the call is made again")
          .isEqualTo(2);
      inMemory = swarm.budget().spent().calls();
      assertThat(inMemory).as("the budget in memory counts both calls").isEqualTo(2);

      assertThat(rt.awaitDrained(Duration.ofSeconds(60))).isTrue();
      swarm.awaitLedger(Duration.ofSeconds(60));
      assertThat(journal.stateByPrefix(LEDGER, "spent.", Journal.MAX_PREFIX_ENTRIES))
          .as("the ledger counts what the budget counts")
          .containsEntry("spent.calls.test-model", "2")
          .containsEntry("spent.input.test-model", Long.toString(2 * LedgerCrashChild.INPUT));
      swarm.close();
    } finally {
      calls.close();
      journal.close();
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, null)) {
      assertThat(n.swarm().budget().spent().calls())
          .as("restored: the count the budget in memory had")
          .isEqualTo(inMemory);
      assertThat(n.swarm().budget().spent().totalTokens()).isEqualTo(2 * TOKENS);
      assertThat(n.runtime().awaitDrained(Duration.ofSeconds(60))).isTrue();
      assertThat(n.model().calls.get()).as("acknowledged: not asked again").isZero();
    }
  }
}
