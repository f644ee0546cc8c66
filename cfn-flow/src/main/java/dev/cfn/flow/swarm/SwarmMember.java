package dev.cfn.flow.swarm;

import dev.cfn.core.AgentId;
import java.util.List;
import java.util.Objects;

/**
 * One member of a swarm as its status shows it.
 *
 * @param id the agent
 * @param role its place in the layout
 * @param coordinator a worker's coordinator, else {@code null}
 * @param type the agent definition's {@code type}, or {@code null}
 * @param capabilities the agent definition's {@code capabilities}
 * @param inFlight tasks the swarm gave it that have not been answered yet
 * @param queued messages waiting in its mailbox
 */
public record SwarmMember(
    AgentId id,
    Role role,
    AgentId coordinator,
    String type,
    List<String> capabilities,
    int inFlight,
    int queued) {
  /** Copies the capabilities. */
  public SwarmMember {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(role, "role");
    capabilities = List.copyOf(capabilities);
  }
}
