package dev.cfn.cluster.node;

import dev.cfn.core.AgentId;

/**
 * Answers best-effort requests to one agent type's agents on a {@link ClusterNode}: the node
 * holding an agent's partition runs it for every request to that agent ({@link
 * ClusterNode#request}, {@link ClusterEffects#requestBestEffort}) and sends the result back over
 * core NATS. At most once: nothing is journaled, and a request that arrives while its partition
 * moves between nodes may reach nobody (the requester then gets {@code NoResponderException} or
 * times out). It runs on a virtual thread of the node, never inside a RELIABLE handler's commit: it
 * may read state ({@link ClusterNode#journal()}) but changes nothing durably.
 */
@FunctionalInterface
public interface ClusterResponder {
  /**
   * The reply to {@code body}, a request to {@code agent}; null sends none (the requester times
   * out). If it throws, no reply is sent either.
   */
  String respond(AgentId agent, String body) throws Exception;
}
