package dev.cfn.certify;

import dev.cfn.core.AgentType;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.Role;
import dev.cfn.server.tls.ServerCertificate;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node the uptime and security checks serve in a JVM of its own: {@link CfnServer} over {@code
 * HOME/.cfn}, started as {@code cfn serve} starts it (TLS 1.3, tokens, audit log, a clean stop on
 * SIGTERM), on a given port so that a restarted node answers at the same address (or on any free
 * one, port 0), with the {@link ServedNode#SINK} agent type for the load.
 *
 * <p>It prints {@code listening URL}, then {@code ready}; on SIGTERM it stops cleanly and prints
 * {@code stopped}. {@code --insecure-http}, {@code --client-certs} and {@code --max-body-bytes N}
 * set it up as {@code cfn serve}'s options of those names do ({@code --no-client-certs} turns the
 * second off again: the last one given wins).
 *
 * <p>For the honesty tests: {@code --halt-after N} makes it crash by itself (halt, as a SIGKILL
 * would) once its sink agents have handled N messages: a node that dies under load; {@code
 * --start-delay-ms MS} makes it sleep before it starts: a node that is slow to come back; {@code
 * --spill-to-temp} makes its sink agents write each payload they handle to a file in the JVM's
 * temporary folder: a node that leaks plaintext outside its home.
 */
final class ServeNode {
  private ServeNode() {}

  /** Starts a node with {@code args} (see {@link #main}) in a JVM of its own. */
  static ChildJvm start(List<String> args, Path log) throws IOException {
    return CrashNode.launch(ServeNode.class, args, log).start();
  }

  /**
   * Entry point: {@code --home DIR --port N [--insecure-http] [--client-certs | --no-client-certs]
   * [--max-body-bytes N] [--halt-after N] [--start-delay-ms MS] [--spill-to-temp]}. Bad arguments,
   * or a node that cannot start: one line on standard error, exit 2 or 1.
   */
  public static void main(String[] args) throws Exception {
    Path home = null;
    int port = -1;
    long haltAfter = 0;
    long startDelayMs = 0;
    boolean insecureHttp = false;
    boolean clientCerts = false;
    int maxBodyBytes = CfnServer.DEFAULT_MAX_BODY_BYTES;
    boolean spill = false;
    boolean queueLoad = false;
    boolean reportArrivals = false;
    double rateLimit = 0;
    String modelUrl = null;
    int modelAttempts = 100;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--home" -> home = Path.of(args[++i]);
          case "--port" -> port = Integer.parseInt(args[++i]);
          case "--insecure-http" -> insecureHttp = true;
          case "--client-certs" -> clientCerts = true;
          case "--no-client-certs" -> clientCerts = false;
          case "--max-body-bytes" -> maxBodyBytes = Integer.parseInt(args[++i]);
          case "--halt-after" -> haltAfter = Long.parseLong(args[++i]);
          case "--start-delay-ms" -> startDelayMs = Long.parseLong(args[++i]);
          case "--spill-to-temp" -> spill = true;
          case "--queue-load" -> queueLoad = true;
          case "--report-arrivals" -> reportArrivals = true;
          case "--rate-limit" -> rateLimit = Double.parseDouble(args[++i]);
          case "--model-url" -> modelUrl = args[++i];
          case "--model-attempts" -> modelAttempts = Integer.parseInt(args[++i]);
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
      if (home == null || port < 0) {
        throw new IllegalArgumentException("--home and --port are needed");
      }
    } catch (RuntimeException e) {
      System.err.println(
          CrashNode.ERROR_PREFIX + e.getMessage() + " (fix: it is started by cfn certify)");
      System.exit(2);
      return;
    }
    Thread.sleep(startDelayMs);
    AtomicLong handled = new AtomicLong();
    MonitoringCheck.QueueLoad queues = queueLoad ? new MonitoringCheck.QueueLoad() : null;
    CfnServer server;
    try {
      CfnServer.Builder b =
          CfnServer.builder(home)
              .port(port)
              .insecureHttp(insecureHttp)
              .clientCertificates(clientCerts)
              .maxBodyBytes(maxBodyBytes)
              .agentType(
                  spill
                      ? spilling(handled)
                      : ServedNode.sink(handled, reportArrivals ? ServeNode::arrived : null));
      if (rateLimit > 0) {
        b.rateLimit(rateLimit, (int) Math.ceil(rateLimit));
      }
      if (queues != null) {
        b.agentType(queues.type());
      }
      if (modelUrl != null) {
        b.agentType(ResilienceCheck.llmType(modelUrl, modelAttempts));
      }
      server = b.start();
    } catch (RuntimeException e) {
      System.err.println(CrashNode.ERROR_PREFIX + "cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                    System.out.println("stopped");
                    System.out.flush();
                  } finally {
                    stopped.countDown();
                  }
                },
                "certify-node-stop"));
    System.out.println("listening " + server.url());
    System.out.println("ready");
    System.out.flush();
    if (queues != null) {
      Thread.ofPlatform()
          .daemon(true)
          .name("certify-queue-load")
          .start(() -> queueLoad(server, queues));
    }
    if (haltAfter > 0) {
      while (handled.get() < haltAfter) {
        Thread.sleep(5);
      }
      System.out.println("halting after " + handled.get() + " messages");
      System.out.flush();
      Runtime.getRuntime().halt(137);
    }
    stopped.await();
  }

  /** {@code --report-arrivals}: one line {@code arrived ITEM N} for the N-th arrival of ITEM. */
  private static synchronized void arrived(String item, int n) {
    System.out.println("arrived " + item + " " + n);
    System.out.flush();
  }

  /**
   * {@code --queue-load}: once a line {@code queue-load start} arrives on standard input, a burst
   * of {@link MonitoringCheck.QueueLoad} every second on the node's own runtime, each followed by a
   * line {@code queue-load NAME=N ...} with its figures so far.
   */
  private static void queueLoad(CfnServer server, MonitoringCheck.QueueLoad queues) {
    try {
      java.io.BufferedReader in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.strip().equals("queue-load start")) {
          break;
        }
      }
      while (true) {
        queues.burst(server.runtime());
        StringBuilder b = new StringBuilder("queue-load");
        queues.figures().forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        System.out.println(b);
        System.out.flush();
        Thread.sleep(1_000);
      }
    } catch (java.io.IOException | InterruptedException | IllegalStateException e) {
      // stdin closed, or the node is stopping: the load ends
    }
  }

  /** The sink type of {@code --spill-to-temp}: each payload is also written to a temporary file. */
  private static AgentType spilling(AtomicLong handled) {
    return AgentType.builder(
            ServedNode.SINK,
            id ->
                (m, ctx) -> {
                  Path spill = Files.createTempFile("certify-spill-", ".txt");
                  Files.writeString(spill, String.valueOf(m.payload()), StandardCharsets.UTF_8);
                  handled.incrementAndGet();
                  if (m.isRequest()) {
                    ctx.reply(m.payload());
                  }
                })
        .blocking()
        .build();
  }

  /**
   * A node started by {@link #serve} in a JVM of its own: its home, its temporary folder, the
   * client the checks call it with. {@link #close} stops it (SIGTERM, a clean stop).
   */
  static final class Served implements AutoCloseable {
    final Path home;
    final Path temp;
    final ApiClient client;
    final ChildJvm jvm;

    private Served(Path home, Path temp, ApiClient client, ChildJvm jvm) {
      this.home = home;
      this.temp = temp;
      this.client = client;
      this.jvm = jvm;
    }

    /** A token of {@code role} with {@code scopes} (default {@code *}), valid for a day. */
    String token(Role role, String... scopes) {
      return ServedNode.token(home, role, scopes);
    }

    /** A token that expired a day ago. */
    String expiredToken(Role role) {
      return ServedNode.expiredToken(home, role);
    }

    /** A token that was revoked. */
    String revokedToken(Role role) {
      return ServedNode.revokedToken(home, role);
    }

    /** The node's own TLS certificate and key, as it serves them. */
    ServerCertificate certificate() throws IOException {
      return ServerCertificate.loadOrCreate(home.resolve(".cfn").resolve("tls"), "127.0.0.1");
    }

    @Override
    public void close() throws InterruptedException {
      client.close();
      jvm.stop(30);
    }
  }

  /**
   * Serves the node of {@code home} in a JVM of its own on a free port, {@code options} added to
   * its arguments (see {@link #main}); its standard error goes to {@code log}, and its temporary
   * files to {@code temp} ({@code java.io.tmpdir}, {@code TMPDIR} and {@code SQLITE_TMPDIR}, which
   * the JVM, the SQLite driver and SQLite itself use). Returns once it is ready.
   *
   * @throws ChildJvm.Failure when it stops or is not ready within 120 s
   */
  static Served serve(Path home, Path temp, Path log, List<String> options)
      throws IOException, InterruptedException {
    Files.createDirectories(home);
    Files.createDirectories(temp);
    KeyStore trust = ApiClient.trustOf(home); // generates the certificate the node then uses
    List<String> args = new ArrayList<>(List.of("--home", home.toString(), "--port", "0"));
    args.addAll(options);
    String tmp = temp.toAbsolutePath().toString();
    ChildJvm jvm =
        CrashNode.launch(ServeNode.class, args, log)
            .jvmOption("-Djava.io.tmpdir=" + tmp)
            .environment("TMPDIR", tmp)
            .environment("SQLITE_TMPDIR", tmp)
            .start();
    try {
      jvm.await("ready", 120);
      String url = jvm.await("listening ", 5).substring("listening ".length()).strip();
      ApiClient client =
          new ApiClient(url, url.startsWith("https:") ? trust : null, Duration.ofSeconds(10));
      return new Served(home, temp, client, jvm);
    } catch (RuntimeException | InterruptedException e) {
      jvm.kill();
      throw e;
    }
  }
}
