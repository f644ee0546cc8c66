/**
 * A cfn node of a cluster: placement of partitions over the live nodes, the outbox relay and its
 * reconciler, the node that ties them to the NATS transport and the PostgreSQL store, and the
 * cluster file of {@code cfn serve --cluster}.
 *
 * <p>Public: {@link dev.cfn.cluster.node.Placement} (heartbeats, {@linkplain
 * dev.cfn.cluster.node.Rendezvous rendezvous hashing}, leases and the work started under them),
 * {@link dev.cfn.cluster.node.OutboxRelay} (PostgreSQL outbox to JetStream, with deterministic
 * {@code Nats-Msg-Id}s, the fan-out of RELIABLE topic publications, and the reconciler), {@link
 * dev.cfn.cluster.node.ClusterNode} with its {@link dev.cfn.cluster.node.ClusterAgent} handlers
 * (given {@link dev.cfn.cluster.node.ClusterEffects}: the {@code Effects} API of cfn-core, replies,
 * publications, best-effort requests) and {@link dev.cfn.cluster.node.ClusterResponder}s
 * (best-effort requests), and {@link dev.cfn.cluster.node.ClusterConfig}. Package-private: {@code
 * NodeEffects}, the effects of one handling (cfn-core's {@code BufferedEffects} with the node's
 * ids).
 *
 * <p>Depends on {@code dev.cfn.cluster.pg} and {@code dev.cfn.cluster.nats} (which do not depend on
 * each other or on this package), cfn-core, jnats and snakeyaml-engine (the cluster file). See
 * {@code docs/cluster.md}, "Nodes: placement, relay and serve".
 */
package dev.cfn.cluster.node;
