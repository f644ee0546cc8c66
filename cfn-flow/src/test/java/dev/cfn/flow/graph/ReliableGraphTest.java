package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABLE graphs on a real SQLite journal, in one process (the SIGKILL test is
 * ResumeAfterKillTest).
 */
class ReliableGraphTest {
  @TempDir Path dir;

  private SqliteJournal journal() {
    return SqliteJournal.builder(dir.resolve("cfn.db"))
        .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
        .open();
  }

  private AgentRuntime runtime(Workers workers) {
    AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal()).build();
    workers.register(rt);
    rt.register(Workers.tally());
    return rt;
  }

  static TaskGraph composed() {
    List<TaskSpec> parts = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int n = i;
      parts.add(TaskSpec.of("part-" + i).agent("tally").input(s -> "p" + n));
    }
    return TaskGraph.builder("composed")
        .sequence(
            TaskSpec.of("a").agent("upper").input(s -> s.get("word").orElseThrow()),
            TaskSpec.of("b").agent("echo").input(s -> s.result("a").orElseThrow()).writes("b"))
        .fanOutIn(
            "b",
            parts,
            TaskSpec.of("join")
                .agent("echo")
                .input(
                    s -> {
                      StringBuilder out = new StringBuilder();
                      for (int i = 0; i < 10; i++) {
                        out.append(s.result("part-" + i).orElseThrow()).append(' ');
                      }
                      return out.toString().trim();
                    }))
        .loop(
            TaskSpec.of("grow")
                .agent("echo")
                .after("join")
                .input(s -> s.result("grow").orElse("x")),
            (r, s) -> r.length() >= 3,
            5)
        .branch(
            "grow",
            s -> s.get("b").orElseThrow().startsWith("HI"),
            TaskSpec.of("yes").agent("upper").input("yes"),
            TaskSpec.of("no").agent("upper").input("no"))
        .build();
  }

  @Test
  void aComposedGraphRunsReliablyAndKeepsItsStateInTheJournal() throws Exception {
    Workers workers = new Workers();
    try (AgentRuntime rt = runtime(workers);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(composed()).build()) {
      RunOutcome o =
          runner.start("composed", "r1", Map.of("word", "hi")).outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(o.result("b")).isEqualTo("HI!");
      assertThat(o.result("join")).isEqualTo("p0#1 p1#1 p2#1 p3#1 p4#1 p5#1 p6#1 p7#1 p8#1 p9#1!");
      assertThat(o.result("grow")).isEqualTo("x!!");
      assertThat(o.tasks().get("grow").iterations()).isEqualTo(2);
      assertThat(o.tasks().get("no").status()).isEqualTo(TaskStatus.SKIPPED);
      assertThat(o.result("yes")).isEqualTo("YES");
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).as("nothing left pending").isEmpty();
      assertThat(j.state("cfn-flow-run/r1", "status")).contains("SUCCEEDED");
      assertThat(j.state("cfn-flow-run/r1", "r.join")).isPresent();
      assertThat(j.state("cfn-flow-run/r1", "s.b")).contains("HI!");
      for (int i = 0; i < 10; i++) {
        assertThat(j.state("tally/r1.part-" + i, "n")).as("part " + i + " ran once").contains("1");
      }
    }
    // The finished run's outcome is read back from the journal after a restart.
    try (AgentRuntime rt = runtime(new Workers());
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(composed()).build()) {
      RunOutcome again = runner.resume("r1").outcome().get(60, TimeUnit.SECONDS);
      assertThat(again.status()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(again.result("yes")).isEqualTo("YES");
      assertThat(again.state()).containsEntry("b", "HI!").containsEntry("word", "hi");
    }
  }

  @Test
  void reliableRetriesTimeoutsAndFailures() throws Exception {
    TaskGraph g =
        TaskGraph.builder("flaky")
            .task(TaskSpec.of("ok").agent("flaky").input("fail:2").retries(2, Duration.ofMillis(1)))
            .task(TaskSpec.of("bad").agent("flaky").input("fail:9").retries(1, Duration.ZERO))
            .task(
                TaskSpec.of("mute")
                    .agent("silent")
                    .timeout(Duration.ofMillis(100))
                    .retries(1, Duration.ZERO))
            .task(TaskSpec.of("after").agent("echo").after("bad"))
            .build();
    Workers workers = new Workers();
    try (AgentRuntime rt = runtime(workers);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(g).build()) {
      RunOutcome o = runner.start("flaky", "r1", Map.of()).outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.FAILED);
      assertThat(o.result("ok")).isEqualTo("ok after 3");
      assertThat(o.tasks().get("bad").error())
          .isEqualTo("failed after 2 attempts: ERROR: flaky attempt 2");
      assertThat(o.tasks().get("mute").error()).contains("attempt 2 had no answer within 100 ms");
      assertThat(o.tasks().get("after").status()).isEqualTo(TaskStatus.CANCELLED);
      Workers.eventually(
          () ->
              workers.transitions("ok").stream().filter(t -> t == Transition.RETRIED).count() == 2,
          "two retries of 'ok'");
    }
  }

  /**
   * Tasks under way at the same time on one agent: each reply names its request, so every task gets
   * its own answer, however the agent orders them.
   */
  @Test
  void parallelTasksOnOneAgentEachGetTheirOwnAnswer() throws Exception {
    TaskGraph.Builder b = TaskGraph.builder("shared");
    for (int i = 0; i < 20; i++) {
      b.task(TaskSpec.of("t" + i).agent(AgentId.of("echo", "shared")).input("in" + i));
    }
    Workers workers = new Workers();
    try (AgentRuntime rt = runtime(workers);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(b.build()).build()) {
      RunOutcome o = runner.start("shared", "r1", Map.of()).outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
      for (int i = 0; i < 20; i++) {
        assertThat(o.result("t" + i)).isEqualTo("in" + i + "!");
      }
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).as("nothing left pending").isEmpty();
      assertThat(j.state("cfn-flow-run/r1", "t.t7")).contains("SUCCEEDED|1|1|");
    }
  }

  @Test
  void aReliableRunCanBeCancelled() throws Exception {
    TaskGraph g =
        TaskGraph.builder("cancel")
            .task(TaskSpec.of("wait").agent("silent").timeout(Duration.ofMinutes(10)))
            .task(TaskSpec.of("after").agent("echo").after("wait"))
            .build();
    Workers workers = new Workers();
    try (AgentRuntime rt = runtime(workers);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(g).build()) {
      GraphRun run = runner.start("cancel", "r1", Map.of());
      Workers.eventually(() -> workers.transitions("wait").contains(Transition.RUNNING), "running");
      run.cancel();
      RunOutcome o = run.outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.CANCELLED);
      assertThat(o.tasks().get("after").status()).isEqualTo(TaskStatus.CANCELLED);
    }
  }
}
