package dev.cfn.server;

import dev.cfn.ai.CallLog;
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
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.RetryPolicy;
import dev.cfn.flow.graph.GraphRunner;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.metrics.NodeMetrics;
import dev.cfn.store.calls.SqliteCallLogStore;
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
 * agents' memory ({@code .cfn/memory.db}), the agents' call log ({@code .cfn/calls.db}), the token
 * file ({@code .cfn/tokens.db}), the agent definitions of {@code .claude/agents}, and the agents
 * spawned and budgets set through the API. Opened in that order by {@link #open}; the journal's
 * recovery runs inside the runtime's construction, so a built node has finished it. Closed in the
 * reverse order.
 *
 * <p>The LLM agents the node registers from definitions (spawned through the API, asked by a task
 * graph or a CFN Loop) record their model and side-effecting tool calls in the durable call log, as
 * the agents of {@code cfn run}, {@code cfn task} and {@code cfn loop run} do: a message the
 * journal delivers again after a crash replays the recorded calls instead of paying for them again;
 * only the call in flight at the crash, whose record had not committed, is made again.
 */
final class Node implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Node.class);

  final Path home;
  final SqliteJournal journal;
  final SqliteMemoryStore memory;

  /** The agents' call log ({@code .cfn/calls.db}), shared by every definition's agents. */
  final SqliteCallLogStore calls;

  final TokenStore tokens;
  final AgentRuntime runtime;
  final LoadResult definitions;
  private final Supplier<ModelConfig> models;
  private volatile ModelRouter router; // made on the first spawn of a definition

  /** The names of the agent types the node was built with (besides the definitions). */
  final List<String> extraTypes;

  /** The task-graph runs: the runner and the graphs submitted to the node. */
  GraphRuns graphs;

  /** The CFN Loop runs: the node's loop runner, built when the node opens. */
  LoopRuns loopRuns;

  /** The swarms made through the API. */
  final Swarms swarms;

  /** The call log's file under {@code .cfn}, as {@code cfn run} and {@code cfn loop run} use it. */
  static final String CALLS_FILE = "calls.db";

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
      SqliteCallLogStore calls,
      TokenStore tokens,
      AgentRuntime runtime,
      LoadResult definitions,
      Supplier<ModelConfig> models,
      EventFeed events,
      NodeMetrics metrics,
      Counter reliableDeadLetters,
      List<String> extraTypes) {
    this.extraTypes = List.copyOf(extraTypes);
    this.swarms = new Swarms(runtime, journal);
    this.metrics = metrics;
    this.reliableDeadLetters = reliableDeadLetters;
    this.home = home;
    this.journal = journal;
    this.memory = memory;
    this.calls = calls;
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
    SqliteCallLogStore calls = null;
    TokenStore tokens = null;
    try {
      tokens = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE));
      memory = SqliteMemoryStore.open(cfn.resolve("memory.db"));
      calls = SqliteCallLogStore.open(cfn.resolve(CALLS_FILE));
      List<Class<?>> payloads = new java.util.ArrayList<>();
      payloads.add(Task.class);
      payloads.addAll(LoopRunner.journalPayloadTypes());
      payloads.addAll(GraphRunner.journalPayloadTypes());
      payloads.add(dev.cfn.ai.TaskResult.class);
      payloads.add(dev.cfn.ai.TaskFailed.class);
      payloads.add(Swarms.Saved.class);
      payloads.add(LoopRuns.Accepted.class);
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
      b.register(AgentType.of(Swarms.REGISTRY.type(), id -> Swarms.registry()));
      b.register(AgentType.of(LoopRuns.ACCEPTED.type(), id -> LoopRuns.acceptance()));
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
              calls,
              tokens,
              runtime,
              definitions,
              models,
              feed,
              metrics,
              reliableDead,
              extraTypes.stream().map(AgentType::name).toList());
      node.graphs = GraphRuns.open(node); // before any delivery needs a run's graph
      new SwarmRoutes(node).restore(); // the swarms made through the API before the restart
      node.loopRuns = LoopRuns.open(node); // unfinished loops go on: their agents, then the runner
      runtime.register(AgentType.of(LoopVerdicts.ID.type(), id -> new LoopVerdicts(node)));
      runtime.subscribe("cfn.flow.loop.#", LoopVerdicts.ID); // verdicts feed the rollouts
      metrics.register(new BudgetMeters(node));
      node.watchRollouts();
      Thread.ofVirtual()
          .name("cfn-serve-dead-letter-events")
          .start(
              () -> {
                long seen = runtime.deadLetters().count();
                // Counted exactly by the runtime (a burst larger than the window of recent
                // letters is still counted whole); only the events come from the window.
                long seenReliable = runtime.deadLetters().count(DeliveryMode.RELIABLE);
                try {
                  while (!feed.isClosed()) {
                    Thread.sleep(200);
                    seen = EventRoutes.pollDeadLetters(runtime.deadLetters(), seen, feed);
                    long reliable = runtime.deadLetters().count(DeliveryMode.RELIABLE);
                    if (reliable > seenReliable) {
                      reliableDead.increment(reliable - seenReliable);
                      seenReliable = reliable;
                    }
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      return node;
    } catch (RuntimeException e) {
      closeQuietly(journal);
      closeQuietly(memory);
      closeQuietly(calls);
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
   * tools, under its own tool permissions) unless it is registered already. The type serves the
   * definition in use while no rollout of it runs, and routes between the versions of the rollout
   * {@link #refreshRollouts()} attached otherwise: a rollout started while the node runs takes
   * effect at the agents' next message.
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
    served.put(d.name(), new Served(d, r, tools));
    refreshRollout(d.name());
    runtime.register(
        Canary.switching(
                d.name(),
                agentBuilder(d, r, tools).factory(),
                () -> plans.get(d.name()),
                Canary.cost(dev.cfn.ai.budget.PriceTable.defaults(), d.model()))
            .build());
  }

  /**
   * Registers each of {@code names} that is a definition of {@code .claude/agents} the runtime does
   * not know yet ({@link #register}); other names are left alone.
   *
   * @throws dev.cfn.ai.model.ModelConfigException when a definition needs a model and none is
   *     configured
   */
  void registerDefinitions(java.util.Collection<String> names) {
    for (String name : names) {
      if (!runtime.isRegistered(name)) {
        definition(name).ifPresent(this::register);
      }
    }
  }

  /**
   * The valid definitions of {@code .claude/agents} as agent factories, by name: the LLM agents
   * {@link #register} would register (the model router, the memory and messaging tools, the call
   * log, a budget of the agent's own per message), without rollouts. Empty when there is no
   * definition.
   *
   * @throws dev.cfn.ai.model.ModelConfigException when there are definitions and no model is
   *     configured
   */
  synchronized Map<String, dev.cfn.core.AgentFactory> definitionFactories() {
    Map<String, dev.cfn.core.AgentFactory> all = new java.util.TreeMap<>();
    if (definitions.definitions().isEmpty()) {
      return all;
    }
    ModelRouter r = router;
    if (r == null) {
      r = ModelRouter.create(models.get()); // throws ModelConfigException when none is configured
      router = r;
    }
    for (AgentDefinition d : definitions.definitions()) {
      ToolRegistry tools = new ToolRegistry();
      BuiltinTools.builder().memory(memory).messaging().registerIn(tools);
      all.put(d.name(), agentBuilder(d, r, tools).factory());
    }
    return all;
  }

  /**
   * Where the agent types {@link ClusterPath#types()} run when the node joined a cluster ({@code
   * cfn serve --cluster}): messages to them go through it instead of the runtime. Null otherwise.
   */
  volatile ClusterPath cluster;

  /** The cluster path that runs agents of {@code type}, if the node joined one that does. */
  Optional<ClusterPath> clusterFor(String type) {
    ClusterPath c = cluster;
    return c != null && c.types().contains(type) ? Optional.of(c) : Optional.empty();
  }

  /** The CFN Loop runner over this node's runtime and journal ({@link LoopRuns}). */
  LoopRunner loops() {
    return loopRuns.runner();
  }

  private static final dev.cfn.ai.budget.PriceTable PRICES =
      dev.cfn.ai.budget.PriceTable.defaults();

  /**
   * What a call of agent {@code agent} cost, in US dollars, by the default price table: the model
   * the node's router resolves for its definition (or the model the definition names); 0 for an
   * agent type without a definition or a model without a price.
   */
  java.math.BigDecimal price(String agent, dev.cfn.ai.model.Usage usage) {
    Optional<AgentDefinition> d = definition(agent);
    if (d.isEmpty()) {
      return java.math.BigDecimal.ZERO;
    }
    String model = d.get().model();
    ModelRouter r = router;
    if (r != null) {
      try {
        model = r.resolve(d.get().name(), d.get().type(), d.get().provider(), model).model();
      } catch (RuntimeException unresolved) {
        // priced by the definition's own model name
      }
    }
    return model == null
        ? java.math.BigDecimal.ZERO
        : PRICES.cost(usage, model).orElse(java.math.BigDecimal.ZERO);
  }

  private LlmAgent.Builder agentBuilder(AgentDefinition d, ModelRouter r, ToolRegistry tools) {
    return LlmAgent.builder(d)
        .router(r)
        .tools(tools)
        .callLog(CallLog.durable(calls))
        .budgetPerAgent(
            id -> {
              Spawned s = spawned.get(id);
              return s != null ? s.budget() : Budget.builder(id.toString()).build();
            });
  }

  /**
   * The critical alerts of this node's alerting firing now, by name (none before it starts): the
   * engine's snapshot of its last evaluation, a volatile read.
   */
  List<String> firingCritical() {
    dev.cfn.server.alerts.AlertEngine engine = alerts;
    return engine == null ? List.of() : engine.firingCritical();
  }

  /**
   * The critical alerts that roll a rollout back: the node's own alerting unless told otherwise.
   */
  volatile CriticalAlerts criticalAlerts = CriticalAlerts.NONE;

  /** Where the rollouts' decisions are audited; set by the server. */
  volatile java.util.function.Consumer<dev.cfn.ai.rollout.RolloutEvent> rolloutAudit = e -> {};

  /** A definition this node serves as an agent type, with what its versions are built from. */
  private record Served(AgentDefinition definition, ModelRouter router, ToolRegistry tools) {}

  /** The definitions registered as agent types, by name. */
  private final Map<String, Served> served = new ConcurrentHashMap<>();

  /** The rollouts attached, by agent name: what each served type routes by. */
  private final Map<String, Canary.Plan> plans = new ConcurrentHashMap<>();

  /** The identity of each attached rollout and the modification time of its file when read. */
  private final Map<String, String> attachedIdentity = new ConcurrentHashMap<>();

  private final Map<String, java.nio.file.attribute.FileTime> seen = new ConcurrentHashMap<>();

  /** The rollouts of {@code .cfn/rollouts}. */
  RolloutStore rolloutStore() {
    return RolloutStore.at(home.resolve(".cfn").resolve("rollouts"));
  }

  /**
   * Attaches every rollout started since the last call for an agent this node serves: called every
   * second by the node and at once after an operator's change through the API. A file unchanged
   * since it was last read is not read again.
   */
  void refreshRollouts() {
    for (String name : served.keySet()) {
      try {
        refreshRollout(name);
      } catch (RuntimeException e) {
        log.warn("cannot read the rollout of {}: {}", name, e.toString());
      }
    }
  }

  /**
   * Attaches the rollout of {@code name} when the store holds a running one other than the one
   * attached (the one attached before, if any, is closed: it has ended).
   */
  private synchronized void refreshRollout(String name) {
    Served s = served.get(name);
    if (s == null) {
      return;
    }
    RolloutStore store = rolloutStore();
    Path file = store.dir().resolve(name + ".json");
    java.nio.file.attribute.FileTime modified;
    try {
      modified = Files.getLastModifiedTime(file);
    } catch (java.io.IOException e) {
      return; // no rollout of the agent
    }
    if (modified.equals(seen.get(name))) {
      return;
    }
    seen.put(name, modified);
    Optional<RolloutStatus> status = store.status(name);
    if (status.isEmpty()
        || status.get().phase() != RolloutStatus.Phase.RUNNING
        || status.get().identity().equals(attachedIdentity.get(name))) {
      return;
    }
    Optional<AgentDefinition> next =
        DefinitionLoader.load(Path.of(status.get().canaryFile())).find(name);
    if (next.isEmpty()) {
      log.warn(
          "the rollout of {} names {}, which holds no valid definition of it: not routed",
          name,
          status.get().canaryFile());
      return;
    }
    Optional<Rollout> attached =
        Rollout.attach(
            store,
            name,
            () -> criticalAlerts.firing(),
            java.time.Clock.systemUTC(),
            event -> {
              runtime.publish(dev.cfn.core.TopicId.of("cfn.rollout." + event.kind(), name), event);
              rolloutAudit.accept(event);
            });
    if (attached.isEmpty()) {
      return;
    }
    Canary.Plan old =
        plans.put(
            name,
            new Canary.Plan(
                attached.get(), agentBuilder(next.get(), s.router(), s.tools()).factory()));
    attachedIdentity.put(name, attached.get().status().identity());
    if (old != null) {
      old.rollout().close();
    }
    log.info("agent {} is being rolled out: {}", name, attached.get().status().canary().label());
  }

  /**
   * Records a CFN Loop validator's verdict on the answer {@code agent} gave under key {@code key},
   * on the version of {@code agent}'s rollout that served that key; nothing when no rollout of it
   * is attached ({@link LoopVerdicts}).
   */
  void recordVerdict(String agent, String key, boolean approved) {
    Canary.Plan p = plans.get(agent);
    if (p != null) {
      p.rollout().recordVerdict(p.rollout().route(key), approved);
    }
  }

  /** Attaches new rollouts every second until the node closes. */
  private void watchRollouts() {
    Thread.ofVirtual()
        .name("cfn-serve-rollouts")
        .start(
            () -> {
              try {
                while (!events.isClosed()) {
                  Thread.sleep(1000);
                  refreshRollouts();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  /** The scheduled backup sets, when the server takes them; stopped first at close. */
  volatile dev.cfn.store.backup.StoreBackup.Schedule backups;

  @Override
  public void close() {
    events.close();
    if (backups != null) {
      backups.close();
    }
    plans.values().forEach(p -> p.rollout().close());
    swarms.close();
    if (graphs != null) {
      graphs.close();
    }
    try {
      runtime.shutdown(Duration.ofSeconds(10));
    } finally {
      ModelRouter r = router;
      if (r != null) {
        closeQuietly(r);
      }
      closeQuietly(journal);
      closeQuietly(memory);
      closeQuietly(calls); // after the runtime: no agent records a call any more
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
