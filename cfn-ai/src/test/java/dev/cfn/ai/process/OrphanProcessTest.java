package dev.cfn.ai.process;

import static dev.cfn.ai.process.ProcessTestSupport.WAIT;
import static dev.cfn.ai.process.ProcessTestSupport.ask;
import static dev.cfn.ai.process.ProcessTestSupport.eventually;
import static dev.cfn.ai.process.ProcessTestSupport.pids;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.process.ProcessResult.Outcome;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 9: processes a command orphans (a background job, a double fork into a session of
 * its own) do not outlive the run, the timeout or the runtime, and the kill report counts what
 * died. "Gone" here is strict: {@link ProcessHandle#of} finds no such process, not even a zombie.
 */
class OrphanProcessTest {
  private static final AgentId ID = AgentId.of("proc", "1");

  private static boolean reallyGone(long pid) {
    return ProcessHandle.of(pid).isEmpty();
  }

  @Test
  void a_background_job_does_not_outlive_its_run(@TempDir Path dir) {
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "sleep 301 & echo $! > \"$PIDS\"")
            .env("PIDS", pidFile.toString())
            .timeout(Duration.ofSeconds(20))
            .build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      ProcessResult r = ask(rt, ID, "");

      // COMPLETED when the JDK closed stdout at the exit of sh, TIMED_OUT when the job held it
      assertThat(r.outcome()).isIn(Outcome.COMPLETED, Outcome.TIMED_OUT);
      assertThat(reallyGone(pids(pidFile, 1).getFirst())).as("sleep 301 after the reply").isTrue();
    }
  }

  @Test
  void an_orphan_in_its_own_session_does_not_outlive_the_runtime(@TempDir Path dir) {
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder(
                "sh",
                "-c",
                "(setsid sleep 306 >/dev/null 2>&1 & echo $! > \"$PIDS\"); exec sleep 305")
            .env("PIDS", pidFile.toString())
            .timeout(Duration.ofMinutes(5))
            .build();
    long orphan;
    AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec));
    try {
      rt.send(ID, "");
      orphan = pids(pidFile, 1).getFirst();
      eventually(() -> matching("sleep 306").contains(orphan), "sleep 306 runs");
      eventually(() -> !matching("sleep 305").isEmpty(), "sleep 305 runs");
    } finally {
      rt.shutdown(Duration.ofMillis(100)); // the run is still going: the agent's stop kills it
    }
    assertThat(reallyGone(orphan)).as("sleep 306 when the shutdown returned").isTrue();
    assertThat(matching("sleep 305")).isEmpty();
  }

  @Test
  void a_detached_background_job_is_killed_when_the_command_exits(@TempDir Path dir) {
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "sleep 302 >/dev/null 2>&1 & echo $! > \"$PIDS\"")
            .env("PIDS", pidFile.toString())
            .build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      ProcessResult r = ask(rt, ID, "");

      assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(reallyGone(pids(pidFile, 1).getFirst()))
          .as("sleep 302, left behind by a completed run")
          .isTrue();
    }
  }

  @Test
  void a_double_fork_into_its_own_session_is_killed_at_the_timeout_and_counted(@TempDir Path dir) {
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder(
                "sh",
                "-c",
                "(setsid sh -c 'echo $$ >> \"$PIDS\"; exec sleep 303' >/dev/null 2>&1 &);"
                    + " echo $$ >> \"$PIDS\"; sleep 304")
            .env("PIDS", pidFile.toString())
            .timeout(Duration.ofSeconds(3))
            .build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      var reply = rt.request(ID, "", WAIT);
      List<Long> pids = pids(pidFile, 2);
      eventually(() -> !matching("sleep 303").isEmpty(), "sleep 303 runs");
      eventually(() -> !matching("sleep 304").isEmpty(), "sleep 304 runs");
      assertThat(ProcessHandle.of(matching("sleep 303").iterator().next()).orElseThrow().parent())
          .as("re-parented to the JVM, the subreaper")
          .contains(ProcessHandle.current());
      Set<Long> alive = matching("sleep 303");
      alive.addAll(matching("sleep 304"));
      alive.addAll(pids.stream().filter(p -> ProcessHandle.of(p).isPresent()).toList());

      ProcessResult r = reply.join().payload(ProcessResult.class);

      assertThat(r.outcome()).isEqualTo(Outcome.TIMED_OUT);
      Matcher m =
          Pattern.compile("process tree \\((\\d+) processes\\) was killed").matcher(r.detail());
      assertThat(m.find()).as(r.detail()).isTrue();
      assertThat(Integer.parseInt(m.group(1)))
          .as("the report counts what died")
          .isEqualTo(alive.size());
      assertThat(alive).allSatisfy(pid -> assertThat(reallyGone(pid)).as("pid %d", pid).isTrue());
      assertThat(matching("sleep 303")).isEmpty();
    }
  }

  /** Pids of this JVM's running descendants that are exactly {@code sleep N}. */
  private static Set<Long> matching(String sleep) {
    String seconds = sleep.substring("sleep ".length());
    return ProcessHandle.current()
        .descendants()
        .filter(ProcessTree::running)
        .filter(
            h ->
                h.info().command().orElse("").endsWith("/sleep")
                    && List.of(h.info().arguments().orElse(new String[0])).equals(List.of(seconds)))
        .map(ProcessHandle::pid)
        .collect(Collectors.toCollection(java.util.HashSet::new));
  }
}
