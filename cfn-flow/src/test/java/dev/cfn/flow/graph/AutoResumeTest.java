package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A RELIABLE run interrupted while it waits on a timer (a retry's backoff, which lives only in the
 * process) continues when a runner is built on a restarted runtime, without anyone calling {@link
 * GraphRunner#resume}: the runner resumes the runs its index lists.
 */
class AutoResumeTest {
  @TempDir Path dir;

  private SqliteJournal journal() {
    return SqliteJournal.builder(dir.resolve("cfn.db"))
        .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
        .open();
  }

  /** Fails its first attempt (counted across both runtimes), then answers. */
  private static AgentRuntime runtime(SqliteJournal journal, AtomicInteger attempts) {
    AgentRuntime rt = AgentRuntime.builder().carriers(2).journal(journal).build();
    rt.register(
        AgentType.of(
            "once-flaky",
            id ->
                TaskWorker.agent(
                    (in, ctx) -> {
                      if (attempts.incrementAndGet() == 1) {
                        throw new IllegalStateException("first attempt fails");
                      }
                      return in + " done";
                    })));
    return rt;
  }

  private static TaskGraph graph() {
    return TaskGraph.builder("backoff")
        .task(
            TaskSpec.of("work")
                .agent("once-flaky")
                .input("the work")
                .retries(1, Duration.ofSeconds(3)))
        .task(TaskSpec.of("after").agent("once-flaky").after("work").input("more"))
        .build();
  }

  @Test
  void aRunWaitingOnALostTimerResumesWhenTheRunnerIsBuiltAgain() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    SqliteJournal first = journal();
    try (AgentRuntime rt = runtime(first, attempts);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph()).build()) {
      runner.start("backoff", "r1", Map.of());
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      // the coordinator's row of the task: RUNNING, iteration 1, attempt 1 waiting out its backoff
      while (!first.state("cfn-flow-run/r1", "t.work").orElse("").startsWith("RUNNING|1|-1|")) {
        assertThat(System.nanoTime()).as("the first attempt failed in time").isLessThan(end);
        Thread.sleep(10);
      }
      // the runner (and its retry timer) goes away with the runtime, as in a crash
    }
    assertThat(attempts).hasValue(1);
    try (SqliteJournal j = journal()) {
      assertThat(j.state("cfn-flow-runs/index", "run.r1")).as("listed as unfinished").isPresent();
    }

    SqliteJournal second = journal();
    try (AgentRuntime rt = runtime(second, attempts);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph()).build()) {
      // no resume(): the runner found the run in its index
      RunOutcome o = runner.run("r1").outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(o.result("work")).isEqualTo("the work done");
      assertThat(o.result("after")).isEqualTo("more done");
      assertThat(attempts).as("1 failed attempt, then the retry and 'after'").hasValue(3);
    }
    try (SqliteJournal j = journal()) {
      assertThat(j.state("cfn-flow-run/r1", "status")).contains("SUCCEEDED");
      assertThat(j.state("cfn-flow-runs/index", "run.r1"))
          .as("a finished run is no longer listed")
          .isEmpty();
    }
  }
}
