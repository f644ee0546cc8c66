package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** BEST_EFFORT graphs: the compositions, failures and retries, cancellation, deadlines, events. */
class GraphRunnerTest {
  private AgentRuntime rt;
  private Workers workers;
  private boolean used;

  @BeforeEach
  void setUp() {
    rt = AgentRuntime.builder().carriers(2).build();
    workers = new Workers().register(rt);
  }

  @AfterEach
  void tearDown() {
    rt.close();
  }

  /** Runs {@code g} as run r1 on a runner of its own (one runner per runtime). */
  private RunOutcome run(TaskGraph g, Map<String, String> state) throws Exception {
    if (used) {
      rt.close();
      rt = AgentRuntime.builder().carriers(2).build();
      workers = new Workers().register(rt);
    }
    used = true;
    try (GraphRunner runner = GraphRunner.builder(rt).graph(g).build()) {
      return runner.start(g.name(), "r1", state).outcome().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSequencePassesEachResultToTheNext() throws Exception {
    TaskGraph g =
        TaskGraph.builder("seq")
            .sequence(
                TaskSpec.of("a").agent("upper").input(s -> s.get("word").orElseThrow()),
                TaskSpec.of("b").agent("echo").input(s -> s.result("a").orElseThrow()),
                TaskSpec.of("c")
                    .agent("echo")
                    .input(s -> s.result("b").orElseThrow())
                    .writes("out"))
            .build();
    RunOutcome o = run(g, Map.of("word", "hi"));
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(o.result("c")).isEqualTo("HI!!");
    assertThat(o.state()).containsEntry("out", "HI!!").containsEntry("word", "hi");
    Workers.eventually(() -> workers.transitions("b").contains(Transition.SUCCEEDED), "b's events");
    assertThat(workers.transitions("b"))
        .containsExactly(
            Transition.QUEUED, Transition.ASSIGNED, Transition.RUNNING, Transition.SUCCEEDED);
  }

  @Test
  void aFanOutOfTenJoinsEveryResult() throws Exception {
    List<TaskSpec> branches = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int n = i;
      branches.add(TaskSpec.of("part-" + i).agent("upper").input(s -> "p" + n));
    }
    TaskGraph g =
        TaskGraph.builder("fan")
            .task(TaskSpec.of("plan").agent("echo").input("plan"))
            .fanOutIn(
                "plan",
                branches,
                TaskSpec.of("join")
                    .agent("echo")
                    .input(
                        s -> {
                          StringBuilder b = new StringBuilder();
                          for (int i = 0; i < 10; i++) {
                            b.append(s.result("part-" + i).orElseThrow());
                          }
                          return b.toString();
                        }))
            .build();
    RunOutcome o = run(g, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(o.result("join")).isEqualTo("P0P1P2P3P4P5P6P7P8P9!");
    assertThat(o.tasks()).hasSize(12);
  }

  @Test
  void aLoopRepeatsUntilItsExitConditionAndFailsAtItsBound() throws Exception {
    TaskGraph exits =
        TaskGraph.builder("loop")
            .loop(
                TaskSpec.of("grow").agent("echo").input(s -> s.result("grow").orElse("x")),
                (result, s) -> result.length() >= 4,
                10)
            .build();
    RunOutcome o = run(exits, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(o.result("grow")).isEqualTo("x!!!");
    assertThat(o.tasks().get("grow").iterations()).isEqualTo(3);

    TaskGraph bounded =
        TaskGraph.builder("bounded")
            .loop(
                TaskSpec.of("grow").agent("echo").input(s -> s.result("grow").orElse("x")),
                (result, s) -> false,
                5)
            .task(TaskSpec.of("after").agent("echo").after("grow"))
            .build();
    RunOutcome b = run(bounded, Map.of());
    assertThat(b.status()).isEqualTo(RunStatus.FAILED);
    assertThat(b.tasks().get("grow").status()).isEqualTo(TaskStatus.FAILED);
    assertThat(b.tasks().get("grow").iterations()).isEqualTo(5);
    assertThat(b.tasks().get("grow").error()).contains("bound of 5 iterations");
    assertThat(b.result("grow")).isEqualTo("x!!!!!"); // a loop at its bound keeps its last result
    assertThat(b.tasks().get("after").status()).isEqualTo(TaskStatus.CANCELLED);
  }

  @Test
  void aBranchRunsOneSideAndTheJoinRunsAfterEither() throws Exception {
    TaskGraph g =
        TaskGraph.builder("branch")
            .task(
                TaskSpec.of("check")
                    .agent("echo")
                    .input(s -> s.get("mode").orElseThrow())
                    .writes("checked"))
            .branch(
                "check",
                s -> s.get("checked").orElseThrow().equals("fast!"),
                TaskSpec.of("fast").agent("upper").input("fast path"),
                TaskSpec.of("slow").agent("upper").input("slow path"))
            .task(
                TaskSpec.of("end")
                    .agent("echo")
                    .after("fast", "slow")
                    .input(s -> s.result("fast").or(() -> s.result("slow")).orElseThrow()))
            .build();
    RunOutcome fast = run(g, Map.of("mode", "fast"));
    assertThat(fast.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(fast.tasks().get("slow").status()).isEqualTo(TaskStatus.SKIPPED);
    assertThat(fast.result("end")).isEqualTo("FAST PATH!");
    RunOutcome slow = run(g, Map.of("mode", "other"));
    assertThat(slow.tasks().get("fast").status()).isEqualTo(TaskStatus.SKIPPED);
    assertThat(slow.result("end")).isEqualTo("SLOW PATH!");
  }

  @Test
  void aFailingTaskIsRetriedAndSucceedsWithinItsRetries() throws Exception {
    TaskGraph g =
        TaskGraph.builder("retry")
            .task(TaskSpec.of("t").agent("flaky").input("fail:2").retries(2, Duration.ofMillis(1)))
            .build();
    RunOutcome o = run(g, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(o.result("t")).isEqualTo("ok after 3");
    Workers.eventually(() -> workers.transitions("t").contains(Transition.SUCCEEDED), "t's events");
    assertThat(workers.transitions("t")).filteredOn(t -> t == Transition.RETRIED).hasSize(2);
  }

  @Test
  void aTaskFailingAfterItsRetriesFailsTheRunAndCancelsItsDependents() throws Exception {
    TaskGraph g =
        TaskGraph.builder("fails")
            .task(TaskSpec.of("t").agent("flaky").input("fail:5").retries(1, Duration.ZERO))
            .task(TaskSpec.of("next").agent("echo").after("t"))
            .task(TaskSpec.of("other").agent("echo").input("independent"))
            .build();
    RunOutcome o = run(g, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.FAILED);
    assertThat(o.tasks().get("t").status()).isEqualTo(TaskStatus.FAILED);
    assertThat(o.tasks().get("t").error()).contains("flaky attempt 2");
    assertThat(o.tasks().get("next").status()).isEqualTo(TaskStatus.CANCELLED);
    assertThat(o.tasks().get("next").error()).contains("dependency 't' failed");
    assertThat(o.tasks().get("other").status()).isEqualTo(TaskStatus.SUCCEEDED);
    assertThat(workers.attempts.get("flaky/r1.t").get()).isEqualTo(2);
  }

  @Test
  void anAttemptWithoutAnAnswerTimesOutAndIsRetried() throws Exception {
    TaskGraph g =
        TaskGraph.builder("timeout")
            .task(
                TaskSpec.of("t")
                    .agent("silent")
                    .timeout(Duration.ofMillis(50))
                    .retries(1, Duration.ZERO))
            .build();
    RunOutcome o = run(g, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.FAILED);
    assertThat(o.tasks().get("t").error()).contains("no reply");
    Workers.eventually(() -> workers.transitions("t").contains(Transition.FAILED), "t failed");
    assertThat(workers.transitions("t")).containsOnlyOnce(Transition.RETRIED);
  }

  @Test
  void cancellingATaskOrARunStopsIt() throws Exception {
    TaskGraph g =
        TaskGraph.builder("cancel")
            .task(TaskSpec.of("wait").agent("silent").timeout(Duration.ofMinutes(10)))
            .task(TaskSpec.of("after").agent("echo").after("wait"))
            .build();
    try (GraphRunner runner = GraphRunner.builder(rt).graph(g).build()) {
      GraphRun one = runner.start("cancel", "c1", Map.of());
      Workers.eventually(() -> workers.transitions("wait").contains(Transition.RUNNING), "running");
      one.cancel("wait");
      RunOutcome o = one.outcome().get(30, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.CANCELLED);
      assertThat(o.tasks().get("wait").status()).isEqualTo(TaskStatus.CANCELLED);
      assertThat(o.tasks().get("after").status()).isEqualTo(TaskStatus.CANCELLED);

      GraphRun two = runner.start("cancel", "c2", Map.of());
      two.cancel();
      RunOutcome t = two.outcome().get(30, TimeUnit.SECONDS);
      assertThat(t.status()).isEqualTo(RunStatus.CANCELLED);
      assertThat(t.tasks().values()).allMatch(x -> x.status() == TaskStatus.CANCELLED);
    }
    Workers.eventually(
        () ->
            workers.events.stream()
                .anyMatch(e -> e.run() == RunStatus.CANCELLED && "c2".equals(e.runId())),
        "the run's cancelled event");
  }

  @Test
  void aRunPastItsDeadlineIsCancelled() throws Exception {
    TaskGraph g =
        TaskGraph.builder("late")
            .task(TaskSpec.of("wait").agent("silent").timeout(Duration.ofMinutes(10)))
            .deadline(Duration.ofMillis(100))
            .build();
    RunOutcome o = run(g, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(o.tasks().get("wait").error()).contains("deadline");
  }

  @Test
  void anInputOrConditionThatThrowsFailsItsTaskNotTheRun() throws Exception {
    TaskGraph g =
        TaskGraph.builder("throws")
            .task(TaskSpec.of("bad").agent("echo").input(s -> s.get("missing").orElseThrow()))
            .task(
                TaskSpec.of("cond")
                    .agent("echo")
                    .when(
                        s -> {
                          throw new IllegalStateException("boom");
                        }))
            .task(TaskSpec.of("good").agent("echo").input("fine"))
            .build();
    RunOutcome o = run(g, Map.of());
    assertThat(o.status()).isEqualTo(RunStatus.FAILED);
    assertThat(o.tasks().get("bad").error())
        .startsWith("the input of task 'bad' threw java.util.NoSuchElementException");
    assertThat(o.tasks().get("cond").error())
        .isEqualTo("the condition of task 'cond' threw java.lang.IllegalStateException: boom");
    assertThat(o.result("good")).isEqualTo("fine!");
  }
}
