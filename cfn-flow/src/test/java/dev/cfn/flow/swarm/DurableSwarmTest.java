package dev.cfn.flow.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.Task;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.BudgetExhaustedException;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Journal;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import dev.cfn.testkit.process.ChildJvm;
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
 * the call log is not charged twice. A final answer recorded with a RELIABLE request's
 * acknowledgement (not in the call log) is counted too, and not asked again. The ledger keeps a few
 * totals however many calls it counts; an older ledger's per-call marks are deleted.
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

  private List<String> runChild(String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of(dir.toString()));
    args.addAll(List.of(more));
    try (ChildJvm child =
        ChildJvm.of(LedgerCrashChild.class, args.toArray(String[]::new))
            .errorTo(dir.resolve("child.err"))
            .start()) {
      List<String> lines = child.readToEnd();
      assertThat(child.waitFor(Duration.ofSeconds(180))).as("the child ends").isTrue();
      assertThat(child.exitValue()).as("SIGKILLed").isEqualTo(ChildJvm.SIGKILLED);
      return lines;
    }
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

  private static final AgentId LEDGER = AgentId.of("cfn-swarm-ledger", "team");

  @Test
  void aFinalAnswerRecordedWithTheAcknowledgementIsCountedAndNotAskedAgainAfterASigkill()
      throws Exception {
    try (ModelServer server = ModelServer.start()) {
      server
          .script()
          .on(Match.systemContains("You are the worker."))
          .reply(Reply.text("the one answer"));
      assertThat(runChild(server.openAiBaseUrl()))
          .containsExactly("ANSWERED the one answer SPENT 1");
      assertThat(server.received()).isEqualTo(1);
      try (SqliteCallLogStore calls = SqliteCallLogStore.open(dir.resolve("calls.db"))) {
        assertThat(calls.count())
            .as("the answer's record went with the acknowledgement, not to the call log")
            .isZero();
      }
      try (ModelProvider provider = LedgerCrashChild.server(server.openAiBaseUrl());
          LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 10, provider)) {
        assertThat(n.swarm().budget().spent().calls())
            .as("the answered call's spend is in the ledger")
            .isEqualTo(1);
        assertThat(n.swarm().budget().spent().totalTokens()).isPositive();
        assertThat(n.runtime().awaitDrained(Duration.ofSeconds(60))).isTrue();
        assertThat(server.received())
            .as("the acknowledged request is not handled again: no model call repeated")
            .isEqualTo(1);
        assertThat(LedgerCrashChild.askReliably(n.runtime(), "answer again"))
            .isEqualTo("the one answer");
        assertThat(n.swarm().budget().spent().calls()).isEqualTo(2);
        assertThat(server.received()).isEqualTo(2);
      }
    }
  }

  @Test
  void theLedgerKeepsAFewTotalsHoweverManyCallsAndRoundsItCounts() throws Exception {
    int tasks = 150;
    int rounds = 150;
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 1_000, null)) {
      for (int i = 0; i < tasks; i++) {
        assertThat(task(n.swarm(), "k" + i)).isEqualTo("done");
      }
      for (int i = 0; i < rounds; i++) {
        RoundResult r =
            n.swarm()
                .round(new Task("round " + i))
                .to(List.of(AgentId.of("worker", "1")))
                .deadline(Duration.ofSeconds(60))
                .start()
                .get(90, TimeUnit.SECONDS);
        assertThat(r.complete()).as("round %d answered", i).isTrue();
      }
      assertThat(n.model().calls.get()).isEqualTo(tasks + rounds);
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(tasks + rounds);
      n.swarm().awaitLedger(Duration.ofSeconds(60)); // durable when charged, applied just after
      assertThat(n.journal().stateByPrefix(LEDGER, "", Journal.MAX_PREFIX_ENTRIES))
          .as("four totals of the one model, no row per call")
          .containsOnlyKeys(
              "spent.calls.test-model",
              "spent.input.test-model",
              "spent.output.test-model",
              "spent.cached.test-model")
          .containsEntry("spent.calls.test-model", Integer.toString(tasks + rounds));
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 1_000, null)) {
      assertThat(n.swarm().budget().spent().calls())
          .as("the best-effort rounds' calls are restored with the keyed tasks'")
          .isEqualTo(tasks + rounds);
      assertThat(n.swarm().budget().spent().totalTokens())
          .isEqualTo((tasks + rounds) * (LedgerCrashChild.INPUT + LedgerCrashChild.OUTPUT));
      assertThat(task(n.swarm(), "k0")).isEqualTo("done");
      assertThat(n.model().calls.get()).as("k0 replayed from the call log").isZero();
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(tasks + rounds);

      n.swarm().deleteLedger();
      assertThat(n.journal().stateByPrefix(LEDGER, "", Journal.MAX_PREFIX_ENTRIES)).isEmpty();
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 1_000, null)) {
      assertThat(n.swarm().budget().spent().calls()).as("deleted: nothing restored").isZero();
    }
  }

  @Test
  void anOlderLedgersPerCallMarksAreDeletedWhenItsSwarmIsBuiltAgain() throws Exception {
    int marks = 2 * Ledger.COMPACT_BATCH + 500;
    // what the older ledger wrote: a mark per call beside the totals
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open();
        AgentRuntime rt =
            AgentRuntime.builder()
                .jvmMetrics(false)
                .journal(journal)
                .register(
                    AgentType.of(
                        Ledger.TYPE,
                        id ->
                            (m, ctx) -> {
                              for (int i = 0; i < marks; i++) {
                                ctx.effects().put("call." + String.format("%064x", i), "1");
                              }
                              ctx.effects().put("spent.calls.test-model", "7");
                              ctx.effects().put("spent.input.test-model", "700");
                              ctx.effects().put("spent.output.test-model", "140");
                              ctx.effects().put("spent.cached.test-model", "0");
                              ctx.reply("ok");
                            }))
                .build()) {
      rt.request(
              Envelope.to(LEDGER).delivery(DeliveryMode.RELIABLE).payload("older"),
              Duration.ofSeconds(60))
          .get(90, TimeUnit.SECONDS);
      assertThat(journal.stateByPrefix(LEDGER, "call.", Journal.MAX_PREFIX_ENTRIES)).hasSize(marks);
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 100, null)) {
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(7);
      assertThat(n.swarm().budget().spent().totalTokens()).isEqualTo(840);
      long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (!n.journal().stateByPrefix(LEDGER, "call.", 1).isEmpty()
          && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(n.journal().stateByPrefix(LEDGER, "", Journal.MAX_PREFIX_ENTRIES))
          .as("the marks deleted, the totals kept")
          .containsOnlyKeys(
              "spent.calls.test-model",
              "spent.input.test-model",
              "spent.output.test-model",
              "spent.cached.test-model");
    }
  }

  @Test
  void aChargeJournaledButNotAppliedWhenTheProcessDiedIsCountedWhenItsSwarmIsBuiltAgain()
      throws Exception {
    // no ledger agent on this runtime: the charge stays in the journal unhandled, as after a crash
    // between a charge request's append and its handling
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open();
        AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).journal(journal).build()) {
      rt.send(
          Envelope.to(LEDGER)
              .delivery(DeliveryMode.RELIABLE)
              .payload("spend\ntest-model\n100\n20\n0"));
    }
    try (LedgerCrashChild.Node n = LedgerCrashChild.Node.open(dir, 100, null)) {
      assertThat(n.swarm().budget().spent().calls())
          .as("recovered and applied before the restore read the ledger")
          .isEqualTo(1);
      assertThat(n.swarm().budget().spent().totalTokens()).isEqualTo(120);
    }
  }
}
