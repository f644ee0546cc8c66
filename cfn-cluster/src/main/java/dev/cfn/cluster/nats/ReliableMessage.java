package dev.cfn.cluster.nats;

import dev.cfn.core.AgentId;

/**
 * One delivery of a reliable message, as a {@link ReliableHandler} sees it.
 *
 * @param messageId the publisher's deterministic id ({@code Nats-Msg-Id}); the key the store
 *     deduplicates on
 * @param target the agent the message is for
 * @param partition the target's partition
 * @param epoch the lease epoch under which this node consumes the partition: a store commit must
 *     check it, so that a node that lost the partition (a zombie) commits nothing
 * @param streamSequence the message's sequence in the stream
 * @param attempt which attempt this is, from 1, as counted by cfn: on this owner, after the
 *     attempts earlier owners recorded when the consumer was given them (see {@link
 *     PartitionConsumer})
 * @param body the payload, as published
 */
public record ReliableMessage(
    String messageId,
    AgentId target,
    int partition,
    long epoch,
    long streamSequence,
    int attempt,
    byte[] body) {}
