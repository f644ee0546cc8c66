package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.testkit.journal.FaultyJournal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A RELIABLE run whose coordinator's batched commits fail (the disk, say): nothing of the batch is
 * committed, its messages come back one per turn to a coordinator that loads the committed run (the
 * runtime replaces the instance; the run's {@code seq}, now written once per turn, would tell a
 * kept instance that its memory is ahead of the journal), and the run still completes with every
 * task's effects applied once. The SIGKILL counterpart is ResumeAfterKillTest.
 */
class FailedCoordinatorCommitTest {
  static final int FAN = 80;

  /** A batched commit (two messages or more) of a run's coordinator. */
  static boolean batchedCoordinatorCommit(List<Envelope> messages) {
    return messages.size() > 1 && messages.getFirst().recipient().type().equals("cfn-flow-run");
  }

  /** A commit whose effects end the run: its status written as other than RUNNING. */
  static boolean endsTheRun(List<Effect> effects) {
    return effects.stream()
        .anyMatch(
            e ->
                e instanceof Effect.Put p
                    && p.namespace().startsWith("cfn-flow-run/")
                    && p.key().equals("status")
                    && !p.value().equals("RUNNING"));
  }

  /** A chain of 3, a fan-out of {@link #FAN} tally tasks after it, and a join. */
  static TaskGraph graph() {
    List<TaskSpec> fan = new ArrayList<>();
    for (int i = 0; i < FAN; i++) {
      fan.add(TaskSpec.of("fan-" + i).agent("tally").input("fan-" + i));
    }
    return TaskGraph.builder("failing")
        .sequence(
            TaskSpec.of("a").agent("tally").input("a"),
            TaskSpec.of("b").agent("tally").input("b"),
            TaskSpec.of("c").agent("tally").input("c"))
        .fanOutIn(
            "c", fan, TaskSpec.of("end").agent("tally").input(s -> Workers.fanResults(s, FAN)))
        .build();
  }

  /** The run's status in the journal at the moment each completion of its outcome is seen. */
  private static RunOutcome run(
      Journal journal,
      AgentRuntime rt,
      List<String> seen,
      AtomicReference<CompletableFuture<RunOutcome>> watched)
      throws Exception {
    rt.register(Workers.tally());
    try (GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph()).build()) {
      CompletableFuture<RunOutcome> outcome = runner.start("failing", "run-1", Map.of()).outcome();
      watched.set(outcome);
      // on the thread that completes it, at that moment: what a caller could read then
      outcome.thenRun(
          () -> seen.add(journal.state("cfn-flow-run/run-1", "status").orElse("(none)")));
      RunOutcome o = outcome.get(120, TimeUnit.SECONDS);
      seen.add(journal.state("cfn-flow-run/run-1", "status").orElse("(none)"));
      return o;
    }
  }

  @Test
  void anOutcomeIsSeenOnlyOnceTheRunsEndIsDurableAndAFailedLastCommitShowsNothing()
      throws Exception {
    // the run's outcome, watched: was it complete when a commit that ends the run failed?
    AtomicReference<CompletableFuture<RunOutcome>> watched = new AtomicReference<>();
    List<Boolean> doneAtFailedFinal = new CopyOnWriteArrayList<>();
    FaultyJournal journal =
        FaultyJournal.inMemory()
            .failNextWithEffects(2, (messages, effects) -> endsTheRun(effects))
            .onFailed(
                messages -> {
                  CompletableFuture<RunOutcome> w = watched.get();
                  doneAtFailedFinal.add(w != null && w.isDone());
                });
    List<String> seen = new CopyOnWriteArrayList<>();
    RunOutcome o;
    try (AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal).build()) {
      o = run(journal, rt, seen, watched);
    }
    assertThat(journal.failed()).as("the commits that ended the run failed").isEqualTo(2);
    assertThat(doneAtFailedFinal)
        .as("the outcome was not complete when a commit ending the run failed")
        .containsExactly(false, false);
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(seen)
        .as("the run's status in the journal whenever its outcome could be seen")
        .containsExactly("SUCCEEDED", "SUCCEEDED");
    for (String task : graph().taskIds()) {
      assertThat(journal.state("tally/run-1." + task, "n"))
          .as("executions of " + task + "'s effects")
          .contains("1");
    }
  }

  @Test
  void aRunWhoseBatchedCoordinatorCommitsFailStillAppliesEveryTaskOnceAndCompletes()
      throws Exception {
    AtomicInteger batched = new AtomicInteger(); // coordinator commits of 2+ messages
    FaultyJournal journal =
        FaultyJournal.inMemory()
            .failNext(3, FailedCoordinatorCommitTest::batchedCoordinatorCommit)
            .onCommit(
                messages -> {
                  if (batchedCoordinatorCommit(messages)) {
                    batched.incrementAndGet();
                  }
                });
    TaskGraph graph = graph();
    RunOutcome o;
    List<String> seen = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal).build()) {
      o = run(journal, rt, seen, new AtomicReference<>());
      assertThat(batched.get())
          .as("the coordinator committed batches of several messages")
          .isGreaterThan(0);
      assertThat(journal.failed()).as("batched commits failed").isGreaterThan(0);
      assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(o.tasks().values()).allMatch(t -> t.status() == TaskStatus.SUCCEEDED);
      for (String task : graph.taskIds()) {
        if (!task.equals("end")) {
          assertThat(o.result(task)).as(task).isEqualTo(task + "#1");
        }
        assertThat(journal.state("tally/run-1." + task, "n"))
            .as("executions of " + task + "'s effects")
            .contains("1");
      }
      assertThat(o.result("end")).doesNotContain("#2").endsWith("#1");
      // the outcome completes once the turn that ended the run committed, not before
      assertThat(seen).containsExactly("SUCCEEDED", "SUCCEEDED");
    }
  }
}
