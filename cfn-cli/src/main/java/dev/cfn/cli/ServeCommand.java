package dev.cfn.cli;

import dev.cfn.server.CfnServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn serve}: runs the node as an HTTPS server ({@link CfnServer}) over the state of {@code
 * HOME/.cfn} until SIGTERM or Ctrl-C, which stop it cleanly (requests in progress finish, the
 * runtime drains, the stores close). Prints {@code listening on https://127.0.0.1:PORT} and the
 * certificate's SHA-256 fingerprint once it answers.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Runs this node as an HTTPS API server (TLS 1.3, bearer tokens from cfn token create).",
      "State under HOME/.cfn: the journal, memory, tokens and tls/ (a self-signed certificate is"
          + " generated on the first start). Stops cleanly on SIGTERM or Ctrl-C."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--port",
      paramLabel = "N",
      description = "The port (default: 8443; 0 for any free port).")
  int port = CfnServer.DEFAULT_PORT;

  @Option(
      names = "--home",
      paramLabel = "DIR",
      description = "The folder whose .cfn holds the node's state (default: the current folder).")
  Path home = Path.of(".");

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      description = "The address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface).")
  String bind = CfnServer.DEFAULT_BIND;

  @Option(
      names = "--insecure-http",
      description =
          "Serve plain HTTP without TLS (tokens cross the network in clear text): for a trusted"
              + " loopback only; a warning is logged at every start.")
  boolean insecureHttp;

  @Option(
      names = "--client-certs",
      description =
          "Ask TLS clients for a certificate (mutual TLS): one trusted with cfn cert issue or cfn"
              + " cert trust authenticates without a bearer token; clients without one use tokens.")
  boolean clientCerts;

  @Option(
      names = "--backup-every",
      paramLabel = "DURATION",
      description =
          "Take a verified backup set of the journal, memory and call log this often (such as 1m);"
              + " off by default.")
  java.time.Duration backupEvery;

  @Option(
      names = "--backup-dir",
      paramLabel = "DIR",
      description = "Where the backup sets go (default: HOME/.cfn/backups).")
  Path backupDir;

  @Option(
      names = "--backup-keep",
      paramLabel = "N",
      description = "How many backup sets to keep (default: 24).")
  int backupKeep = 24;

  @Option(
      names = "--cluster",
      paramLabel = "FILE",
      description =
          "Join the cluster this YAML file names (NATS URLs, PostgreSQL URL and user, the password"
              + " from an environment variable or a file, node name); the agent definitions then"
              + " run on the cluster, sends to them go through it; see docs/cluster.md.")
  Path cluster;

  @Override
  public Integer call() throws Exception {
    dev.cfn.cluster.node.ClusterConfig clusterConfig = null;
    if (cluster != null) {
      try {
        clusterConfig = dev.cfn.cluster.node.ClusterConfig.load(cluster, System.getenv());
        // the server's agent definitions run as cluster agent types (joinCluster), but nothing
        // wires subscriptions or responders for them yet: a file that declares one is refused
        // before anything starts
        clusterConfig.check(java.util.Map.of(), java.util.Map.of());
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage(e.getMessage(), null);
      }
    }
    if (backupEvery != null && backupEvery.compareTo(java.time.Duration.ofSeconds(1)) < 0) {
      throw CommandFailure.usage(
          "--backup-every must be at least 1s, was " + backupEvery, "such as --backup-every 1m");
    }
    if (backupKeep < 1) {
      throw CommandFailure.usage(
          "--backup-keep must be at least 1, was " + backupKeep, "such as --backup-keep 24");
    }
    if ((backupDir != null) && backupEvery == null) {
      throw CommandFailure.usage(
          "--backup-dir without --backup-every", "add --backup-every, such as --backup-every 1m");
    }
    if (clientCerts && insecureHttp) {
      throw CommandFailure.usage(
          "--client-certs needs TLS, and --insecure-http turns it off",
          "drop --insecure-http or --client-certs");
    }
    if (port < 0 || port > 65535) {
      throw CommandFailure.usage(
          "--port must be 0 to 65535, was " + port, "such as --port 8443, or 0 for any free one");
    }
    if (!Files.isDirectory(home)) {
      throw CommandFailure.usage("--home " + home + " is not a folder", "give an existing folder");
    }
    if (bind.isBlank()) {
      throw CommandFailure.usage("--bind is empty", "such as --bind 127.0.0.1");
    }
    try {
      InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      throw CommandFailure.usage(
          "--bind " + bind + " is not an address of this machine",
          "such as --bind 127.0.0.1, or 0.0.0.0 for every interface");
    }
    PrintWriter out = spec.commandLine().getOut();
    CfnServer.Builder builder =
        CfnServer.builder(home)
            .port(port)
            .bind(bind)
            .insecureHttp(insecureHttp)
            .clientCertificates(clientCerts);
    if (backupEvery != null) {
      builder.backups(
          backupDir != null ? backupDir : home.resolve(".cfn").resolve("backups"),
          backupEvery,
          backupKeep);
    }
    CfnServer server;
    try {
      server = builder.start();
    } catch (dev.cfn.server.alerts.AlertConfigException e) {
      throw CommandFailure.usage(
          e.getMessage(),
          e.getMessage().contains("(fix:") ? null : "edit .cfn/alerts.yaml (docs/metrics.md)");
    }
    dev.cfn.cluster.node.ClusterConfig.Joined joined = null;
    if (clusterConfig != null) {
      try {
        joined =
            joinCluster(server, clusterConfig, System.getenv(), System.currentTimeMillis(), out);
      } catch (Exception e) {
        server.close();
        throw CommandFailure.failed(
            "cannot join the cluster of "
                + cluster
                + " ("
                + clusterConfig.describe()
                + "): "
                + e.getMessage(),
            "check that NATS and PostgreSQL run and that the file's URLs, user and password reach"
                + " them (cfn doctor --nats URL checks NATS)");
      }
    }
    dev.cfn.cluster.node.ClusterConfig.Joined member = joined;
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              try {
                if (member != null) {
                  try {
                    member.close(); // leaves: its partitions move to the others at once
                  } catch (Exception e) {
                    out.println("leaving the cluster failed: " + e.getMessage());
                  }
                }
                server.close();
                out.println("stopped");
                out.flush();
              } finally {
                stopped.countDown();
              }
            },
            "cfn-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    out.println("listening on " + server.url());
    out.println(
        server
            .fingerprint()
            .map(f -> "certificate SHA-256 fingerprint " + f)
            .orElse("plain HTTP (--insecure-http): no certificate"));
    out.println("dashboard " + server.url() + "/ui/ (sign in with a token: cfn token create)");
    out.println("encryption at rest " + server.encryptionAtRest());
    if (server.clientCertificates()) {
      out.println(
          "client certificates: accepted (mutual TLS; cfn cert issue, cfn cert list); bearer"
              + " tokens too");
    }
    if (member != null) {
      out.println(
          "joined cluster as node " + member.node().node() + " (" + clusterConfig.describe() + ")");
    }
    out.flush();
    stopped.await();
    return ExitCode.OK;
  }

  /** The payload classes the server's LLM agents send and receive, stored by the cluster. */
  static final java.util.List<Class<?>> CLUSTER_PAYLOADS =
      java.util.List.of(
          dev.cfn.ai.Task.class, dev.cfn.ai.TaskResult.class, dev.cfn.ai.TaskFailed.class);

  /**
   * Joins the cluster of {@code config} with the server's own agents on its path: each agent
   * definition of the server ({@link CfnServer#definitionAgents}) runs as a cluster agent type
   * ({@link dev.cfn.cluster.node.ClusterAgent#running}), and the server's API sends messages to
   * those types through the cluster ({@link CfnServer#runOnCluster}). With no model provider
   * configured the definitions cannot run anywhere: the node joins with none, and says so.
   */
  static dev.cfn.cluster.node.ClusterConfig.Joined joinCluster(
      CfnServer server,
      dev.cfn.cluster.node.ClusterConfig config,
      java.util.Map<String, String> env,
      long startMillis,
      PrintWriter out)
      throws Exception {
    java.util.Map<String, dev.cfn.cluster.node.ClusterAgent> agents = new java.util.TreeMap<>();
    try {
      server
          .definitionAgents()
          .forEach(
              (name, factory) ->
                  agents.put(name, dev.cfn.cluster.node.ClusterAgent.running(factory)));
    } catch (dev.cfn.ai.model.ModelConfigException e) {
      out.println(
          "the agent definitions do not run on the cluster: no model provider is configured ("
              + e.getMessage()
              + ")");
    }
    dev.cfn.cluster.node.ClusterConfig.Joined joined =
        config.join(env, agents, java.util.Map.of(), CLUSTER_PAYLOADS, startMillis);
    dev.cfn.cluster.node.ClusterNode node = joined.node();
    java.util.Set<String> types = java.util.Set.copyOf(agents.keySet());
    server.runOnCluster(
        new dev.cfn.server.ClusterPath() {
          @Override
          public java.util.Set<String> types() {
            return types;
          }

          @Override
          public long send(dev.cfn.core.AgentId to, Object payload, String idempotencyKey) {
            return node.send(to, payload, idempotencyKey);
          }

          @Override
          public long request(dev.cfn.core.AgentId to, Object payload, String idempotencyKey) {
            return node.ask(to, payload, idempotencyKey);
          }

          @Override
          public java.util.concurrent.CompletableFuture<dev.cfn.core.Envelope> answer(
              long requestId, java.time.Duration timeout) {
            return node.answer(requestId, timeout);
          }

          @Override
          public java.util.Optional<dev.cfn.core.Envelope> answerOf(long requestId) {
            return node.answerOf(requestId);
          }

          @Override
          public java.util.Optional<dev.cfn.core.Envelope> pendingRequest(long requestId) {
            return node.pendingRequest(requestId);
          }
        });
    if (!types.isEmpty()) {
      out.println(
          "agents on the cluster path: " + String.join(", ", new java.util.TreeSet<>(types)));
    }
    return joined;
  }
}
