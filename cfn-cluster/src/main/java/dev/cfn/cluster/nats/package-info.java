/**
 * NATS as cfn's transport between nodes: JetStream for reliable messages, core NATS for best-effort
 * ones and request-reply, and a check of the servers' durability settings.
 *
 * <p>Public, each documented in its class:
 *
 * <ul>
 *   <li>{@link dev.cfn.cluster.nats.Subjects}: the subjects of a namespace and the token encoding
 *       that lets any agent id or topic round-trip; {@link dev.cfn.cluster.nats.Partitioner}: the
 *       FNV-1a hash of (type, key) into P partitions, shared with the PostgreSQL leases.
 *   <li>Reliable: {@link dev.cfn.cluster.nats.ReliableStream} (work queue, file, R3, discard new),
 *       {@link dev.cfn.cluster.nats.ReliablePublisher} (deterministic {@code Nats-Msg-Id}, waits
 *       for the PubAck), {@link dev.cfn.cluster.nats.PartitionConsumer} (one durable pull consumer
 *       per partition, named after the owner's lease epoch; cfn-counted retries with {@code
 *       nakWithDelay}; dead letter then {@code term()}), and the seams a store plugs into: {@link
 *       dev.cfn.cluster.nats.ReliableHandler} ("committed, then acked"), {@link
 *       dev.cfn.cluster.nats.DeadLetterSink} and the value {@link
 *       dev.cfn.cluster.nats.ReliableMessage}.
 *   <li>Best-effort: {@link dev.cfn.cluster.nats.BestEffortTransport}.
 *   <li>Checks: {@link dev.cfn.cluster.nats.NatsServerCheck} (behind {@code cfn doctor}).
 * </ul>
 *
 * <p>Depends on {@code dev.cfn.core} (AgentId, TopicId, RetryPolicy), jnats and SLF4J; never on
 * {@code dev.cfn.cluster.pg}, which plugs in through {@code ReliableHandler} and {@code
 * DeadLetterSink}. See {@code docs/cluster.md}, "NATS: the transport".
 */
package dev.cfn.cluster.nats;
