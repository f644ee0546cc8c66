package dev.cfn.server;

import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.rollout.Canary;
import dev.cfn.ai.rollout.CriticalAlerts;
import dev.cfn.ai.rollout.Rollout;
import dev.cfn.ai.rollout.RolloutStatus;
import dev.cfn.ai.rollout.RolloutStore;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.RetryPolicy;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.metrics.NodeMetrics;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the server serves: the in-process runtime with its journal ({@code .cfn/cfn.db}), the
 * agents' memory ({@code .cfn/memory.db}), the token file ({@code .cfn/tokens.db}), the agent
 * definitions of {@code .claude/agents}, and the agents spawned and budgets set through the API.
 * Opened in that order by {@link #open}; the journal's recovery runs inside the runtime's
 * construction, so a built node has finished it. Closed in the reverse order.
 */
final class Node implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Node.class);

  final Path home;
  final SqliteJournal journal;
  final SqliteMemoryStore memory;
  final TokenStore tokens;
  final AgentRuntime runtime;
  final LoadResult definitions;
  private final Supplier<ModelConfig> models;
  private volatile ModelRouter router; // made on the first spawn of a definition
  private LoopRunner loops; // made on the first loop decision

  /** The agent that records the live events for {@code /v1/events}. */
  static final AgentId EVENTS = new AgentId("cfn-server", "events");

  final EventFeed events;

  /** The node's meters ({@code GET /metrics}). */
  final NodeMetrics metrics;

  /** The alert rules' evaluation (set by the server before it listens). */
  volatile dev.cfn.server.alerts.AlertEngine alerts;

  /** The node's availability record (set by the server before it listens). */
  volatile dev.cfn.server.metrics.Availability availability;

  /** Reliable messages dead-lettered (after their last attempt, or undeliverable). */
  final Counter reliableDeadLetters;

  /** Agents spawned through the API, with the limits their budget was given. */
  final Map<AgentId, Spawned> spawned = new ConcurrentHashMap<>();

  /** An agent spawned through the API. */
  record Spawned(AgentId id, String swarm, Budget budget, Map<String, Object> limits) {}

  private Node(
      Path home,
      SqliteJournal journal,
      SqliteMemoryStore memory,
      TokenStore tokens,
      AgentRuntime runtime,
      LoadResult definitions,
      Supplier<ModelConfig> models,
      EventFeed events,
      NodeMetrics metrics,
      Counter reliableDeadLetters) {
    this.metrics = metrics;
    this.reliableDeadLetters = reliableDeadLetters;
    this.home = home;
    this.journal = journal;
    this.memory = memory;
    this.tokens = tokens;
    this.runtime = runtime;
    this.definitions = definitions;
    this.models = models;
    this.events = events;
  }

  static Node open(
      Path home,
      List<AgentType> extraTypes,
      Supplier<ModelConfig> models,
      RetryPolicy retry,
      NodeMetrics metrics) {
    Path cfn = home.resolve(".cfn");
    SqliteJournal journal = null;
    SqliteMemoryStore memory = null;
    TokenStore tokens = null;
    try {
      tokens = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE));
      memory = SqliteMemoryStore.open(cfn.resolve("memory.db"));
      List<Class<?>> payloads = new java.util.ArrayList<>();
      payloads.add(Task.class);
      payloads.addAll(LoopRunner.journalPayloadTypes());
      journal =
          SqliteJournal.builder(cfn.resolve("cfn.db"))
              .payloadType(payloads.toArray(new Class<?>[0]))
              .open();
      Path agents = home.resolve(".claude").resolve("agents");
      LoadResult definitions =
          Files.isDirectory(agents)
              ? DefinitionLoader.load(agents)
              : new LoadResult(List.of(), List.of());
      for (dev.cfn.ai.definition.Problem p : definitions.problems()) {
        log.warn("agent definition skipped: {}", p);
      }
      AgentRuntime.Builder b =
          AgentRuntime.builder()
              .journal(journal)
              .meterRegistry(metrics.registry())
              .jvmMetrics(true)
              .retryPolicy(retry);
      for (AgentType t : extraTypes) {
        b.register(t);
      }
      EventFeed feed = new EventFeed();
      b.register(AgentType.of(EVENTS.type(), id -> EventRoutes.recorder(feed, metrics.registry())));
      AgentRuntime runtime = b.name("cfn-serve").build();
      metrics.bindRuntime(runtime);
      metrics.bindJournal(journal);
      Counter reliableDead =
          metrics.counter(
              "cfn.reliable.dead.letters",
              "reliable messages dead-lettered: their handler failed on every attempt, or they"
                  + " could not be delivered (the seed's reliable delivery failures)");
      runtime.subscribe("cfn.agent.#", EVENTS);
      runtime.subscribe("cfn.flow.#", EVENTS);
      Node node =
          new Node(
              home,
              journal,
              memory,
              tokens,
              runtime,
              definitions,
              models,
              feed,
              metrics,
              reliableDead);
      metrics.register(new BudgetMeters(node));
      Thread.ofVirtual()
          .name("cfn-serve-dead-letter-events")
          .start(
              () -> {
                long seen = runtime.deadLetters().count();
                try {
                  while (!feed.isClosed()) {
                    Thread.sleep(200);
                    seen =
                        EventRoutes.pollDeadLetters(
                            runtime.deadLetters(), seen, feed, reliableDead);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      return node;
    } catch (RuntimeException e) {
      closeQuietly(journal);
      closeQuietly(memory);
      closeQuietly(tokens);
      throw e;
    }
  }

  /**
   * Null when every store answers a read (the journal, memory, the token file); else what failed:
   * the store half of {@code /health/ready}, and of the node's own availability probe.
   */
  String unhealthy() {
    try {
      journal.highestId();
      memory.list(dev.cfn.core.spi.MemoryAccessor.operator(), "cfn-health", "", 1);
      if (!tokens.isOpen()) {
        return "the token file is closed";
      }
      return null;
    } catch (RuntimeException e) {
      return String.valueOf(e.getMessage());
    }
  }

  /** The definition named {@code name}, if {@code .claude/agents} holds a valid one. */
  Optional<AgentDefinition> definition(String name) {
    return definitions.find(name);
  }

  /**
   * Registers definition {@code d} as an agent type (an LLM agent with the memory and messaging
   * tools, under its own tool permissions) unless it is registered already.
   */
  synchronized void register(AgentDefinition d) {
    if (runtime.isRegistered(d.name())) {
      return;
    }
    ModelRouter r = router;
    if (r == null) {
      r = ModelRouter.create(models.get()); // throws ModelConfigException when none is configured
      router = r;
    }
    ToolRegistry tools = new ToolRegistry();
    BuiltinTools.builder().memory(memory).messaging().registerIn(tools);
    Optional<AgentDefinition> canary = runningRollout(d);
    if (canary.isPresent()) {
      registerCanary(d, canary.get(), r, tools);
      return;
    }
    runtime.register(agentBuilder(d, r, tools).type(d.name()));
  }

  /** The CFN Loop runner over this node's runtime and journal, made on first use. */
  synchronized LoopRunner loops() {
    if (loops == null) {
      loops = LoopRunner.builder(runtime).journal(journal).build();
    }
    return loops;
  }

  private LlmAgent.Builder agentBuilder(AgentDefinition d, ModelRouter r, ToolRegistry tools) {
    return LlmAgent.builder(d)
        .router(r)
        .tools(tools)
        .budgetPerAgent(
            id -> {
              Spawned s = spawned.get(id);
              return s != null ? s.budget() : Budget.builder(id.toString()).build();
            });
  }

  /** The critical alerts of this node's alerting firing now, by name (none before it starts). */
  List<String> firingCritical() {
    dev.cfn.server.alerts.AlertEngine engine = alerts;
    if (engine == null) {
      return List.of();
    }
    return engine.statuses().stream()
        .filter(s -> s.state() == dev.cfn.server.alerts.AlertEngine.State.FIRING)
        .filter(s -> "critical".equals(s.rule().severity()))
        .map(s -> s.rule().name())
        .toList();
  }

  /**
   * The critical alerts that roll a rollout back: the node's own alerting unless told otherwise.
   */
  volatile CriticalAlerts criticalAlerts = CriticalAlerts.NONE;

  /** Where the rollouts' decisions are audited; set by the server. */
  volatile java.util.function.Consumer<dev.cfn.ai.rollout.RolloutEvent> rolloutAudit = e -> {};

  private final List<Rollout> rollouts = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** The new version of {@code d} when {@code .cfn/rollouts} holds a running rollout of it. */
  private Optional<AgentDefinition> runningRollout(AgentDefinition d) {
    RolloutStore store = RolloutStore.at(home.resolve(".cfn").resolve("rollouts"));
    return store
        .status(d.name())
        .filter(s -> s.phase() == RolloutStatus.Phase.RUNNING)
        .flatMap(s -> DefinitionLoader.load(Path.of(s.canaryFile())).find(d.name()));
  }

  /**
   * Registers {@code d} as a {@link Canary} between it and {@code next}: the rollout routes each
   * task key, judges the gates, and its decisions go out on {@code cfn.rollout.KIND} and to the
   * log.
   */
  private void registerCanary(
      AgentDefinition d, AgentDefinition next, ModelRouter r, ToolRegistry tools) {
    RolloutStore store = RolloutStore.at(home.resolve(".cfn").resolve("rollouts"));
    Optional<Rollout> attached =
        Rollout.attach(
            store,
            d.name(),
            () -> criticalAlerts.firing(),
            java.time.Clock.systemUTC(),
            event -> {
              runtime.publish(
                  dev.cfn.core.TopicId.of("cfn.rollout." + event.kind(), d.name()), event);
              rolloutAudit.accept(event);
            });
    if (attached.isEmpty()) {
      runtime.register(agentBuilder(d, r, tools).type(d.name()));
      return;
    }
    rollouts.add(attached.get());
    runtime.register(
        Canary.type(
                d.name(),
                attached.get(),
                agentBuilder(d, r, tools).factory(),
                agentBuilder(next, r, tools).factory(),
                Canary.cost(dev.cfn.ai.budget.PriceTable.defaults(), d.model()))
            .build());
    log.info(
        "agent {} is being rolled out: {}", d.name(), attached.get().status().canary().label());
  }

  /** The scheduled backup sets, when the server takes them; stopped first at close. */
  volatile dev.cfn.store.backup.StoreBackup.Schedule backups;

  @Override
  public void close() {
    events.close();
    if (backups != null) {
      backups.close();
    }
    rollouts.forEach(Rollout::close);
    try {
      runtime.shutdown(Duration.ofSeconds(10));
    } finally {
      ModelRouter r = router;
      if (r != null) {
        closeQuietly(r);
      }
      closeQuietly(journal);
      closeQuietly(memory);
      closeQuietly(tokens);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.warn("closing {} failed", c, e);
    }
  }
}
