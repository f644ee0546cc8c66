package dev.cfn.cluster.nats;

import io.nats.client.Connection;
import java.util.List;

/**
 * The tests' own NATS servers ({@link NatsCluster}) for tests outside this package: one JetStream
 * server, or a cluster of three, started on free loopback ports and stopped by PID.
 */
public final class TestNats implements AutoCloseable {
  private final NatsCluster cluster;

  private TestNats(NatsCluster cluster) {
    this.cluster = cluster;
  }

  /** One JetStream server. */
  public static TestNats single() throws Exception {
    return new TestNats(NatsCluster.startSingle());
  }

  /** Three JetStream servers in a cluster. */
  public static TestNats three() throws Exception {
    return new TestNats(NatsCluster.startThree());
  }

  /** The client URLs of the servers. */
  public List<String> urls() {
    return cluster.nodes().stream().map(NatsCluster.Node::url).toList();
  }

  /** A new client connection. */
  public Connection connect() throws Exception {
    return cluster.connect();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
