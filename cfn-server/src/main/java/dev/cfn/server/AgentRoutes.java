package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentMetrics;
import dev.cfn.core.AgentRef;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent routes: list, spawn (from a definition of {@code .claude/agents} or a type the node
 * registered), status with mailbox depth, stop, the check of a definition's text; and the budgets
 * of the agents spawned with one.
 */
final class AgentRoutes {
  private final Node node;

  AgentRoutes(Node node) {
    this.node = node;
  }

  /** {@code GET /v1/agents}: the agents spawned through the API and the definitions on disk. */
  Object list(Call call) {
    List<Map<String, Object>> agents = new ArrayList<>();
    node.spawned.values().stream()
        .sorted(Comparator.comparing(s -> s.id().toString()))
        .forEach(s -> agents.add(status(s.id(), node.runtime.lookup(s.id()))));
    List<Map<String, Object>> definitions = new ArrayList<>();
    for (AgentDefinition d : node.definitions.definitions()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", d.name());
      m.put("description", d.description());
      m.put("registered", node.runtime.isRegistered(d.name()));
      definitions.add(m);
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("agents", agents);
    r.put("definitions", definitions);
    r.put("liveAgents", node.runtime.liveAgents());
    return r;
  }

  /** {@code POST /v1/agents}: spawns {@code type/key}, registering its definition first. */
  Object spawn(Call call) {
    String type = call.text("type");
    AgentId id = agentId(type, call.text("key"));
    call.target(id.toString());
    call.requireScope("agent", type);
    if (node.clusterFor(type).isPresent()) {
      throw Problem.conflict(
          "agents of type '"
              + type
              + "' run on the cluster, where an agent exists when a message reaches it (fix: POST"
              + " /v1/messages/send to "
              + id
              + ")");
    }
    if (node.runtime.lookup(id).isPresent()) {
      throw Problem.conflict(
          "agent " + id + " is already running (fix: stop it first, or pick another key)");
    }
    if (!node.runtime.isRegistered(type)) {
      Optional<AgentDefinition> d = node.definition(type);
      if (d.isEmpty()) {
        throw Problem.notFound(
            "no agent definition named '"
                + type
                + "' in "
                + node.home.resolve(".claude").resolve("agents")
                + " and no such registered type (fix: GET /v1/agents lists the definitions)");
      }
      try {
        node.register(d.get());
      } catch (ModelConfigException e) {
        throw Problem.conflict(
            "no model provider is configured for the node, so '"
                + type
                + "' cannot run: "
                + e.getMessage());
      }
    }
    JsonNode limits = call.body.path("budget");
    Budget.Builder budget = Budget.builder(id.toString());
    Map<String, Object> given = new LinkedHashMap<>();
    if (limits.has("maxCalls")) {
      budget.maxCalls(limits.get("maxCalls").asLong());
      given.put("maxCalls", limits.get("maxCalls").asLong());
    }
    if (limits.has("maxTokens")) {
      budget.maxTokens(limits.get("maxTokens").asLong());
      given.put("maxTokens", limits.get("maxTokens").asLong());
    }
    if (limits.has("maxCostUsd")) {
      BigDecimal usd = limits.get("maxCostUsd").decimalValue();
      budget.maxCostUsd(usd);
      given.put("maxCostUsd", usd);
    }
    String swarm = call.text("swarm", null);
    Node.Spawned s = new Node.Spawned(id, swarm, budget.build(), given);
    node.spawned.put(id, s);
    AgentRef ref;
    try {
      Optional<Swarms.Hosted> hosted = swarm == null ? Optional.empty() : node.swarms.get(swarm);
      if (hosted.isPresent()) { // a swarm of the node: it places the member in its topology
        Optional<AgentDefinition> d = node.definition(type);
        if (d.isPresent()) {
          hosted.get().swarm().join(id, d.get());
        } else {
          hosted.get().swarm().join(id);
        }
        node.swarms.event("joined", swarm, Map.of("member", id.toString()));
        ref = node.runtime.lookup(id).orElseThrow();
      } else {
        ref = swarm == null ? node.runtime.spawn(id) : node.runtime.spawn(id, swarm);
      }
    } catch (RuntimeException e) {
      node.spawned.remove(id, s);
      throw Problem.conflict("agent " + id + " cannot be spawned: " + e.getMessage());
    }
    call.status(201);
    call.ctx.header("Location", "/v1/agents/" + id.type() + "/" + id.key());
    return status(id, Optional.of(ref));
  }

  /**
   * {@code POST /v1/agents/validate}: checks the text of one agent definition without writing or
   * registering anything, as the MCP tool {@code agent_validate} does (the same parser and the same
   * answer, {@link LoadResult#report()}): 200 with the report when it has no error (warnings
   * included), else a 422 problem whose {@code problems} member lists each one's line and message.
   */
  Object validate(Call call) {
    LoadResult r = DefinitionLoader.parse(call.text("definition"));
    Map<String, Object> report = r.report();
    if (!r.hasErrors()) {
      return report;
    }
    Problem p =
        new Problem(
            422,
            "Invalid agent definition",
            "the agent definition has "
                + r.errors().size()
                + " error(s), the first: "
                + r.errors().get(0)
                + " (fix: correct the lines named in problems, then send it again)");
    report.forEach(p::with);
    throw p;
  }

  /** {@code GET /v1/agents/{type}/{key}}: liveness and counters, the mailbox depth among them. */
  Object show(Call call) {
    AgentId id = agentId(call.path("type"), call.path("key"));
    Optional<AgentRef> ref = node.runtime.lookup(id);
    if (ref.isEmpty() && !node.spawned.containsKey(id)) {
      throw Problem.notFound("agent " + id + " is not running (fix: GET /v1/agents lists them)");
    }
    return status(id, ref);
  }

  /** {@code DELETE /v1/agents/{type}/{key}}: stops the agent; its queued mail is dead-lettered. */
  Object stop(Call call) {
    AgentId id = agentId(call.path("type"), call.path("key"));
    call.target(id.toString());
    call.requireScope("agent", id.type());
    if (!node.runtime.stop(id)) {
      throw Problem.notFound("agent " + id + " is not running");
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", id.toString());
    r.put("stopped", true);
    return r;
  }

  /** {@code GET /v1/budgets}: what each agent spawned with a budget has spent, and its limits. */
  Object budgets(Call call) {
    List<Map<String, Object>> all = new ArrayList<>();
    node.spawned.values().stream()
        .sorted(Comparator.comparing(s -> s.id().toString()))
        .forEach(
            s -> {
              Budget.Spent spent = s.budget().spent();
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("agent", s.id().toString());
              m.put("limits", s.limits());
              m.put("calls", spent.calls());
              m.put("inputTokens", spent.inputTokens());
              m.put("outputTokens", spent.outputTokens());
              m.put("cachedTokens", spent.cachedTokens());
              m.put("costUsd", spent.costUsd());
              all.add(m);
            });
    return Map.of("budgets", all);
  }

  static AgentId agentId(String type, String key) {
    try {
      return AgentId.of(type, key);
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  private static Map<String, Object> status(AgentId id, Optional<AgentRef> ref) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id.toString());
    m.put("alive", ref.map(AgentRef::isAlive).orElse(false));
    AgentMetrics metrics = ref.map(AgentRef::metrics).orElse(new AgentMetrics(0, 0, 0, 0));
    m.put("mailboxDepth", metrics.queued());
    m.put("processed", metrics.processed());
    m.put("failures", metrics.failures());
    m.put("restarts", metrics.restarts());
    return m;
  }
}
