package dev.cfn.server;

import dev.cfn.core.AgentId;
import java.util.Set;

/**
 * The cluster's message path for the server's own agents ({@link CfnServer#runOnCluster}): when
 * {@code cfn serve --cluster} joined a cluster that runs the agent types {@link #types()}, the API
 * sends messages to those agents through {@link #send} (stored in the cluster's database and
 * handled, once, on whichever node holds the agent's partition) instead of the server's embedded
 * runtime.
 */
public interface ClusterPath {

  /** The agent types that run on the cluster. */
  Set<String> types();

  /**
   * Sends {@code payload} to {@code to} as a RELIABLE message of the cluster; durable when it
   * returns.
   *
   * @return the message's id
   */
  long send(AgentId to, Object payload);
}
