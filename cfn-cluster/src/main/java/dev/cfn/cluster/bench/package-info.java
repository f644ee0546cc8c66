/**
 * {@code cfn bench cluster}: measures a cluster of three cfn nodes (child JVMs running {@link
 * dev.cfn.cluster.node.ClusterNode}) on servers of its own ({@link dev.cfn.cluster.harness}):
 * reliable end-to-end messages per second and latency, best-effort cross-node request-reply
 * latency, and failover time after a node's SIGKILL. {@link dev.cfn.cluster.bench.ClusterBench}
 * drives the run; {@link dev.cfn.cluster.bench.BenchNode} is the node JVM's main.
 */
package dev.cfn.cluster.bench;
