package dev.cfn.ai.process;

import static dev.cfn.testkit.process.LinuxProcess.awaitGone;
import static dev.cfn.testkit.process.LinuxProcess.parentOf;
import static dev.cfn.testkit.process.LinuxProcess.running;
import static dev.cfn.testkit.process.LinuxProcess.sessionOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.ai.internal.os.ParentWatch;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: a process agent's command (a CLI agent such as {@code claude -p}) does not outlive a
 * cfn process killed with SIGKILL, which runs no shutdown hook. A child JVM ({@link
 * ProcessAgentOrphanChild}) runs a process agent whose command ignores SIGTERM, SIGHUP and the end
 * of its input and has started a child of its own; the test SIGKILLs the child JVM, and both
 * processes are gone soon after (the command's parent watch kills its process group once the
 * command is re-parented). The wait is a safety net, not a measurement.
 */
@EnabledOnOs(OS.LINUX)
class ProcessAgentDiesWithTheJvmTest {
  /** Writes its pid and its child's, then never exits on its own. */
  private static final String STUBBORN_AGENT =
      """
      trap '' TERM HUP INT
      echo $$ >> "$PIDS.tmp"
      (trap '' TERM HUP INT; while :; do sleep 1; done) </dev/null >/dev/null 2>&1 &
      echo $! >> "$PIDS.tmp"
      mv "$PIDS.tmp" "$PIDS"
      while :; do sleep 1; done
      """;

  @TempDir Path dir;

  @Test
  void aCommandThatIgnoresSigtermDiesWithASigkilledJvmAndSoDoesItsChild() throws Exception {
    assumeTrue(ParentWatch.available() && SessionLauncher.available(), "needs /proc, sh, setsid");
    Path script = dir.resolve("stubborn-agent.sh");
    Files.writeString(script, STUBBORN_AGENT);
    Path pidFile = dir.resolve("agent.pids");
    List<Long> pids = List.of();
    try (ChildJvm cfn =
        ChildJvm.start(ProcessAgentOrphanChild.class, script.toString(), pidFile.toString())) {
      try {
        String line = cfn.awaitLine(l -> l.startsWith("STARTED") || l.startsWith("NOT STARTED"));
        assertThat(line).as("the child JVM started the agent's command").isEqualTo("STARTED");
        pids = Files.readAllLines(pidFile).stream().map(l -> Long.parseLong(l.trim())).toList();
        assertThat(pids).hasSize(2);
        long agent = pids.get(0);
        long child = pids.get(1);
        assertThat(running(agent) && running(child)).as("the command and its child run").isTrue();
        assertThat(parentOf(agent))
            .as("the command is a child of the cfn JVM")
            .isEqualTo(cfn.pid());
        assertThat(sessionOf(agent)).as("it leads a session of its own").isEqualTo(agent);

        // SIGKILL: no shutdown hook runs, nothing kills the command
        assertThat(cfn.kill()).isTrue();

        if (!awaitGone(Duration.ofSeconds(60), agent, child)) {
          fail(
              "the agent's command "
                  + agent
                  + (running(agent) ? " (still running)" : "")
                  + " or its child "
                  + child
                  + (running(child) ? " (still running)" : "")
                  + " outlived its SIGKILLed cfn process by 60 s");
        }
      } finally {
        for (long pid : pids) {
          ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
  }
}
