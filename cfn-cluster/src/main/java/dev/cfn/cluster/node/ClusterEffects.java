package dev.cfn.cluster.node;

import dev.cfn.core.AgentId;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link ClusterAgent}'s handler can do on a cluster node: the {@link Effects} of cfn-core
 * (state, RELIABLE sends and requests, call records: committed with the message's acknowledgement)
 * plus RELIABLE replies and topic publications, which commit the same way, and best-effort requests
 * to agents on any node, which do not.
 */
public interface ClusterEffects extends Effects {

  /**
   * Replies to {@code request} (a RELIABLE request delivered to this handler's agent, sent with
   * {@link #request}) with {@code payload}: a RELIABLE message to the requester, its correlation id
   * the request's, committed with this message's acknowledgement. The requester's {@link
   * ClusterAgent} receives it as a message whose {@link Envelope#isReply()} is true. The reply to a
   * request from outside the cluster ({@link ClusterNode#ask}) is not sent but stored for its
   * caller, in the same transaction ({@code PgAnswers}); the first reply to a request is kept.
   *
   * @return the reply's id
   * @throws IllegalStateException when {@code request} is not a request to this agent
   */
  long reply(Envelope request, Object payload);

  /**
   * Publishes {@code payload} on {@code topic} as a RELIABLE publication, committed with this
   * message's acknowledgement. The outbox relay hands a copy to agent {@code (T, topic.source())}
   * for every agent type {@code T} subscribed to a pattern matching {@code topic.type()} ({@link
   * ClusterNode.Builder#subscribe}), each copy a RELIABLE message of its own that takes effect
   * once. A publication no type subscribes to reaches nobody.
   *
   * @return the publication's id
   */
  long publish(TopicId topic, Object payload);

  /**
   * Sends {@code body} to {@code to} as a best-effort request over core NATS and returns the reply,
   * without waiting for it: the node holding {@code to}'s partition answers with the responder
   * registered for its type ({@link ClusterNode.Builder#responder}). At most once, not journaled,
   * not part of this handler's commit: it happens even if the commit fails, and again on a retry.
   * The future fails with {@code NoResponderException} when nobody serves the partition, and with a
   * {@code TimeoutException} after {@code timeout}. The handler must finish within the consumer's
   * ack wait (30 s by default), so keep the timeout well below it.
   */
  CompletableFuture<String> requestBestEffort(AgentId to, String body, Duration timeout);

  /** The id of the node running this handler. */
  String node();
}
