package dev.cfn.ai.tool;

import static dev.cfn.testkit.process.LinuxProcess.awaitGone;
import static dev.cfn.testkit.process.LinuxProcess.parentOf;
import static dev.cfn.testkit.process.LinuxProcess.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.ai.internal.os.ParentWatch;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    long server = 0;
    try (ChildJvm cfn =
        ChildJvm.start(McpOrphanChild.class, script.toString(), pidFile.toString())) {
      try {
        String line = cfn.awaitLine(l -> l.startsWith("CONNECTED"));
        assertThat(line).as("the child JVM connected to the server").isEqualTo("CONNECTED 0");
        server = Long.parseLong(Files.readString(pidFile).trim());
        assertThat(running(server)).as("the server runs").isTrue();
        assertThat(parentOf(server)).as("a child of the cfn JVM").isEqualTo(cfn.pid());

        // SIGKILL: no shutdown hook runs, nothing closes the server
        assertThat(cfn.kill()).isTrue();

        if (!awaitGone(Duration.ofSeconds(60), server)) {
          fail("MCP server " + server + " still runs 60 s after its cfn process was SIGKILLed");
        }
      } finally {
        if (server > 0) {
          ProcessHandle.of(server).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
  }
}
