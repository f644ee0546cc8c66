package dev.cfn.core.spi;

import dev.cfn.core.AgentId;
import java.util.Objects;

/**
 * The principal a {@link MemoryStore} operation runs as: an agent, with the swarm and the project
 * it belongs to (either may be {@code null}), or the operator.
 *
 * <p>Every operation of the store takes one, and the {@linkplain MemoryAccessLevel access level} of
 * each entry is checked against it. The runtime (or whatever hands memory to agents) creates one
 * per agent and keeps it: the levels keep agents apart from each other, they are not a security
 * boundary against code of the same JVM, which may build any principal.
 *
 * <p>The {@linkplain #operator() operator} is the person at the {@code cfn memory} command line (or
 * an administrative tool): it may read, write and delete every entry whatever its level, and may
 * remove an entry whose checksum no longer verifies. Entries it creates are owned by {@link
 * #OPERATOR_ID}; an operator built with a swarm or a project creates entries in that swarm or
 * project, so that it can seed a swarm's shared memory.
 *
 * @param agentId the agent's id (for cfn agents {@link AgentId#toString()}, {@code type/key}), or
 *     {@link #OPERATOR_ID}; ids starting with {@code @} are reserved
 * @param swarm the swarm the agent belongs to, or {@code null}
 * @param project the project the agent belongs to, or {@code null}
 */
public record MemoryAccessor(String agentId, String swarm, String project) {

  /** The owner id of entries the operator creates; no agent id may start with {@code @}. */
  public static final String OPERATOR_ID = "@operator";

  /** Checks the ids: non-blank, and only the operator's starting with {@code @}. */
  public MemoryAccessor {
    Objects.requireNonNull(agentId, "agentId");
    if (agentId.isBlank()) {
      throw new IllegalArgumentException("a memory principal needs a non-blank agent id");
    }
    if (agentId.startsWith("@") && !agentId.equals(OPERATOR_ID)) {
      throw new IllegalArgumentException(
          "agent id '" + agentId + "' starts with '@', which is reserved; use another id");
    }
    requireNonBlank(swarm, "swarm");
    requireNonBlank(project, "project");
  }

  /** An agent that belongs to no swarm and no project: it reaches its own and public entries. */
  public static MemoryAccessor agent(String agentId) {
    return new MemoryAccessor(agentId, null, null);
  }

  /** An agent of {@code swarm} and {@code project} (either may be {@code null}). */
  public static MemoryAccessor agent(String agentId, String swarm, String project) {
    return new MemoryAccessor(agentId, swarm, project);
  }

  /** The cfn agent {@code id} (as {@code type/key}) of {@code swarm} and {@code project}. */
  public static MemoryAccessor of(AgentId id, String swarm, String project) {
    return new MemoryAccessor(Objects.requireNonNull(id, "id").toString(), swarm, project);
  }

  /**
   * The operator: allowed every operation on every entry, whatever its level. Use it for
   * administration only ({@code cfn memory} without {@code --as} runs as the operator).
   */
  public static MemoryAccessor operator() {
    return new MemoryAccessor(OPERATOR_ID, null, null);
  }

  /**
   * The operator acting for {@code swarm} and {@code project} (either may be {@code null}): allowed
   * everything, and the entries it creates belong to that swarm and project.
   */
  public static MemoryAccessor operator(String swarm, String project) {
    return new MemoryAccessor(OPERATOR_ID, swarm, project);
  }

  /** True for the operator, which may do everything. */
  public boolean isOperator() {
    return OPERATOR_ID.equals(agentId);
  }

  /** Says who this is, for messages: {@code agent 'a' (swarm 's', no project)}. */
  @Override
  public String toString() {
    String who = isOperator() ? "the operator" : "agent '" + agentId + "'";
    return who
        + " ("
        + (swarm == null ? "no swarm" : "swarm '" + swarm + "'")
        + ", "
        + (project == null ? "no project" : "project '" + project + "'")
        + ")";
  }

  private static void requireNonBlank(String value, String what) {
    if (value != null && value.isBlank()) {
      throw new IllegalArgumentException(
          "a memory principal's " + what + " is blank: give a name or null for none");
    }
  }
}
