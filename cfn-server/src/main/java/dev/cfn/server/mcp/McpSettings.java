package dev.cfn.server.mcp;

import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What an MCP server serves and allows.
 *
 * @param home the folder whose {@code .cfn} holds the state: {@code .cfn/memory.db} (memory),
 *     {@code .cfn/providers.yaml} (model providers); the agents' file tools get {@code
 *     home/workspace}
 * @param agents the agent definition files or folders
 * @param allowed what the client may do beyond reading; empty by default
 * @param memoryAs the memory principal the client acts as: its access levels apply to every memory
 *     tool (never the operator)
 * @param environment the environment the model providers are configured from ({@code OPENAI_*},
 *     {@code ANTHROPIC_*}, variables the providers file names)
 */
public record McpSettings(
    Path home,
    List<Path> agents,
    Set<McpPermission> allowed,
    MemoryAccessor memoryAs,
    Map<String, String> environment) {

  /** The memory principal of an MCP client unless the server is told otherwise. */
  public static final String DEFAULT_MEMORY_AGENT = "mcp/client";

  /** The agents' folder inside the home when none is given: {@code .claude/agents}. */
  public static final Path DEFAULT_AGENTS = Path.of(".claude", "agents");

  /** Copies the collections; refuses the operator as memory principal. */
  public McpSettings {
    home = Objects.requireNonNull(home, "home").toAbsolutePath().normalize();
    agents = List.copyOf(agents);
    allowed = allowed.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(allowed));
    Objects.requireNonNull(memoryAs, "memoryAs");
    if (memoryAs.isOperator()) {
      throw new IllegalArgumentException(
          "an MCP client may not act as the memory operator; give it an agent id");
    }
    environment = Map.copyOf(environment);
  }

  /**
   * Settings for {@code home} with its {@code .claude/agents} folder, nothing allowed beyond
   * reading, memory as {@link #DEFAULT_MEMORY_AGENT}, and the JVM's environment.
   */
  public static McpSettings of(Path home) {
    return new McpSettings(
        home,
        List.of(home.resolve(DEFAULT_AGENTS)),
        Set.of(),
        MemoryAccessor.agent(DEFAULT_MEMORY_AGENT),
        System.getenv());
  }

  /** These settings with {@code allowed} instead. */
  public McpSettings allow(Set<McpPermission> permissions) {
    return new McpSettings(home, agents, permissions, memoryAs, environment);
  }

  /** These settings with {@code env} as the environment. */
  public McpSettings environment(Map<String, String> env) {
    return new McpSettings(home, agents, allowed, memoryAs, env);
  }

  /** True when {@code permission} was granted. */
  public boolean allows(McpPermission permission) {
    return allowed.contains(permission);
  }

  /** The memory file: {@code home/.cfn/memory.db}. */
  public Path memoryFile() {
    return home.resolve(SqliteMemoryStore.DEFAULT_FILE);
  }

  /** The only folder the agents' file tools may touch: {@code home/workspace}. */
  public Path workspace() {
    return home.resolve("workspace");
  }

  @Override
  public String toString() {
    // the environment holds keys: never printed
    return "McpSettings[home="
        + home
        + ", agents="
        + agents
        + ", allowed="
        + allowed
        + ", memoryAs="
        + memoryAs
        + "]";
  }
}
