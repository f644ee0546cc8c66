package dev.cfn.server.mcp;

import dev.cfn.core.spi.MemoryAccessor;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * The cfn MCP server in a child JVM for the tests, as {@code cfn mcp serve} runs it: the protocol
 * on the real standard output, everything else sent to standard error. Arguments: HOME ALLOW
 * MEMORY_AS (ALLOW a comma-separated list, or {@code -} for none). Each tool call is appended to
 * {@code HOME/audit.log}, one line per call: tool, outcome, detail.
 */
public final class StdioServerMain {
  private StdioServerMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream protocol = System.out;
    System.setOut(System.err);
    Path home = Path.of(args[0]);
    Path auditLog = home.resolve("audit.log");
    McpSettings settings =
        new McpSettings(
            home,
            List.of(home.resolve(McpSettings.DEFAULT_AGENTS)),
            args[1].equals("-") ? java.util.Set.of() : McpPermission.parse(args[1]),
            MemoryAccessor.agent(args[2]),
            Map.of());
    McpAudit audit =
        call -> {
          synchronized (StdioServerMain.class) {
            try {
              Files.writeString(
                  auditLog,
                  call.principal().name()
                      + "\t"
                      + call.tool()
                      + "\t"
                      + call.outcome()
                      + "\t"
                      + call.detail().replace('\n', ' ')
                      + "\n",
                  StandardCharsets.UTF_8,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.APPEND);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };
    try (CfnMcpServer server = CfnMcpServer.serve(settings, audit, System.in, protocol)) {
      server.awaitEnd();
    }
  }
}
