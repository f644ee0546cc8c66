package dev.cfn.cluster.nats;

import dev.cfn.cluster.harness.LocalNats;
import io.nats.client.Connection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Test harness: the module's {@link LocalNats} (a JetStream cluster of {@code n} nats-server
 * processes on free loopback ports, each config checked with {@code nats-server -t}, started under
 * {@code setsid}, known by the PID in its {@code pid_file} and stopped by that PID from {@link
 * #close()} and a JVM shutdown hook) seen through {@link Node}s, as the tests name them. A node can
 * be killed (SIGKILL) and restarted on the same ports and store, or paused with SIGSTOP and resumed
 * with SIGCONT.
 */
final class NatsCluster implements AutoCloseable {
  private final LocalNats nats;
  private final List<Node> nodes = new ArrayList<>();

  /** One server: its name, client port and index in {@link LocalNats}. */
  final class Node {
    final String name;
    final int clientPort;
    private final int index;

    private Node(int index) {
      this.index = index;
      this.name = nats.name(index);
      this.clientPort = nats.clientPort(index);
    }

    String url() {
      return nats.url(index);
    }

    String monitorUrl() {
      return nats.monitorUrl(index);
    }

    /** The PID of the running process, 0 while it is down. */
    long pid() {
      return nats.pid(index);
    }
  }

  private NatsCluster(LocalNats nats) {
    this.nats = nats;
    for (int i = 0; i < nats.size(); i++) {
      nodes.add(new Node(i));
    }
  }

  /** Starts a cluster of three JetStream servers and waits until JetStream answers. */
  static NatsCluster startThree() throws Exception {
    return new NatsCluster(LocalNats.start(3));
  }

  /** Starts one JetStream server (no cluster block): the fast variant. */
  static NatsCluster startSingle() throws Exception {
    return new NatsCluster(LocalNats.start(1));
  }

  List<Node> nodes() {
    return nodes;
  }

  Node node(int index) {
    return nodes.get(index);
  }

  Node node(String name) {
    return nodes.stream()
        .filter(n -> n.name.equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + name));
  }

  /** The client URLs of every node, comma-separated (a jnats server list). */
  String urls() {
    return String.join(",", nats.urls());
  }

  Connection connect() throws IOException, InterruptedException {
    return nats.connect();
  }

  /** The name of the node leading stream {@code stream}. */
  String streamLeader(Connection connection, String stream) throws Exception {
    return nats.name(nats.streamLeader(connection, stream, -1));
  }

  /** SIGKILLs {@code node} and waits until its process is gone. */
  void kill(Node node) throws Exception {
    nats.kill(node.index);
  }

  /** Restarts a killed or stopped {@code node} on its ports and store and waits until healthy. */
  void restart(Node node) throws Exception {
    nats.restart(node.index);
  }

  /** Pauses {@code node} (SIGSTOP). */
  void pause(Node node) {
    nats.pause(node.index);
  }

  /** Resumes a paused {@code node} (SIGCONT). */
  void resume(Node node) {
    nats.resume(node.index);
  }

  @Override
  public void close() {
    nats.close();
  }
}
