package dev.cfn.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.RetryPolicy;
import dev.cfn.server.alerts.AlertConfig;
import dev.cfn.server.alerts.AlertEngine;
import dev.cfn.server.alerts.AlertHistory;
import dev.cfn.server.alerts.Webhook;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.audit.AuditTrail;
import dev.cfn.server.audit.StoreAuditTrail;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.mcp.CfnMcpServer;
import dev.cfn.server.mcp.McpAudit;
import dev.cfn.server.mcp.McpSettings;
import dev.cfn.server.metrics.Availability;
import dev.cfn.server.metrics.NodeMetrics;
import dev.cfn.server.tls.ClientCertificateTrust;
import dev.cfn.server.tls.ServerCertificate;
import dev.cfn.store.audit.AuditLog;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.io.ConnectionStatistics;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.ThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cfn node as an HTTPS server ({@code cfn serve}): the REST API over the in-process runtime and
 * the stores of {@code HOME/.cfn} (journal, memory, tokens), behind bearer tokens, roles and
 * scopes, per-token rate limits, validated bodies and an audit trail; {@code /health/*} are the
 * only routes open to anyone.
 *
 * <p>Built on Javalin 7 (Jetty 12, handlers on virtual threads): a small, explicit router whose
 * routes are plain lambdas, declared in one place so that the route table can drive the router, the
 * authorization and the OpenAPI document alike, with Jetty's TLS underneath, and without an
 * annotation scanner or a dependency-injection container in the request path.
 *
 * <p>TLS 1.3 only: the connector offers no other protocol, so a TLS 1.2 client fails its handshake
 * and a plain-HTTP request is not answered. The certificate and key are read from {@code
 * .cfn/tls/}, or generated self-signed there on the first start ({@link ServerCertificate}). {@link
 * Builder#insecureHttp} serves plain HTTP instead, for a trusted loopback only, and logs a warning
 * every start.
 *
 * <pre>{@code
 * try (CfnServer server = CfnServer.builder(Path.of(".")).port(0).start()) {
 *   System.out.println(server.url() + " " + server.fingerprint().orElse(""));
 * }
 * }</pre>
 */
public final class CfnServer implements AutoCloseable {
  /**
   * The prefixes of the agent type names the node keeps for its own agents: a name equal to one, or
   * one followed by {@code -} and more, is refused by {@link Builder#agentType}.
   */
  public static final List<String> RESERVED_TYPE_PREFIXES =
      List.of("cfn-server", "cfn-loop", "cfn-flow", "cfn-swarm");

  private static final Map<String, String> RESERVED_USES =
      Map.of(
          "cfn-server", "its events recorder, swarm registry, loop acceptances and verdicts",
          "cfn-loop", "the CFN Loop's coordinators, calls and index",
          "cfn-flow", "the task graphs' runs and tasks",
          "cfn-swarm", "the swarms' rounds and ledgers");

  /** The reserved prefix {@code type} falls under, if any. */
  static Optional<String> reservedPrefix(String type) {
    for (String p : RESERVED_TYPE_PREFIXES) {
      if (type.equals(p) || type.startsWith(p + "-")) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static final Logger log = LoggerFactory.getLogger(CfnServer.class);

  /** The port {@code cfn serve} listens on unless told otherwise. */
  public static final int DEFAULT_PORT = 8443;

  /** The address {@code cfn serve} binds unless told otherwise: loopback only. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  /** The largest request body accepted unless told otherwise: 1 MiB. */
  public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;

  /**
   * Calls with a refused token answered per client address before 429: enough for a client that
   * retries, few enough that a flood cannot monopolise the token store.
   */
  static final double FAILURES_PER_SECOND = 100;

  static final int FAILURES_BURST = 1000;

  /** The source of the in-memory key store's password (it never leaves the process). */
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Javalin app;
  private final Node node;
  private final List<ApiRoute> routes;
  private final ServerCertificate certificate; // null with insecure HTTP
  private final String host;
  private final AuditLog auditLog; // null when the builder was given an audit trail
  private final ScheduledExecutorService probes;
  private final CfnMcpServer mcp; // the MCP server over streamable HTTP, at /mcp
  private final boolean clientCertificates;
  private String encryptionAtRest = "";
  private volatile boolean ready;

  private CfnServer(
      Javalin app,
      Node node,
      List<ApiRoute> routes,
      ServerCertificate certificate,
      String host,
      AuditLog auditLog,
      ScheduledExecutorService probes,
      CfnMcpServer mcp,
      boolean clientCertificates) {
    this.clientCertificates = clientCertificates;
    this.auditLog = auditLog;
    this.probes = probes;
    this.mcp = mcp;
    this.app = app;
    this.node = node;
    this.routes = routes;
    this.certificate = certificate;
    this.host = host;
  }

  /** A server for the node whose state is under {@code home/.cfn}. */
  public static Builder builder(Path home) {
    return new Builder(home);
  }

  /** The port it listens on (the one chosen, for port 0). */
  public int port() {
    return app.jettyServer().port();
  }

  /** {@code https://127.0.0.1:PORT} (or {@code http://} with insecure HTTP). */
  public String url() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return (certificate == null ? "http" : "https") + "://" + h + ":" + port();
  }

  /** The SHA-256 fingerprint of the TLS certificate; empty with insecure HTTP. */
  public Optional<String> fingerprint() {
    return Optional.ofNullable(certificate).map(ServerCertificate::fingerprint);
  }

  /** The TLS certificate; empty with insecure HTTP. */
  public Optional<ServerCertificate> certificate() {
    return Optional.ofNullable(certificate);
  }

  /**
   * True when the server asks TLS clients for a certificate and authenticates a trusted one without
   * a bearer token (see {@link Builder#clientCertificates}).
   */
  public boolean clientCertificates() {
    return clientCertificates;
  }

  /**
   * Whether the stores seal their records at rest, and where the master key comes from ({@code
   * .cfn/keys/master.json} or the environment variable {@code CFN_MASTER_KEY}); never a key. Such
   * as {@code on (AES-256-GCM, master key from .../.cfn/keys/master.json)}.
   */
  public String encryptionAtRest() {
    return encryptionAtRest;
  }

  /** What {@link #encryptionAtRest()} says for the node under {@code home} with {@code env}. */
  static String encryptionAtRest(Path home, java.util.Map<String, String> env) {
    Path keys = dev.cfn.store.crypto.AtRest.keysFolderOf(home.resolve(".cfn").resolve("cfn.db"));
    if (env.get(dev.cfn.store.crypto.Keyring.MASTER_KEY_ENV) != null) {
      return "on (AES-256-GCM, master key from the environment variable "
          + dev.cfn.store.crypto.Keyring.MASTER_KEY_ENV
          + ", data keys in "
          + keys
          + ")";
    }
    if (dev.cfn.store.crypto.Keyring.configured(keys, env)) {
      return "on (AES-256-GCM, master key from " + keys.resolve("master.json") + ")";
    }
    return "off (no keyring: records are stored plain; cfn keys init creates one and seals what"
        + " is there)";
  }

  /** True while the server answers {@code /health/ready} with 200. */
  public boolean isReady() {
    return ready;
  }

  /** The runtime it serves (for embedding: register types, subscribe agents). */
  public AgentRuntime runtime() {
    return node.runtime;
  }

  /**
   * The server's own agents for a cluster to run ({@code cfn serve --cluster}): the valid agent
   * definitions of {@code .claude/agents} as LLM agent factories, by name, each with the node's
   * model router, memory and messaging tools, call log and a budget per agent (the node's, not the
   * cluster's). A rollout of a definition is not applied to them. Empty when there is none.
   *
   * @throws dev.cfn.ai.model.ModelConfigException when there are definitions and no model provider
   *     is configured
   */
  public java.util.Map<String, dev.cfn.core.AgentFactory> definitionAgents() {
    return node.definitionFactories();
  }

  /**
   * Runs the agent types of {@code path} on the cluster: from now on the API's sends to agents of
   * those types ({@code POST /v1/messages/send}) go through {@link ClusterPath#send}, RELIABLE
   * whatever the request says, instead of the embedded runtime, and their requests ({@code POST
   * /v1/messages/request}) through {@link ClusterPath#request}, whose stored answers {@code GET
   * /v1/messages/{id}/answer} reads; idempotency keys are taken by the cluster's database. Spawning
   * is refused for them with a problem that says so. Null runs every type on the embedded runtime
   * again.
   */
  public void runOnCluster(ClusterPath path) {
    node.cluster = path;
  }

  /** Every route as {@code METHOD PATH}, from the route table. */
  public List<String> routes() {
    return routes.stream().map(ApiRoute::label).toList();
  }

  /** Every route as {@code METHOD PATH}, as the router itself holds them. */
  public List<String> routerRoutes() {
    return app.unsafe.internalRouter.allHttpHandlers().stream()
        .map(p -> p.endpoint.method.name() + " " + p.endpoint.path)
        .toList();
  }

  /**
   * Stops taking requests (readiness first, then the connector, letting calls in progress finish),
   * then shuts the runtime down and closes the stores.
   */
  @Override
  public void close() {
    ready = false;
    probes.shutdownNow();
    node.availability.stopped(); // a clean stop: not counted as down time
    node.alerts.close();
    node.events.close(); // ends the event streams, so that the connector can stop
    try {
      mcp.close(); // ends the MCP sessions' streams, so that the connector can stop
      app.stop();
    } finally {
      try {
        node.close();
      } finally {
        try {
          if (auditLog != null) {
            auditLog.close();
          }
        } finally {
          node.metrics.close();
        }
      }
    }
  }

  /** The node's metrics registry (what {@code GET /metrics} shows). */
  public NodeMetrics metrics() {
    return node.metrics;
  }

  /** The alert rules' evaluation. */
  public AlertEngine alerts() {
    return node.alerts;
  }

  /** The node's availability record. */
  public Availability availability() {
    return node.availability;
  }

  /** How the server is set up; {@link #start()} opens the stores and listens. */
  public static final class Builder {
    private final Path home;
    private String bind = DEFAULT_BIND;
    private int port = DEFAULT_PORT;
    private boolean insecureHttp;
    private boolean clientCertificates;
    private AuditTrail audit; // null: cfn-store's audit log under .cfn/audit
    private final List<AgentType> types = new ArrayList<>();
    private Supplier<ModelConfig> models;
    private double ratePerSecond = 50;
    private int rateBurst = 100;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private Clock clock = Clock.systemUTC();
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private AlertConfig alerts; // null: .cfn/alerts.yaml, or the defaults
    private Duration probeEvery = Availability.DEFAULT_PROBE_EVERY;
    private Duration webhookBackoff = Duration.ofSeconds(1);
    private Path backupDir; // null: no scheduled backups
    private java.time.Duration backupEvery;
    private int backupKeep;
    private dev.cfn.ai.rollout.CriticalAlerts criticalAlerts =
        dev.cfn.ai.rollout.CriticalAlerts.NONE;

    private Builder(Path home) {
      this.home = Objects.requireNonNull(home, "home").toAbsolutePath().normalize();
    }

    /** The address to bind (default 127.0.0.1; 0.0.0.0 for every interface). */
    public Builder bind(String address) {
      this.bind = Objects.requireNonNull(address, "address");
      return this;
    }

    /** The port (default 8443; 0 for any free one). */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 to 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /** Serve plain HTTP instead of TLS: a warning is logged at every start. */
    public Builder insecureHttp(boolean on) {
      this.insecureHttp = on;
      return this;
    }

    /**
     * Asks each TLS client for a certificate (mutual TLS, optional for the client): a client that
     * presents one trusted with {@code cfn cert issue} or {@code cfn cert trust} is authenticated
     * as its principal without a bearer token; an unknown, expired or revoked one is refused (401,
     * audited), and clients without a certificate use tokens as before. Off by default, so that
     * browsers are not asked to pick a certificate for the dashboard. Needs TLS.
     */
    public Builder clientCertificates(boolean on) {
      this.clientCertificates = on;
      return this;
    }

    /**
     * Where audit events go (default: the append-only, hash-chained audit log under {@code
     * .cfn/audit}, opened with the server and closed with it; see {@link StoreAuditTrail}).
     *
     * <p>The events {@code cfn token} and {@code cfn cert} queue in the token file ({@link
     * TokenStore#drainAuditOutbox}) are not moved into {@code trail}: a trail confirms nothing (its
     * {@link AuditTrail#record} must not throw), so moving them would delete events it may have
     * failed to store. They stay queued, exactly once, for the hash-chained log under {@code
     * .cfn/audit}, which such a node does not hold: the commands move them in themselves as they
     * run. The node logs a warning at start when events are queued.
     */
    public Builder audit(AuditTrail trail) {
      this.audit = Objects.requireNonNull(trail, "trail");
      return this;
    }

    /**
     * Registers an agent type on the runtime besides the definitions of {@code .claude/agents}.
     *
     * @throws IllegalArgumentException for a name the node keeps for its own agents ({@link
     *     CfnServer#RESERVED_TYPE_PREFIXES}: {@code cfn-server}, {@code cfn-loop}, {@code
     *     cfn-flow}, {@code cfn-swarm}, alone or followed by {@code -...}): a type registered first
     *     would stand in for the node's own agent of that name (a loop's coordinator, a swarm's
     *     ledger, the events recorder) and take its messages
     */
    public Builder agentType(AgentType type) {
      Objects.requireNonNull(type, "type");
      reservedPrefix(type.name())
          .ifPresent(
              p -> {
                throw new IllegalArgumentException(
                    "agent type '"
                        + type.name()
                        + "' is reserved: names "
                        + p
                        + " and "
                        + p
                        + "-* are the node's own agents ("
                        + RESERVED_USES.get(p)
                        + "), which a type of that name would replace (fix: give the type"
                        + " another name)");
              });
      types.add(type);
      return this;
    }

    /**
     * Registers {@code type} even when its name is reserved: for a test that stands in for one of
     * the node's own agents (a crash test that holds a loop's coordinator).
     */
    Builder reservedAgentType(AgentType type) {
      types.add(Objects.requireNonNull(type, "type"));
      return this;
    }

    /**
     * The model providers for agents spawned from definitions (default: {@code .cfn/providers.yaml}
     * and the environment, read on the first spawn).
     */
    public Builder models(Supplier<ModelConfig> config) {
      this.models = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Each token's rate limit: {@code perSecond} on average, bursts of {@code burst}. */
    public Builder rateLimit(double perSecond, int burst) {
      if (!(perSecond > 0) || burst < 1) {
        throw new IllegalArgumentException(
            "the rate limit must be above 0 per second with a burst of at least 1");
      }
      this.ratePerSecond = perSecond;
      this.rateBurst = burst;
      return this;
    }

    /** The largest request body accepted, in bytes. */
    public Builder maxBodyBytes(int bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("the body limit must be at least 1 byte");
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /** How reliable messages are retried before they are dead-lettered. */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retry = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The alert rules and webhook (default: {@code .cfn/alerts.yaml}, written with the seed's
     * defaults on the first start when absent; see {@link AlertConfig}).
     */
    public Builder alerts(AlertConfig config) {
      this.alerts = Objects.requireNonNull(config, "config");
      return this;
    }

    /** How often the node probes its own readiness for its availability record (default 5 s). */
    public Builder probeEvery(Duration every) {
      if (every.isNegative() || every.isZero()) {
        throw new IllegalArgumentException("the probe period must be above 0");
      }
      this.probeEvery = every;
      return this;
    }

    /** The first wait between webhook retries, doubled each time (default 1 s). */
    public Builder webhookBackoff(Duration backoff) {
      this.webhookBackoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /**
     * Takes a backup set of the journal, memory and call log ({@code dev.cfn.store.backup}) into
     * {@code dir} every {@code every}, keeping the newest {@code keep}; off by default.
     */
    public Builder backups(Path dir, java.time.Duration every, int keep) {
      if (every.isNegative() || every.isZero() || keep < 1) {
        throw new IllegalArgumentException("backups need a positive interval and keep at least 1");
      }
      this.backupDir = Objects.requireNonNull(dir, "dir");
      this.backupEvery = every;
      this.backupKeep = keep;
      return this;
    }

    /**
     * The critical alerts that roll a canary rollout back ({@code dev.cfn.ai.rollout}); default:
     * none. The alerting plugs in here.
     */
    public Builder criticalAlerts(dev.cfn.ai.rollout.CriticalAlerts alerts) {
      this.criticalAlerts = Objects.requireNonNull(alerts, "alerts");
      return this;
    }

    /** The clock of the audit events and token expiry checks (tests move it). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Opens the stores (recovering the journal), reads or generates the certificate, and listens.
     *
     * @throws IOException when the certificate cannot be read or written
     * @throws RuntimeException when a store cannot be opened or the port cannot be bound; nothing
     *     stays open then
     */
    public CfnServer start() throws IOException {
      if (clientCertificates && insecureHttp) {
        throw new IllegalArgumentException(
            "client certificates need TLS, and the server was told to serve plain HTTP (fix: drop"
                + " --insecure-http or --client-certs)");
      }
      AlertConfig rules = alerts;
      if (rules == null) {
        rules =
            AlertConfig.load(home, System.getenv()); // a bad file fails here, before anything opens
        if (AlertConfig.writeDefaultsIfAbsent(home)) {
          log.info(
              "cfn serve: wrote the default alert rules to {}", home.resolve(AlertConfig.FILE));
        }
      }
      ServerCertificate cert =
          insecureHttp
              ? null
              : ServerCertificate.loadOrCreate(home.resolve(".cfn").resolve("tls"), bind);
      Supplier<ModelConfig> providers =
          models != null ? models : () -> ModelConfig.discover(home, System.getenv());
      AuditLog auditLog = audit == null ? AuditLog.open(home.resolve(".cfn")) : null;
      AuditTrail trail = auditLog != null ? new StoreAuditTrail(auditLog) : audit;
      NodeMetrics metrics = NodeMetrics.create();
      Node node;
      try {
        node = Node.open(home, types, providers, retry, metrics);
      } catch (RuntimeException e) {
        if (auditLog != null) {
          auditLog.close();
        }
        metrics.close();
        throw e;
      }
      Node opened = node;
      node.criticalAlerts =
          criticalAlerts != dev.cfn.ai.rollout.CriticalAlerts.NONE
              ? criticalAlerts
              : () -> opened.firingCritical(); // the node's own alerting rolls rollouts back
      if (backupDir != null) {
        node.backups =
            dev.cfn.store.backup.StoreBackup.schedule(
                dev.cfn.store.backup.StoreFiles.in(home.resolve(".cfn")),
                backupDir,
                backupEvery,
                backupKeep);
      }
      node.rolloutAudit =
          e ->
              trail.record(
                  new dev.cfn.server.audit.AuditEvent(
                      e.at(),
                      dev.cfn.server.audit.AuditEvent.Kind.PRIVILEGED_ACTION,
                      e.by(),
                      "rollout." + e.kind(),
                      "agent:" + e.agent(),
                      dev.cfn.server.audit.AuditEvent.Outcome.SUCCESS,
                      e.detail()));
      try {
        return listen(node, cert, trail, auditLog, rules);
      } catch (RuntimeException e) {
        if (node.alerts != null) {
          node.alerts.close();
        }
        node.close();
        if (auditLog != null) {
          auditLog.close();
        }
        metrics.close();
        throw e;
      }
    }

    private CfnServer listen(
        Node node, ServerCertificate cert, AuditTrail audit, AuditLog auditLog, AlertConfig rules) {
      CfnServer[] self = new CfnServer[1];
      NodeMetrics metrics = node.metrics;
      node.availability =
          Availability.start(home.resolve(".cfn").resolve("availability.json"), clock);
      node.availability.bindTo(metrics.registry());
      io.micrometer.core.instrument.Counter auditFailures =
          metrics.counter(
              "cfn.audit.failures",
              "audit events the audit trail refused to record (a privileged action or a denial"
                  + " went unrecorded)");
      ConnectionStatistics connections = new ConnectionStatistics();
      Javalin[] started = new Javalin[1];
      metrics.bindHttp(connections::getConnections, () -> poolUtilization(started[0]));
      node.alerts =
          AlertEngine.start(
              rules,
              metrics::samples,
              AlertHistory.of(home),
              new Webhook(rules.webhook(), webhookBackoff, clock),
              clock,
              bind + ":" + port);
      ObjectNode[] document = new ObjectNode[1];
      List<ApiRoute> table =
          Routes.table(node, () -> self[0] != null && self[0].ready, () -> document[0]);
      // the body schemas the table names, each compiled once
      RequestSchemas schemas =
          new RequestSchemas(
              table.stream()
                  .map(ApiRoute::schema)
                  .filter(java.util.Objects::nonNull)
                  .collect(java.util.stream.Collectors.toCollection(java.util.LinkedHashSet::new)));
      document[0] = OpenApiDocument.build(table, schemas, version());
      RateLimiter perToken = new RateLimiter(ratePerSecond, rateBurst, System::nanoTime);
      RateLimiter perAddress =
          new RateLimiter(FAILURES_PER_SECOND, FAILURES_BURST, System::nanoTime);
      java.util.function.BooleanSupplier isReady = () -> self[0] != null && self[0].ready;
      Gate gate =
          new Gate(
              node.tokens,
              perToken,
              perAddress,
              audit,
              schemas,
              maxBodyBytes,
              clock,
              isReady,
              auditFailures::increment,
              clientCertificates);
      CfnMcpServer mcp =
          CfnMcpServer.http(
              McpSettings.of(home),
              mcpAudit(audit),
              McpEndpoint.PATH,
              NodeTools.of(table, gate, schemas)); // graphs, swarms, loops: as their routes
      McpEndpoint mcpGuard = new McpEndpoint(gate);
      Javalin app =
          Javalin.create(
              config -> {
                config.startup.showJavalinBanner = false;
                config.startup.showOldJavalinVersionWarning = false;
                config.concurrency.useVirtualThreads = true;
                config.http.maxRequestSize = maxBodyBytes;
                config.jetty.modifyServer(
                    server -> server.setErrorHandler(new ProblemErrorHandler()));
                config.jetty.modifyHttpConfiguration(
                    http -> {
                      http.setSendServerVersion(false);
                      http.setSendXPoweredBy(false);
                    });
                config.jetty.addConnector(
                    (server, http) -> {
                      ServerConnector c = connector(server, http, cert);
                      c.addBean(connections);
                      return c;
                    });
                config.requestLogger.http(
                    (ctx, ms) -> {
                      if (ctx.statusCode() >= 500) {
                        metrics.http5xx().increment();
                      }
                    });
                config.jetty.modifyServletContextHandler(
                    context -> {
                      context.setErrorHandler(new ProblemErrorHandler());
                      Dashboard.mount(context);
                      ServletHolder servlet = new ServletHolder("cfn-mcp", mcp.servlet());
                      servlet.setAsyncSupported(true);
                      context.addServlet(servlet, McpEndpoint.PATH);
                      FilterHolder guard = new FilterHolder(mcpGuard);
                      guard.setAsyncSupported(true);
                      context.addFilter(
                          guard, McpEndpoint.PATH, EnumSet.of(DispatcherType.REQUEST));
                    });
                for (ApiRoute r : table) {
                  config.routes.addHttpHandler(
                      HandlerType.findOrCreate(r.method()), r.path(), gate.handler(r));
                }
                config.routes.exception(
                    HttpResponseException.class,
                    (e, ctx) ->
                        Gate.problem(
                            ctx,
                            new Problem(
                                e.getStatus(),
                                title(e),
                                e.getStatus() == 404
                                    ? "no such route: "
                                        + ctx.method()
                                        + " "
                                        + ctx.path()
                                        + " (fix: /openapi.json lists the routes)"
                                    : e.getMessage())));
                config.routes.exception(
                    Exception.class,
                    (e, ctx) -> {
                      log.warn("{} {} failed", ctx.method(), ctx.path(), e);
                      Gate.problem(
                          ctx, new Problem(500, "Internal error", "the node failed to answer"));
                    });
                config.routes.error(
                    404,
                    ctx ->
                        unanswered(
                            ctx,
                            404,
                            "Not found",
                            "no such route (fix: /openapi.json lists them)"));
                config.routes.error(
                    405,
                    ctx ->
                        unanswered(
                            ctx,
                            405,
                            "Method not allowed",
                            "this route does not take " + ctx.method()));
              });
      if (insecureHttp) {
        log.warn(
            "cfn serve: --insecure-http: serving plain HTTP without TLS on {}:{}; tokens and"
                + " payloads cross the network in clear text. Use it only on a trusted loopback.",
            bind,
            port);
      }
      try {
        app.start();
      } catch (RuntimeException e) {
        mcp.close();
        throw e;
      }
      started[0] = app;
      ScheduledExecutorService probes =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "cfn-serve-availability");
                t.setDaemon(true);
                return t;
              });
      CfnServer server =
          new CfnServer(app, node, table, cert, bind, auditLog, probes, mcp, clientCertificates);
      server.encryptionAtRest = encryptionAtRest(home, System.getenv());
      self[0] = server;
      server.ready = true;
      Runnable probe =
          () -> {
            try {
              node.availability.probe(server.ready && node.unhealthy() == null);
            } catch (RuntimeException e) {
              log.warn("the availability probe failed: {}", e.toString());
            }
          };
      probe.run();
      long every = probeEvery.toMillis();
      probes.scheduleWithFixedDelay(probe, every, every, TimeUnit.MILLISECONDS);
      if (auditLog == null) {
        warnQueued(node.tokens, home);
      } else {
        // the node holds the audit log: it moves in the events cfn token and cfn cert queue in the
        // token file while it runs (TokenStore#drainAuditOutbox), as often as it re-reads tokens
        Runnable drain =
            () -> {
              try {
                node.tokens.drainAuditOutbox(auditLog);
              } catch (RuntimeException e) {
                log.warn("the queued audit events stay queued: {}", e.toString());
              }
            };
        drain.run();
        long often = TokenStore.CACHE_FOR.toMillis();
        probes.scheduleWithFixedDelay(drain, often, often, TimeUnit.MILLISECONDS);
      }
      return server;
    }

    /**
     * With an audit trail of the builder's, says what happens to the events queued in the token
     * file: they wait for {@code .cfn/audit} (see {@link #audit}).
     */
    private static void warnQueued(TokenStore tokens, Path home) {
      int queued = tokens.queuedAuditEvents();
      if (queued > 0) {
        log.warn(
            "{} audit event(s) of cfn token or cfn cert wait in the token file for the audit log"
                + " {}: this node records to the audit trail it was built with and does not move"
                + " them there (a trail confirms nothing); the next cfn token create|revoke or cfn"
                + " cert issue|trust|revoke on this home moves them into that log",
            queued,
            home.resolve(".cfn").resolve("audit"));
      }
    }

    private ServerConnector connector(
        Server server, HttpConfiguration http, ServerCertificate cert) {
      ServerConnector c;
      if (cert == null) {
        c = new ServerConnector(server, new HttpConnectionFactory(http));
      } else {
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false); // clients may name the address, not the certificate's CN
        http.addCustomizer(secure);
        SslContextFactory.Server tls =
            clientCertificates ? new ClientCertificateContext() : new SslContextFactory.Server();
        if (clientCertificates) {
          tls.setWantClientAuth(true); // optional: clients without one use bearer tokens
        }
        char[] password = new char[24];
        for (int i = 0; i < password.length; i++) {
          password[i] = (char) ('a' + RANDOM.nextInt(26));
        }
        tls.setKeyStore(cert.keyStore(password));
        tls.setKeyStorePassword(new String(password));
        Arrays.fill(password, ' ');
        tls.setIncludeProtocols("TLSv1.3");
        tls.setSniRequired(false);
        c =
            new ServerConnector(
                server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(http));
      }
      c.setHost(bind);
      c.setPort(port);
      return c;
    }
  }

  /**
   * The TLS context of a server that asks for client certificates: the handshake checks them with
   * {@link ClientCertificateTrust}, and each request looks the certificate up in the token store.
   */
  private static final class ClientCertificateContext extends SslContextFactory.Server {
    @Override
    protected javax.net.ssl.TrustManager[] getTrustManagers(
        java.security.KeyStore trustStore,
        java.util.Collection<? extends java.security.cert.CRL> crls) {
      return new javax.net.ssl.TrustManager[] {new ClientCertificateTrust()};
    }
  }

  /** Busy threads of the HTTP server's pool over its maximum, 0 to 1 (0 before it starts). */
  private static double poolUtilization(Javalin app) {
    if (app == null) {
      return 0;
    }
    ThreadPool pool = app.jettyServer().server().getThreadPool();
    if (pool instanceof ThreadPool.SizedThreadPool sized && sized.getMaxThreads() > 0) {
      int busy = pool.getThreads() - pool.getIdleThreads();
      return Math.max(0, Math.min(1, (double) busy / sized.getMaxThreads()));
    }
    return 0;
  }

  /**
   * The MCP tool calls into the server's audit trail: a denied call as an authorization denial,
   * every other as a privileged action (tool calls read, write and spend as the REST routes do).
   */
  private static McpAudit mcpAudit(AuditTrail trail) {
    return call -> {
      String detail = call.detail().replaceAll("\\p{Cntrl}", " ");
      trail.record(
          new AuditEvent(
              call.at(),
              call.outcome() == McpAudit.Outcome.DENIED
                  ? AuditEvent.Kind.AUTHORIZATION_DENIAL
                  : AuditEvent.Kind.PRIVILEGED_ACTION,
              call.principal().name(),
              "mcp." + call.tool(),
              "-",
              switch (call.outcome()) {
                case DONE -> AuditEvent.Outcome.SUCCESS;
                case DENIED -> AuditEvent.Outcome.DENIED;
                case FAILED, INVALID -> AuditEvent.Outcome.FAILED;
              },
              detail.length() > 500 ? detail.substring(0, 500) + "…" : detail));
    };
  }

  private static void unanswered(Context ctx, int status, String title, String detail) {
    String type = ctx.res().getContentType();
    if (type == null || !type.startsWith(Problem.MEDIA_TYPE)) {
      Gate.problem(ctx, new Problem(status, title, detail));
    }
  }

  private static String title(HttpResponseException e) {
    return switch (e.getStatus()) {
      case 404 -> "Not found";
      case 405 -> "Method not allowed";
      case 413 -> "Content too large";
      default -> "Refused";
    };
  }

  static String version() {
    Properties p = new Properties();
    try (InputStream in = CfnServer.class.getResourceAsStream("/cfn-version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // the version is cosmetic here
    }
    return p.getProperty("version", "0.1.0");
  }

  /** For tests: what the server serves. */
  Node node() {
    return node;
  }

  /** For tests: the token store the server checks against. */
  TokenStore tokens() {
    return node.tokens;
  }
}
