package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
import dev.cfn.core.InMemoryJournal;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

  /** An in-memory journal that fails the first {@link #toFail} batched commits of coordinators. */
  static final class FailingJournal implements Journal {
    final InMemoryJournal inner = new InMemoryJournal();
    final AtomicInteger toFail = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicInteger batched = new AtomicInteger(); // coordinator commits of 2+ messages
    final AtomicInteger finalToFail = new AtomicInteger(); // commits that end the run, to fail
    final AtomicInteger finalFailed = new AtomicInteger();
    // the run's outcome, watched: was it complete when a commit that ends the run failed?
    volatile CompletableFuture<RunOutcome> watched;
    final List<Boolean> doneAtFailedFinal = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** True (and counted) when {@code effects} end the run and such a commit is to fail. */
    private boolean failFinal(List<Effect> effects) {
      boolean ends =
          effects.stream()
              .anyMatch(
                  e ->
                      e instanceof Effect.Put p
                          && p.namespace().startsWith("cfn-flow-run/")
                          && p.key().equals("status")
                          && !p.value().equals("RUNNING"));
      if (ends && finalToFail.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        finalFailed.incrementAndGet();
        CompletableFuture<RunOutcome> w = watched;
        doneAtFailedFinal.add(w != null && w.isDone());
        return true;
      }
      return false;
    }

    @Override
    public boolean acknowledgesTogether() {
      return true;
    }

    @Override
    public CompletableFuture<Boolean> acknowledgeTogether(
        List<Envelope> messages, List<Effect> effects) {
      if (messages.size() > 1 && messages.getFirst().recipient().type().equals("cfn-flow-run")) {
        batched.incrementAndGet();
        if (toFail.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          failed.incrementAndGet();
          return CompletableFuture.failedFuture(new JournalException("the disk is full (test)"));
        }
      }
      if (failFinal(effects)) {
        return CompletableFuture.failedFuture(new JournalException("the disk is full (test)"));
      }
      return inner.acknowledgeTogether(messages, effects);
    }

    @Override
    public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
      if (failFinal(effects)) {
        return CompletableFuture.failedFuture(new JournalException("the disk is full (test)"));
      }
      return inner.acknowledge(message, effects);
    }

    @Override
    public List<JournalEntry> recover() {
      return inner.recover();
    }

    @Override
    public long highestId() {
      return inner.highestId();
    }

    @Override
    public void append(Envelope message) {
      inner.append(message);
    }

    @Override
    public CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error) {
      return inner.recordFailure(message, attempt, error);
    }

    @Override
    public CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause) {
      return inner.deadLetter(message, attempts, cause);
    }

    @Override
    public Optional<String> state(String namespace, String key) {
      return inner.state(namespace, key);
    }

    @Override
    public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
      return inner.stateByPrefix(namespace, prefix, limit);
    }

    @Override
    public Optional<Envelope> replayDeadLetter(long id) {
      return inner.replayDeadLetter(id);
    }

    @Override
    public boolean isAcknowledged(long id) {
      return inner.isAcknowledged(id);
    }

    @Override
    public void close() {
      inner.close();
    }
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
            "c",
            fan,
            TaskSpec.of("end")
                .agent("tally")
                .input(
                    s -> {
                      StringBuilder b = new StringBuilder();
                      for (int i = 0; i < FAN; i++) {
                        b.append(s.result("fan-" + i).orElseThrow()).append(' ');
                      }
                      return b.toString().trim();
                    }))
        .build();
  }

  /** The run's status in the journal at the moment each completion of its outcome is seen. */
  private static RunOutcome run(FailingJournal journal, AgentRuntime rt, List<String> seen)
      throws Exception {
    rt.register(
        AgentType.of(
            "tally",
            id ->
                TaskWorker.agent(
                    (in, ctx) -> {
                      int n = Integer.parseInt(ctx.effects().get("n").orElse("0")) + 1;
                      ctx.effects().put("n", Integer.toString(n));
                      return in + "#" + n;
                    })));
    try (GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph()).build()) {
      CompletableFuture<RunOutcome> outcome = runner.start("failing", "run-1", Map.of()).outcome();
      journal.watched = outcome;
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
    FailingJournal journal = new FailingJournal();
    journal.finalToFail.set(2);
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    RunOutcome o;
    try (AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal).build()) {
      o = run(journal, rt, seen);
    }
    assertThat(journal.finalFailed.get()).as("the commits that ended the run failed").isEqualTo(2);
    assertThat(journal.doneAtFailedFinal)
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
    FailingJournal journal = new FailingJournal();
    journal.toFail.set(3);
    TaskGraph graph = graph();
    RunOutcome o;
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal).build()) {
      o = run(journal, rt, seen);
      assertThat(journal.batched.get())
          .as("the coordinator committed batches of several messages")
          .isGreaterThan(0);
      assertThat(journal.failed.get()).as("batched commits failed").isGreaterThan(0);
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
