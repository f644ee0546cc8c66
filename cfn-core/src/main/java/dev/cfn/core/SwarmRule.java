package dev.cfn.core;

/**
 * Decides whether one member of a swarm may message another: the hook through which a swarm's
 * topology is enforced on the real message path, not merely recorded. Installed per swarm with
 * {@link AgentRuntime#enforce(String, SwarmRule)}.
 *
 * <p>The route stage consults the rule of swarm {@code s} for every point-to-point message (send,
 * request, forward, broadcast; RELIABLE ones before they are journaled) and for every target of a
 * publication, and for every send through a handler's outbox ({@code ctx.effects().send}, when it
 * is made), when both the sender and the recipient are live members of {@code s}. Messages from
 * outside the swarm (the runtime, other agents, other swarms) and replies are never consulted: a
 * reply answers a request the rule already let through. A refused message is not delivered; the
 * sender gets a {@link SwarmRuleException} carrying the rule's reason (a request's future fails
 * with it; a publication or broadcast delivers to the targets the rule allows and then throws the
 * first refusal).
 *
 * <p>Cost: a message to an agent in no swarm pays one field read; a message between members of a
 * swarm without a rule pays one map lookup. The rule runs on the sender's thread, often a carrier:
 * it must be fast, non-blocking and thread-safe; membership may change while it runs.
 */
@FunctionalInterface
public interface SwarmRule {
  /**
   * Returns null to let the message from {@code from} to {@code to} pass, or the reason it is
   * refused, naming the rule that forbids it and the fix (for example {@code "ring topology: w/3
   * may message only its neighbours w/2 and w/4"}). Both are members of the rule's swarm.
   */
  String refusal(AgentId from, AgentId to);
}
