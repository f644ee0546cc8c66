package dev.cfn.cluster.harness;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A JetStream cluster of {@code n} nats-server processes of its own (Debian's {@code
 * /usr/sbin/nats-server}) on free loopback ports, each with its own client, route and monitoring
 * port and its store in a temporary folder. Each config is checked with {@code nats-server -t}
 * before start; each server is started under {@code setsid} and known by the PID it writes to its
 * {@code pid_file}; {@link #close()} (and a JVM shutdown hook) stops them by PID and deletes the
 * folder. A server can be SIGKILLed and restarted on the same ports and store, or paused with
 * SIGSTOP and resumed with SIGCONT.
 */
public final class LocalNats implements AutoCloseable {
  /** Debian's nats-server. */
  public static final Path SERVER = Path.of("/usr/sbin/nats-server");

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final List<Server> servers = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Thread hook;

  private static final class Server {
    final String name;
    final int clientPort;
    final int routePort;
    final int monitorPort;
    final Path config;
    final Path pidFile;
    final Path log;
    volatile long pid;

    Server(String name, Path dir) {
      this.name = name;
      this.clientPort = Processes.freePort();
      this.routePort = Processes.freePort();
      this.monitorPort = Processes.freePort();
      this.config = dir.resolve(name + ".conf");
      this.pidFile = dir.resolve(name + ".pid");
      this.log = dir.resolve(name + ".log");
    }
  }

  private LocalNats(int size) throws IOException {
    if (!Files.isExecutable(SERVER)) {
      throw new IllegalStateException(
          SERVER + " is missing (fix: sudo apt-get install -y nats-server)");
    }
    dir = Files.createTempDirectory("cfn-nats-");
    for (int i = 1; i <= size; i++) {
      servers.add(new Server("n" + i, dir));
    }
    for (Server s : servers) {
      Files.writeString(s.config, config(s, size > 1));
      Processes.run(List.of(SERVER.toString(), "-t", "-c", s.config.toString()), 20);
    }
    hook = new Thread(this::killAll, "cfn-local-nats-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts {@code size} JetStream servers (a cluster when more than one) and waits until each is
   * healthy and JetStream answers.
   */
  public static LocalNats start(int size) throws Exception {
    if (size < 1) {
      throw new IllegalArgumentException("at least one server, was " + size);
    }
    LocalNats nats = new LocalNats(size);
    try {
      for (Server s : nats.servers) {
        nats.launch(s);
      }
      for (Server s : nats.servers) {
        nats.awaitHealthy(s);
      }
      nats.awaitJetStream();
      return nats;
    } catch (Exception | Error e) {
      nats.close();
      throw e;
    }
  }

  /** How many servers. */
  public int size() {
    return servers.size();
  }

  /** The client URL of server {@code index} ({@code nats://127.0.0.1:PORT}). */
  public String url(int index) {
    return "nats://127.0.0.1:" + servers.get(index).clientPort;
  }

  /** The client URLs of every server. */
  public List<String> urls() {
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      urls.add(url(i));
    }
    return urls;
  }

  /** The client port of server {@code index}. */
  public int clientPort(int index) {
    return servers.get(index).clientPort;
  }

  /** The monitoring URL of server {@code index} ({@code http://127.0.0.1:PORT}). */
  public String monitorUrl(int index) {
    return "http://127.0.0.1:" + servers.get(index).monitorPort;
  }

  /** The server's name in the cluster ({@code n1}, {@code n2}...). */
  public String name(int index) {
    return servers.get(index).name;
  }

  /** The PID of server {@code index}, 0 while it is down. */
  public long pid(int index) {
    return servers.get(index).pid;
  }

  /** The PIDs of the servers running now (those down are left out). */
  public List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      long pid = pid(i);
      if (pid != 0) {
        pids.add(pid);
      }
    }
    return pids;
  }

  /** The log file of server {@code index}. */
  public Path log(int index) {
    return servers.get(index).log;
  }

  /** Connection options to every server, with reconnects that outlast a server's restart. */
  public Options.Builder options() {
    return new Options.Builder()
        .servers(urls().toArray(String[]::new))
        .maxReconnects(-1)
        .reconnectWait(Duration.ofMillis(100))
        .connectionTimeout(Duration.ofSeconds(5));
  }

  /** A new connection with {@link #options()}. */
  public Connection connect() throws IOException, InterruptedException {
    return Nats.connect(options().build());
  }

  /**
   * The index of the server leading stream {@code stream}, waiting up to 30 s for it to have one;
   * {@code unlike} (an index, or -1) is a leader not accepted (the one just killed).
   */
  public int streamLeader(Connection connection, String stream, int unlike) throws Exception {
    JetStreamManagement jsm = connection.jetStreamManagement();
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        var cluster = jsm.getStreamInfo(stream).getClusterInfo();
        String leader = cluster == null ? null : cluster.getLeader();
        if (leader != null && !leader.isEmpty()) {
          int index = indexOf(leader);
          if (index >= 0 && index != unlike) {
            return index;
          }
        }
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException(
        "stream " + stream + " has no leader after " + READY_TIMEOUT, last);
  }

  private int indexOf(String name) {
    for (int i = 0; i < servers.size(); i++) {
      if (servers.get(i).name.equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** SIGKILLs server {@code index} and waits until its process is gone. */
  public void kill(int index) throws InterruptedException {
    Server s = servers.get(index);
    long pid = s.pid;
    if (pid == 0) {
      return;
    }
    Processes.signal(pid, "KILL");
    if (!Processes.waitGone(pid, Duration.ofSeconds(10))) {
      throw new IllegalStateException("nats-server " + pid + " still alive 10 s after SIGKILL");
    }
    s.pid = 0;
  }

  /** Pauses server {@code index} (SIGSTOP); {@link #resume} or {@link #close()} wakes it. */
  public void pause(int index) {
    Processes.signal(running(index), "STOP");
  }

  /** Resumes a paused server {@code index} (SIGCONT). */
  public void resume(int index) {
    Processes.signal(running(index), "CONT");
  }

  private long running(int index) {
    Server s = servers.get(index);
    long pid = s.pid;
    if (pid == 0) {
      throw new IllegalStateException(s.name + " is not running");
    }
    return pid;
  }

  /** Restarts a killed server {@code index} on its ports and store and waits until healthy. */
  public void restart(int index) throws Exception {
    Server s = servers.get(index);
    if (s.pid != 0) {
      throw new IllegalStateException(s.name + " is still running (pid " + s.pid + ")");
    }
    launch(s);
    awaitHealthy(s);
  }

  /**
   * Stops every server by its PID (SIGCONT for a paused one, SIGTERM, SIGKILL after 10 s) and
   * deletes the folder.
   */
  @Override
  public void close() {
    for (Server s : servers) {
      long pid = s.pid;
      if (pid != 0) {
        try {
          Processes.signal(pid, "CONT");
          Processes.signal(pid, "TERM");
          if (!Processes.waitGone(pid, Duration.ofSeconds(10))) {
            Processes.signal(pid, "KILL");
            Processes.waitGone(pid, Duration.ofSeconds(10));
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
          // gone already; the hook kills what is left
        }
        s.pid = 0;
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    Processes.deleteTree(dir);
  }

  private void killAll() {
    for (Server s : servers) {
      long pid = s.pid;
      if (pid != 0) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private String config(Server s, boolean clustered) {
    String store = dir.resolve(s.name + "-store").toString();
    StringBuilder c = new StringBuilder();
    c.append("server_name: ").append(s.name).append('\n');
    c.append("listen: 127.0.0.1:").append(s.clientPort).append('\n');
    c.append("http: 127.0.0.1:").append(s.monitorPort).append('\n');
    c.append("pid_file: \"").append(s.pidFile).append("\"\n");
    c.append("log_file: \"").append(s.log).append("\"\n");
    c.append("jetstream {\n  store_dir: \"").append(store).append("\"\n");
    c.append("  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n");
    if (clustered) {
      c.append("cluster {\n  name: cfn-local\n  listen: 127.0.0.1:").append(s.routePort);
      c.append("\n  routes: [\n");
      for (Server other : servers) {
        if (other != s) {
          c.append("    nats-route://127.0.0.1:").append(other.routePort).append('\n');
        }
      }
      c.append("  ]\n}\n");
    }
    return c.toString();
  }

  private void launch(Server s) throws Exception {
    Files.deleteIfExists(s.pidFile);
    new ProcessBuilder("setsid", SERVER.toString(), "-c", s.config.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(s.name + ".out").toFile()))
        .start();
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      if (Files.exists(s.pidFile)) {
        String text = Files.readString(s.pidFile).trim();
        if (!text.isEmpty()) {
          s.pid = Long.parseLong(text);
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            s.name + " wrote no pid file in " + READY_TIMEOUT + "; see " + s.log);
      }
      Thread.sleep(20);
    }
  }

  private void awaitHealthy(Server s) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.monitorPort + "/healthz"))
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
        s.name + " not healthy after " + READY_TIMEOUT + " (" + last + "); see " + s.log);
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
}
