package dev.cfn.cluster.node;

import dev.cfn.core.Envelope;

/**
 * The handler of one agent type's RELIABLE messages on a {@link ClusterNode}: what an agent's
 * {@code onMessage} is to the embedded runtime, with the same {@code Effects} API and more ({@link
 * ClusterEffects}: replies, topic publications, best-effort requests). Whatever it puts,
 * increments, deletes, sends, replies or publishes through {@code effects} commits with the
 * message's acknowledgement, in one PostgreSQL transaction fenced by the partition's lease epoch:
 * exactly once per message. It receives messages sent to its agents, replies to their RELIABLE
 * requests ({@link Envelope#isReply()}), and copies of the RELIABLE publications its type
 * subscribes to ({@link ClusterNode.Builder#subscribe}; the header {@value
 * ClusterNode#TOPIC_HEADER} names the topic). If it throws, nothing commits and the message is
 * retried by the retry policy, then dead-lettered. Work outside the effects (an HTTP call, a file)
 * may run again on a redelivery: key it by {@link Envelope#id()}.
 */
@FunctionalInterface
public interface ClusterAgent {
  /** Handles {@code message}; {@code effects} is the agent's state and outbox. */
  void handle(Envelope message, ClusterEffects effects) throws Exception;
}
