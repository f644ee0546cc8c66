package dev.cfn.ai.process;

import static dev.cfn.ai.process.ProcessTestSupport.ask;
import static dev.cfn.ai.process.ProcessTestSupport.eventually;
import static dev.cfn.ai.process.ProcessTestSupport.pids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.cfn.ai.internal.os.Linux;
import dev.cfn.ai.internal.os.OrphanReaper;
import dev.cfn.ai.internal.os.ParentProcess;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Orphans re-parented to the JVM (a child subreaper) that exit on their own are reaped, not left as
 * zombies until the JVM exits; children the JDK started are never reaped behind its back (their
 * exit codes stay right).
 */
class OrphanReaperTest {
  private static final AgentId ID = AgentId.of("proc", "1");

  /** True when no process {@code pid} exists any more, not even a zombie. */
  private static boolean noProcess(long pid) {
    return !Files.exists(Path.of("/proc", Long.toString(pid)));
  }

  @Test
  void an_orphan_that_exits_while_the_run_goes_on_is_reaped(@TempDir Path dir) {
    assumeThat(Linux.available()).as("needs Linux").isTrue();
    Path pidFile = dir.resolve("pids");
    // the subshell forks sleep 0.2 and exits at once: sleep is re-parented to the JVM and exits
    // on its own while the run still goes on, so no kill of the run's tree ever touches it
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "(sleep 0.2 & echo $! > \"$PIDS\"); exec sleep 60")
            .env("PIDS", pidFile.toString())
            .timeout(Duration.ofMinutes(2))
            .build();
    AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec));
    try {
      rt.send(ID, "");
      long orphan = pids(pidFile, 1).getFirst();
      assertThat(ParentProcess.isSubreaper()).isTrue();

      eventually(() -> noProcess(orphan), "the exited orphan " + orphan + " reaped");
    } finally {
      rt.shutdown(Duration.ofMillis(100));
    }
  }

  @Test
  void the_orphan_of_a_completed_run_is_reaped_after_it_exits(@TempDir Path dir) {
    assumeThat(Linux.available()).as("needs Linux").isTrue();
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "(sleep 0.2 & echo $! > \"$PIDS\"); exit 0")
            .env("PIDS", pidFile.toString())
            .build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      ask(rt, ID, "");
      long orphan = pids(pidFile, 1).getFirst();

      eventually(() -> noProcess(orphan), "the orphan " + orphan + " reaped");
    }
  }

  @Test
  void children_the_jdk_started_keep_their_exit_codes_while_orphans_are_reaped() throws Exception {
    assumeThat(Linux.available()).as("needs Linux").isTrue();
    ParentProcess.prepareForChildren();
    AtomicBoolean stop = new AtomicBoolean();
    Thread reaper =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!stop.get()) {
                    OrphanReaper.reapOrphans(); // as often as it can, to race the JDK's reaper
                  }
                });
    try {
      List<Process> started = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        // in the JVM's session, and leading a session of its own: both as the JDK starts them
        List<String> command =
            i % 2 == 0 ? List.of("sh", "-c", "exit 7") : List.of("setsid", "sh", "-c", "exit 7");
        started.add(new ProcessBuilder(command).start());
      }
      for (Process p : started) {
        assertThat(p.waitFor()).as("exit code of pid %d", p.pid()).isEqualTo(7);
      }
    } finally {
      stop.set(true);
      reaper.join();
    }
  }
}
