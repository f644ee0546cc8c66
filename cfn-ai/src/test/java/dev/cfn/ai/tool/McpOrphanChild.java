package dev.cfn.ai.tool;

import java.time.Duration;

/**
 * A cfn process for {@link McpServerDiesWithTheJvmTest}: connects to the stdio MCP server {@code
 * /bin/sh <script> <pid file>}, says so on its standard output, and waits to be killed.
 */
public final class McpOrphanChild {
  private McpOrphanChild() {}

  public static void main(String[] args) throws Exception {
    McpToolSource source =
        McpToolSource.stdio("stubborn", "/bin/sh", args[0], args[1])
            .initializationTimeout(Duration.ofSeconds(60))
            .connect();
    System.out.println("CONNECTED " + source.tools().size());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
