/**
 * Swarms: named groups of agents on one runtime, with a topology the bus enforces, task assignment,
 * one budget for all members, and coordination rounds.
 *
 * <p>Public: {@link dev.cfn.flow.swarm.Swarm} (and its builder and {@code Round}), {@link
 * dev.cfn.flow.swarm.Topology}, {@link dev.cfn.flow.swarm.Role}, {@link
 * dev.cfn.flow.swarm.Assignment} (capability, least-loaded, round-robin, sticky), {@link
 * dev.cfn.flow.swarm.Reduce} (all, first, majority, weighted), and the values {@link
 * dev.cfn.flow.swarm.RoundResult}, {@link dev.cfn.flow.swarm.SwarmStatus} and {@link
 * dev.cfn.flow.swarm.SwarmMember}. Package-private beside them: {@code Layout} (each member's place
 * in the hierarchy and the ring, and the topology's verdict on a message) and {@code
 * RoundCollector} (one round, as an agent: it sends the task, gathers and reduces the replies one
 * message at a time, and ends at the last reply or its deadline).
 *
 * <p>How enforcement works: a swarm installs its {@code Layout}'s verdict as the runtime's {@link
 * dev.cfn.core.SwarmRule} for its name, and its members are the runtime's members of that swarm
 * ({@link dev.cfn.core.AgentRuntime#joinSwarm}), so the route stage of cfn-core asks the rule for
 * every message between two of them. Nothing here wraps or bypasses the bus.
 *
 * <p>How a round scales: no thread per member and one timer task for the deadline. The round's
 * collector agent sends the task to each member from its start hook, members answer it as cfn's
 * agents answer a plain message (by sending back to its sender, as {@code LlmAgent} and {@code
 * ProcessAgent} do), and the replies queue in the collector's mailbox, which it reduces one by one.
 *
 * <p>Depends on cfn-core and cfn-ai ({@code Budget}, {@code AgentDefinition}); not on {@code
 * dev.cfn.flow.graph}.
 */
package dev.cfn.flow.swarm;
