/**
 * Swarms: named groups of agents on one runtime, with a topology the bus enforces, task assignment,
 * one budget for all members, and coordination rounds.
 *
 * <p>Public: {@link dev.cfn.flow.swarm.Swarm} (and its builder and {@code Round}), {@link
 * dev.cfn.flow.swarm.Topology}, {@link dev.cfn.flow.swarm.Role}, {@link
 * dev.cfn.flow.swarm.Assignment} (capability, least-loaded, round-robin, sticky), {@link
 * dev.cfn.flow.swarm.Reduce} (all, first, majority, weighted), and the values {@link
 * dev.cfn.flow.swarm.RoundResult}, {@link dev.cfn.flow.swarm.SwarmStatus} and {@link
 * dev.cfn.flow.swarm.SwarmMember}, and the events {@link dev.cfn.flow.swarm.SwarmEvent}.
 * Package-private beside them: {@code Layout} (each member's place in the hierarchy and the ring,
 * and the topology's verdict on a message), {@code RoundCollector} (one round, as an agent: it
 * sends the task, gathers and reduces the replies one message at a time, and ends at the last reply
 * or its deadline) and {@code SwarmEvents} (publishes the events, only to subscribers).
 *
 * <p>Events, published BEST_EFFORT with the swarm's name as the topic's source, only while a
 * subscription matches their topic ({@link dev.cfn.core.AgentRuntime#hasSubscribers}, as the task
 * graphs' events); subscribe to {@code cfn.flow.swarm.#} for all:
 *
 * <table>
 *   <caption>Swarm events</caption>
 *   <tr><th>topic type</th><th>payload</th><th>published when</th></tr>
 *   <tr><td>{@code cfn.flow.swarm.joined}</td><td>{@code Joined(swarm, member, role,
 *       coordinator, members)}</td><td>a member joined ({@code Swarm.join})</td></tr>
 *   <tr><td>{@code cfn.flow.swarm.left}</td><td>{@code Left(swarm, member, members)}</td>
 *       <td>a member left</td></tr>
 *   <tr><td>{@code cfn.flow.swarm.refused}</td><td>{@code Refused(swarm, from, to, topology,
 *       rule, refused)}</td><td>the topology refused a message between two members; {@code rule}
 *       is the refusal's text, as the sender's {@code SwarmRuleException} and {@code
 *       SwarmStatus.recentRefusals} give it</td></tr>
 *   <tr><td>{@code cfn.flow.swarm.round.started}</td><td>{@code RoundStarted(swarm, round, asked,
 *       reduce, deadlineMillis)}</td><td>a round's collector started, before it sends the
 *       task</td></tr>
 *   <tr><td>{@code cfn.flow.swarm.round.finished}</td><td>{@code RoundFinished(swarm, round,
 *       asked, replied, missing, unreachable, deadlinePassed, decided, millis)}</td><td>a round
 *       ended, just before its future completes</td></tr>
 * </table>
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
