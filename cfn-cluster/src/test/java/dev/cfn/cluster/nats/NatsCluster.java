package dev.cfn.cluster.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Test harness: a JetStream cluster of {@code n} nats-server processes (Debian's {@code
 * /usr/sbin/nats-server}) on free loopback ports, each with its own client, route and monitoring
 * port and its store in a temporary directory. Each config is checked with {@code nats-server -t}
 * before start; each server is started under {@code setsid} (its own process group) and known by
 * the PID it writes to its {@code pid_file}; {@link #close()} and a JVM shutdown hook stop them by
 * PID. A node can be killed (SIGKILL) and restarted on the same ports and store, or paused with
 * SIGSTOP and resumed with SIGCONT.
 */
final class NatsCluster implements AutoCloseable {

  static final String SERVER = "/usr/sbin/nats-server";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final List<Node> nodes = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Thread hook;

  /** One server: its ports, files and the PID of its running process (0 when stopped). */
  static final class Node {
    final String name;
    final int clientPort;
    final int routePort;
    final int monitorPort;
    final Path config;
    final Path pidFile;
    final Path log;
    volatile long pid;

    Node(String name, int clientPort, int routePort, int monitorPort, Path dir) {
      this.name = name;
      this.clientPort = clientPort;
      this.routePort = routePort;
      this.monitorPort = monitorPort;
      this.config = dir.resolve(name + ".conf");
      this.pidFile = dir.resolve(name + ".pid");
      this.log = dir.resolve(name + ".log");
    }

    String url() {
      return "nats://127.0.0.1:" + clientPort;
    }

    String monitorUrl() {
      return "http://127.0.0.1:" + monitorPort;
    }
  }

  private NatsCluster(int size) throws IOException {
    if (!Files.isExecutable(Path.of(SERVER))) {
      throw new IllegalStateException(
          SERVER + " is missing (fix: sudo apt-get install -y nats-server)");
    }
    dir = Files.createTempDirectory("cfn-nats-");
    for (int i = 1; i <= size; i++) {
      nodes.add(new Node("n" + i, freePort(), freePort(), freePort(), dir));
    }
    for (Node node : nodes) {
      Files.writeString(node.config, config(node, size > 1));
      check(node);
    }
    hook = new Thread(this::killAll, "nats-cluster-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts a cluster of three JetStream servers and waits until JetStream answers. */
  static NatsCluster startThree() throws Exception {
    return start(3);
  }

  /** Starts one JetStream server (no cluster block): the fast variant. */
  static NatsCluster startSingle() throws Exception {
    return start(1);
  }

  private static NatsCluster start(int size) throws Exception {
    NatsCluster cluster = new NatsCluster(size);
    try {
      for (Node node : cluster.nodes) {
        cluster.launch(node);
      }
      for (Node node : cluster.nodes) {
        cluster.awaitHealthy(node);
      }
      cluster.awaitJetStream();
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
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
    return nodes.stream().map(Node::url).collect(Collectors.joining(","));
  }

  /** Connection options to every node, with reconnects that outlast a node restart. */
  Options.Builder options() {
    return new Options.Builder()
        .servers(nodes.stream().map(Node::url).toArray(String[]::new))
        .maxReconnects(-1)
        .reconnectWait(Duration.ofMillis(100))
        .connectionTimeout(Duration.ofSeconds(5));
  }

  Connection connect() throws IOException, InterruptedException {
    return Nats.connect(options().build());
  }

  /** The name of the node leading stream {@code stream}. */
  String streamLeader(Connection connection, String stream) throws Exception {
    JetStreamManagement jsm = connection.jetStreamManagement();
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      try {
        var cluster = jsm.getStreamInfo(stream).getClusterInfo();
        if (cluster != null && cluster.getLeader() != null && !cluster.getLeader().isEmpty()) {
          return cluster.getLeader();
        }
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "stream " + stream + " has no leader after " + READY_TIMEOUT);
      }
      Thread.sleep(100);
    }
  }

  /** SIGKILLs {@code node} and waits until its process is gone. */
  void kill(Node node) throws Exception {
    long pid = node.pid;
    if (pid == 0) {
      return;
    }
    signal(pid, "KILL");
    awaitExit(pid);
    node.pid = 0;
  }

  /** Restarts a killed or stopped {@code node} on its ports and store and waits until healthy. */
  void restart(Node node) throws Exception {
    if (node.pid != 0) {
      throw new IllegalStateException(node.name + " is still running (pid " + node.pid + ")");
    }
    launch(node);
    awaitHealthy(node);
  }

  /** Pauses {@code node} (SIGSTOP). */
  void pause(Node node) throws Exception {
    signal(node.pid, "STOP");
  }

  /** Resumes a paused {@code node} (SIGCONT). */
  void resume(Node node) throws Exception {
    signal(node.pid, "CONT");
  }

  @Override
  public void close() {
    for (Node node : nodes) {
      long pid = node.pid;
      if (pid != 0) {
        try {
          signal(pid, "CONT");
          signal(pid, "TERM");
          if (!waitGone(pid, Duration.ofSeconds(10))) {
            signal(pid, "KILL");
            waitGone(pid, Duration.ofSeconds(10));
          }
        } catch (Exception e) {
          // best effort at shutdown; the hook kills what is left
        }
        node.pid = 0;
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    deleteTree(dir);
  }

  private void killAll() {
    for (Node node : nodes) {
      long pid = node.pid;
      if (pid != 0) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private String config(Node node, boolean clustered) {
    String store = dir.resolve(node.name + "-store").toString();
    StringBuilder c = new StringBuilder();
    c.append("server_name: ").append(node.name).append('\n');
    c.append("listen: 127.0.0.1:").append(node.clientPort).append('\n');
    c.append("http: 127.0.0.1:").append(node.monitorPort).append('\n');
    c.append("pid_file: \"").append(node.pidFile).append("\"\n");
    c.append("log_file: \"").append(node.log).append("\"\n");
    c.append("jetstream {\n  store_dir: \"").append(store).append("\"\n");
    c.append("  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n");
    if (clustered) {
      c.append("cluster {\n  name: cfn-test\n  listen: 127.0.0.1:").append(node.routePort);
      c.append("\n  routes: [\n");
      for (Node other : nodes) {
        if (other != node) {
          c.append("    nats-route://127.0.0.1:").append(other.routePort).append('\n');
        }
      }
      c.append("  ]\n}\n");
    }
    return c.toString();
  }

  private void check(Node node) throws IOException {
    Process p =
        new ProcessBuilder(SERVER, "-t", "-c", node.config.toString())
            .redirectErrorStream(true)
            .start();
    try {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("nats-server -t did not finish for " + node.config);
      }
      String out = new String(p.getInputStream().readAllBytes());
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "nats-server -t -c " + node.config + " rejected the config: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private void launch(Node node) throws Exception {
    Files.deleteIfExists(node.pidFile);
    new ProcessBuilder("setsid", SERVER, "-c", node.config.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(node.name + ".out").toFile()))
        .start();
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      if (Files.exists(node.pidFile)) {
        String text = Files.readString(node.pidFile).trim();
        if (!text.isEmpty()) {
          node.pid = Long.parseLong(text);
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            node.name + " wrote no pid file in " + READY_TIMEOUT + "; see " + node.log);
      }
      Thread.sleep(20);
    }
  }

  private void awaitHealthy(Node node) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(node.monitorUrl() + "/healthz"))
            .timeout(Duration.ofSeconds(2))
            .build();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
        last = response.statusCode() + " " + response.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        node.name + " not healthy after " + READY_TIMEOUT + " (" + last + "); see " + node.log);
  }

  private void awaitJetStream() throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    try (Connection c = connect()) {
      Exception last = null;
      while (System.nanoTime() < deadline) {
        try {
          c.jetStreamManagement().getAccountStatistics();
          return;
        } catch (Exception e) {
          last = e;
          Thread.sleep(100);
        }
      }
      throw new IllegalStateException("JetStream did not answer in " + READY_TIMEOUT, last);
    }
  }

  private static void signal(long pid, String signal) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
    }
  }

  private static void awaitExit(long pid) throws InterruptedException {
    if (!waitGone(pid, Duration.ofSeconds(10))) {
      throw new IllegalStateException("process " + pid + " still alive 10 s after SIGKILL");
    }
  }

  private static boolean waitGone(long pid, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
        return true;
      }
      Thread.sleep(20);
    }
    return false;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException e) {
      // a temp dir left behind is harmless
    }
  }
}
