package dev.cfn.ai.tool;

import dev.cfn.ai.definition.AgentDefinition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which tools one agent may use: default deny. An agent may use a tool only when its list names it
 * exactly or with a trailing {@code *} glob ({@code mcp__github__*} allows every tool of the {@code
 * github} MCP server; a lone {@code *} allows every tool). As in Claude Code, a bare server entry
 * {@code mcp__github} (no second {@code __}) allows every tool of that server too: it stands for
 * {@code mcp__github__*}. No list, or an empty one, allows nothing.
 *
 * <p>The list is the {@code tools} field of the agent's definition ({@link
 * #forDefinition(AgentDefinition)}). Entries that are neither a tool name nor a trailing glob (such
 * as Claude Code's argument rules, {@code Bash(git diff:*)}) match no tool; they are logged once at
 * WARN when the permissions are built.
 */
public final class ToolPermissions {
  private static final Logger LOG = LoggerFactory.getLogger(ToolPermissions.class);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{0,63}");
  private static final ToolPermissions NONE = new ToolPermissions(List.of());

  private final List<String> patterns;
  private final Set<String> exact = new HashSet<>();
  private final List<String> prefixes = new ArrayList<>();

  private ToolPermissions(List<String> patterns) {
    this.patterns = List.copyOf(patterns);
    List<String> ignored = new ArrayList<>();
    for (String p : this.patterns) {
      if (p.endsWith("*") && PREFIX.matcher(p.substring(0, p.length() - 1)).matches()) {
        prefixes.add(p.substring(0, p.length() - 1));
      } else if (NAME.matcher(p).matches()) {
        exact.add(p);
        if (isMcpServer(p)) {
          prefixes.add(p + "__"); // Claude Code: mcp__<server> allows all the server's tools
        }
      } else {
        ignored.add(p);
      }
    }
    if (!ignored.isEmpty()) {
      LOG.warn(
          "tool permission entries {} are neither tool names nor trailing '*' globs; they allow"
              + " no tool",
          ignored);
    }
  }

  /** Whether {@code entry} names a whole MCP server: {@code mcp__<server>} without a tool part. */
  private static boolean isMcpServer(String entry) {
    return entry.startsWith(McpToolSource.PREFIX)
        && entry.length() > McpToolSource.PREFIX.length()
        && !entry.substring(McpToolSource.PREFIX.length()).contains("__");
  }

  /** No tool at all. */
  public static ToolPermissions none() {
    return NONE;
  }

  /**
   * The tools {@code patterns} name: exact names or trailing {@code *} globs; {@code null} or empty
   * allows nothing.
   */
  public static ToolPermissions of(Collection<String> patterns) {
    if (patterns == null || patterns.isEmpty()) {
      return NONE;
    }
    return new ToolPermissions(new ArrayList<>(patterns));
  }

  /** Shorthand for {@link #of(Collection)}. */
  public static ToolPermissions of(String... patterns) {
    return of(List.of(patterns));
  }

  /**
   * Claude Code's names for the tools cfn has built in, so that an agent file written for Claude
   * Code keeps its file tools: {@code Read} is {@code file_read}, {@code Write} is {@code
   * file_write}, {@code LS} and {@code Glob} are {@code file_list}. Its other tools ({@code Bash},
   * {@code Edit}, {@code Grep}, {@code WebFetch}...) have no cfn counterpart and allow nothing.
   */
  public static final Map<String, String> CLAUDE_CODE_NAMES =
      Map.of("Read", "file_read", "Write", "file_write", "LS", "file_list", "Glob", "file_list");

  /**
   * The tools an agent definition lists, with Claude Code's names of the built-in file tools
   * translated ({@link #CLAUDE_CODE_NAMES}). A definition without a {@code tools} line lists none
   * (default deny); {@code tools: "*"} ({@link AgentDefinition#ALL_TOOLS}) allows every tool.
   */
  public static ToolPermissions forDefinition(AgentDefinition definition) {
    List<String> names = new ArrayList<>();
    for (String tool : definition.tools()) {
      names.add(CLAUDE_CODE_NAMES.getOrDefault(tool, tool));
    }
    return of(names);
  }

  /** Whether the tool named {@code tool} is allowed. */
  public boolean permits(String tool) {
    if (tool == null) {
      return false;
    }
    if (exact.contains(tool)) {
      return true;
    }
    for (String prefix : prefixes) {
      if (tool.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** The entries as given. */
  public List<String> patterns() {
    return patterns;
  }

  @Override
  public String toString() {
    return "ToolPermissions" + patterns;
  }
}
