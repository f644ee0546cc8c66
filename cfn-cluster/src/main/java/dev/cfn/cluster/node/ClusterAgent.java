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

  /**
   * Runs agents of cfn-core (an {@link dev.cfn.core.Agent}, such as cfn-ai's {@code LlmAgent}) on
   * the cluster path: each message gets an instance of its own from {@code factory} (so the agent
   * keeps what must outlive a message in its {@link dev.cfn.core.Effects}, as it would across nodes
   * anyway), started, handed the message with an {@link dev.cfn.core.AgentContext} over this
   * handling's {@link ClusterEffects}, and stopped. The context's {@code effects()} are those
   * effects; {@code reply} replies to a RELIABLE request through them; {@code send(to, payload)}
   * and {@code publish} are RELIABLE, committed with the acknowledgement (more than the best effort
   * they are in the embedded runtime); {@code stopSelf} does nothing (an agent on a node has no
   * lifecycle). Spawning, requests with futures, forwarding, broadcasts, metrics and {@code
   * send(Envelope.Builder)} throw {@code UnsupportedOperationException} naming what to use instead.
   */
  static ClusterAgent running(dev.cfn.core.AgentFactory factory) {
    return new CoreAgentAdapter(factory);
  }
}
