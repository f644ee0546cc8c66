package dev.cfn.server;

import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The cluster's message path for the server's own agents ({@link CfnServer#runOnCluster}): when
 * {@code cfn serve --cluster} joined a cluster that runs the agent types {@link #types()}, the API
 * sends messages and requests to those agents through it (stored in the cluster's database and
 * handled, once, on whichever node holds the agent's partition) instead of the server's embedded
 * runtime. The answer to a request is stored in the cluster's database too, so it reaches the
 * server that took the request whichever node handled it, and can be fetched later from any server
 * of the cluster.
 */
public interface ClusterPath {

  /** The agent types that run on the cluster. */
  Set<String> types();

  /**
   * Sends {@code payload} to {@code to} as a RELIABLE message of the cluster; durable when it
   * returns. With an {@code idempotencyKey} (null: none), a send with a key already used within the
   * cluster's retention stores nothing and returns the first message's id.
   *
   * @return the message's id
   */
  long send(AgentId to, Object payload, String idempotencyKey);

  /**
   * Sends {@code payload} to {@code to} as a RELIABLE request of the cluster, durable when it
   * returns, deduplicated by {@code idempotencyKey} (null: none) as {@link #send} is.
   *
   * @return the request's id, by which its answer is found
   */
  long request(AgentId to, Object payload, String idempotencyKey);

  /**
   * The answer to request {@code requestId}: completes with the reply once stored, or fails with a
   * {@code TimeoutException} after {@code timeout} (the request itself goes on).
   */
  CompletableFuture<Envelope> answer(long requestId, Duration timeout);

  /** The answer to request {@code requestId}, if stored. */
  Optional<Envelope> answerOf(long requestId);

  /** Request {@code requestId} while it waits to be handled; empty for any other id. */
  Optional<Envelope> pendingRequest(long requestId);
}
