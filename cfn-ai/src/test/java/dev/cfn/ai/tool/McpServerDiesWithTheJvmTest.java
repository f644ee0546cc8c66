package dev.cfn.ai.tool;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stdio MCP server that ignores the end of its input (and SIGTERM) does not outlive a cfn process
 * killed with SIGKILL, which runs no shutdown hook: a child JVM ({@link McpOrphanChild}) connects
 * to such a server (a small shell script), the test SIGKILLs the child JVM, and the server is gone
 * soon after (its watcher kills it once it is re-parented).
 */
@EnabledOnOs(OS.LINUX)
class McpServerDiesWithTheJvmTest {
  /** An MCP server that answers the handshake and listing, then never exits on its own. */
  private static final String STUBBORN_SERVER =
      """
      trap '' TERM HUP INT
      echo $$ > "$1"
      while IFS= read -r line; do
        id=$(printf '%s\\n' "$line" | sed -n 's/.*"id":\\([^,}]*\\).*/\\1/p')
        version=$(printf '%s\\n' "$line" | sed -n 's/.*"protocolVersion":"\\([^"]*\\)".*/\\1/p')
        case "$line" in
          *'"method":"initialize"'*)
            printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"%s",\
      "capabilities":{"tools":{}},"serverInfo":{"name":"stubborn","version":"1"}}}\\n' \
              "$id" "$version" ;;
          *'"method":"tools/list"'*)
            printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[]}}\\n' "$id" ;;
        esac
      done
      while :; do sleep 1; done
      """;

  @TempDir Path dir;

  @Test
  void aServerThatIgnoresTheEndOfItsInputDiesWithASigkilledJvm() throws Exception {
    assumeTrue(ParentWatch.available(), "needs /proc and /bin/sh");
    Path script = dir.resolve("stubborn-mcp.sh");
    Files.writeString(script, STUBBORN_SERVER);
    Path pidFile = dir.resolve("server.pid");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process cfn =
        new ProcessBuilder(
                java,
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                McpOrphanChild.class.getName(),
                script.toString(),
                pidFile.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    long server = 0;
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(cfn.getInputStream(), StandardCharsets.UTF_8));
      String line;
      do {
        line = out.readLine();
      } while (line != null && !line.startsWith("CONNECTED"));
      assertThat(line).as("the child JVM connected to the server").isEqualTo("CONNECTED 0");
      server = Long.parseLong(Files.readString(pidFile).trim());
      assertThat(running(server)).as("the server runs").isTrue();
      assertThat(parentOf(server)).as("a child of the cfn JVM").isEqualTo(cfn.pid());

      cfn.destroyForcibly(); // SIGKILL: no shutdown hook runs, nothing closes the server
      assertThat(cfn.waitFor(60, TimeUnit.SECONDS)).isTrue();

      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (running(server)) {
        if (System.nanoTime() - end > 0) {
          fail("MCP server " + server + " still runs 60 s after its cfn process was SIGKILLed");
        }
        Thread.sleep(50);
      }
    } finally {
      cfn.destroyForcibly();
      if (server > 0) {
        ProcessHandle.of(server).ifPresent(ProcessHandle::destroyForcibly);
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

  /** The fields after the command name: state, parent, process group, ... */
  private static String[] fields(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }
}
