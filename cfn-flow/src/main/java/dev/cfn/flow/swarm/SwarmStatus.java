package dev.cfn.flow.swarm;

import dev.cfn.ai.budget.Budget;
import dev.cfn.core.AgentId;
import java.util.List;

/**
 * A snapshot of a swarm: its layout, what its topology refused, what it spent.
 *
 * @param name the swarm's name
 * @param topology the topology it was built with
 * @param effective the topology in force now ({@link Topology#AUTO} resolved by size)
 * @param members how many members it has
 * @param lead the lead (the star's hub), or {@code null} when empty
 * @param coordinators how many coordinators the hierarchical layout has
 * @param refused messages between members the topology refused, since the swarm was built
 * @param recentRefusals the last refusals' reasons, oldest first (at most {@value
 *     Swarm#RECENT_REFUSALS})
 * @param rounds coordination rounds started
 * @param spent what the swarm's budget has been charged, by all members
 */
public record SwarmStatus(
    String name,
    Topology topology,
    Topology effective,
    int members,
    AgentId lead,
    int coordinators,
    long refused,
    List<String> recentRefusals,
    long rounds,
    Budget.Spent spent) {
  /** Copies the refusals. */
  public SwarmStatus {
    recentRefusals = List.copyOf(recentRefusals);
  }
}
