package dev.cfn.ai.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.ai.internal.os.ParentWatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process cfn =
        new ProcessBuilder(
                java,
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                ProcessAgentOrphanChild.class.getName(),
                script.toString(),
                pidFile.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    List<Long> pids = List.of();
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(cfn.getInputStream(), StandardCharsets.UTF_8));
      String line;
      do {
        line = out.readLine();
      } while (line != null && !line.startsWith("STARTED") && !line.startsWith("NOT STARTED"));
      assertThat(line).as("the child JVM started the agent's command").isEqualTo("STARTED");
      pids = Files.readAllLines(pidFile).stream().map(l -> Long.parseLong(l.trim())).toList();
      assertThat(pids).hasSize(2);
      long agent = pids.get(0);
      long child = pids.get(1);
      assertThat(running(agent) && running(child)).as("the command and its child run").isTrue();
      assertThat(parentOf(agent)).as("the command is a child of the cfn JVM").isEqualTo(cfn.pid());
      assertThat(fields(stat(agent))[3])
          .as("it leads a session of its own")
          .isEqualTo(Long.toString(agent));

      cfn.destroyForcibly(); // SIGKILL: no shutdown hook runs, nothing kills the command
      assertThat(cfn.waitFor(60, TimeUnit.SECONDS)).isTrue();

      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (running(agent) || running(child)) {
        if (System.nanoTime() - end > 0) {
          fail(
              "the agent's command "
                  + agent
                  + (running(agent) ? " (still running)" : "")
                  + " or its child "
                  + child
                  + (running(child) ? " (still running)" : "")
                  + " outlived its SIGKILLed cfn process by 60 s");
        }
        Thread.sleep(50);
      }
    } finally {
      cfn.destroyForcibly();
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  /** True while {@code pid} exists and is not a zombie (a zombie has exited). */
  private static boolean running(long pid) throws IOException {
    String stat = stat(pid);
    return stat != null && !fields(stat)[0].equals("Z");
  }

  private static long parentOf(long pid) throws IOException {
    String stat = stat(pid);
    return stat == null ? -1 : Long.parseLong(fields(stat)[1]);
  }

  private static String stat(long pid) throws IOException {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (java.nio.file.NoSuchFileException gone) {
      return null;
    }
  }

  /** The fields after the command name: state, parent, process group, session, ... */
  private static String[] fields(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }
}
