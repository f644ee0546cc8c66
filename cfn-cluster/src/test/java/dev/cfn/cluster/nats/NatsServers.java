package dev.cfn.cluster.nats;

import io.nats.client.Connection;

/**
 * A {@link NatsCluster} as seen from other test packages (the fault tests of {@code
 * dev.cfn.cluster.fault}), without widening the harness.
 */
public final class NatsServers implements AutoCloseable {
  private final NatsCluster cluster;

  private NatsServers(NatsCluster cluster) {
    this.cluster = cluster;
  }

  /** One JetStream server of the test's own on a free loopback port. */
  public static NatsServers startSingle() throws Exception {
    return new NatsServers(NatsCluster.startSingle());
  }

  /** Three JetStream servers in a cluster. */
  public static NatsServers startThree() throws Exception {
    return new NatsServers(NatsCluster.startThree());
  }

  /** The client URLs, comma-separated. */
  public String urls() {
    return cluster.urls();
  }

  /** The client port of server {@code index}. */
  public int clientPort(int index) {
    return cluster.node(index).clientPort;
  }

  /** A connection to every server, reconnecting for ever. */
  public Connection connect() throws Exception {
    return cluster.connect();
  }

  /** SIGKILLs the leader of {@code stream} and returns its index. */
  public int killStreamLeader(Connection connection, String stream) throws Exception {
    String leader = cluster.streamLeader(connection, stream);
    NatsCluster.Node node = cluster.node(leader);
    cluster.kill(node);
    return cluster.nodes().indexOf(node);
  }

  /** Restarts server {@code index} after a kill. */
  public void restart(int index) throws Exception {
    cluster.restart(cluster.node(index));
  }

  @Override
  public void close() {
    cluster.close();
  }
}
