package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.process.ChildJvm;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A RELIABLE graph run in a child JVM is killed with SIGKILL in the middle, twice (the second time
 * while it resumes), then resumed here: it completes, and every task's effects were applied exactly
 * once (each worker's execution counter in the journal is 1, and every result says so).
 */
class ResumeAfterKillTest {
  @TempDir Path dir;

  /**
   * Runs the child until it has seen {@code successes} successes, when it SIGKILLs itself (a parent
   * reading its output late could kill it too late, after the run finished).
   */
  private int runAndKill(Path db, String mode, int successes) throws Exception {
    return runAndKill(db, mode, successes, GraphCrashChild.FAN);
  }

  private int runAndKill(Path db, String mode, int successes, int fan) throws Exception {
    AtomicInteger ok = new AtomicInteger();
    AtomicReference<String> done = new AtomicReference<>();
    try (ChildJvm child =
        ChildJvm.of(
                GraphCrashChild.class,
                db.toString(),
                mode,
                Integer.toString(fan),
                Integer.toString(successes))
            .errorTo(dir.resolve("child-" + mode + ".err"))
            .start()) {
      Thread reader =
          child.readInBackground(
              line -> {
                if (line.startsWith("OK ")) {
                  ok.incrementAndGet();
                } else if (line.startsWith("DONE")) {
                  done.set(line);
                }
              });
      try {
        assertThat(child.waitFor(Duration.ofSeconds(120)))
            .as("the child killed itself (see %s)", dir)
            .isTrue();
        reader.join(10_000);
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(ChildJvm.SIGKILLED);
        assertThat(done.get())
            .as("the child was still mid-graph when killed (%d successes seen)", ok.get())
            .isNull();
      } finally {
        child.kill();
        reader.join(10_000);
      }
    }
    return ok.get();
  }

  /**
   * The same with a fan-out of 150 tasks answering at about the same time, so that the coordinator
   * takes its messages in batches (one commit for many) when the kills land: every task still runs
   * exactly once and the run completes.
   */
  @Test
  void aWideRunWhoseCoordinatorCommitsInBatchesIsKilledTwiceAndStillAppliesEveryTaskOnce()
      throws Exception {
    int fan = 150;
    Path db = dir.resolve("wide.db");
    // each child is killed while the run is still going (checked in runAndKill); the successes
    // seen are not summed: a success published before a kill and not committed is seen again
    runAndKill(db, "start", GraphCrashChild.CHAIN + 40, fan);
    runAndKill(db, "resume", 40, fan);
    TaskGraph graph = GraphCrashChild.graph(fan);
    PrintStream quiet =
        new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    RunOutcome o;
    try (AgentRuntime rt = GraphCrashChild.runtime(db, quiet);
        GraphRunner runner = GraphRunner.builder(rt).reliable().graph(graph).build()) {
      o = runner.resume("run-1").outcome().get(300, TimeUnit.SECONDS);
    }
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(o.tasks().values()).allMatch(t -> t.status() == TaskStatus.SUCCEEDED);
    for (String task : graph.taskIds()) {
      if (!task.equals("end")) {
        assertThat(o.result(task)).as(task).isEqualTo(task + "#1");
      }
    }
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      assertThat(j.recover()).as("nothing left pending").isEmpty();
      for (String task : graph.taskIds()) {
        assertThat(j.state("tally/run-1." + task, "n"))
            .as("executions of " + task + "'s effects")
            .contains("1");
      }
    }
  }

  @Test
  void aRunKilledTwiceResumesWhereItStoppedAndAppliesNoTaskTwice() throws Exception {
    Path db = dir.resolve("cfn.db");
    int first = runAndKill(db, "start", 5);
    int second = runAndKill(db, "resume", 5);
    int total = GraphCrashChild.CHAIN + GraphCrashChild.FAN + 1;
    assertThat(first + second).isLessThan(total);

    PrintStream quiet =
        new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    RunOutcome o;
    try (AgentRuntime rt = GraphCrashChild.runtime(db, quiet);
        GraphRunner runner =
            GraphRunner.builder(rt).reliable().graph(GraphCrashChild.graph()).build()) {
      o = runner.resume("run-1").outcome().get(120, TimeUnit.SECONDS);
    }
    assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(o.tasks().values()).allMatch(t -> t.status() == TaskStatus.SUCCEEDED);
    for (String task : GraphCrashChild.graph().taskIds()) {
      if (!task.equals("end")) {
        assertThat(o.result(task)).as(task).isEqualTo(task + "#1");
      }
    }
    assertThat(o.result("end")).doesNotContain("#2").endsWith("#1");
    try (SqliteJournal j = SqliteJournal.builder(db).open()) {
      assertThat(j.recover()).as("nothing left pending").isEmpty();
      for (String task : GraphCrashChild.graph().taskIds()) {
        assertThat(j.state("tally/run-1." + task, "n"))
            .as("executions of " + task + "'s effects")
            .contains("1");
      }
    }
  }
}
