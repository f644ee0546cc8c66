package dev.cfn.server.mcp;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What an MCP client may do beyond reading. Reading tools (list and validate agents, get and search
 * memory, status) are always allowed to the local user who started the server; a tool that writes
 * or spends money is refused unless its permission was granted when the server started ({@code cfn
 * mcp serve --allow run,memory-write}).
 */
public enum McpPermission {
  /** Run a task through an agent: model calls that cost money, and the agent's own tools. */
  RUN("run"),
  /** Write agent memory ({@code memory_put}). */
  MEMORY_WRITE("memory-write");

  private final String label;

  McpPermission(String label) {
    this.label = label;
  }

  /** The name on the command line, such as {@code memory-write}. */
  public String label() {
    return label;
  }

  /**
   * The permissions of a comma-separated list such as {@code run,memory-write}; blank items are
   * ignored.
   *
   * @throws IllegalArgumentException naming the unknown item and the known ones
   */
  public static Set<McpPermission> parse(String list) {
    Set<McpPermission> result = EnumSet.noneOf(McpPermission.class);
    for (String item : list.split(",", -1)) {
      String name = item.strip().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      result.add(
          Arrays.stream(values())
              .filter(p -> p.label.equals(name))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "'"
                              + item.strip()
                              + "' is not an MCP permission; the permissions are "
                              + labels())));
    }
    return result;
  }

  /** Every permission's label, comma-separated. */
  public static String labels() {
    return Arrays.stream(values()).map(McpPermission::label).collect(Collectors.joining(", "));
  }
}
