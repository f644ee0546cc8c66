package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.core.AgentId;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.flow.swarm.SwarmMember;
import dev.cfn.flow.swarm.SwarmStatus;
import dev.cfn.flow.swarm.Topology;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The swarm routes: list the node's swarms, make one (name, topology, budget, first members), show
 * one (its topology in force, members with their roles and loads, who may message whom, what its
 * topology refused by rule, what it spent), members join and leave, close one. Making, joining,
 * leaving and closing are audited privileged actions, each is stored in the node's journal before
 * the answer, so that the swarms outlive a restart ({@link #restore}) with what they spent and
 * refused (each swarm's ledger, {@link Swarms}), and each is published on {@code cfn.flow.swarm.*}.
 */
final class SwarmRoutes {
  /** The most members whose who-may-message-whom the status lists (n² verdicts). */
  static final int MAX_ADJACENCY = 200;

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SwarmRoutes.class);

  private final Node node;

  SwarmRoutes(Node node) {
    this.node = node;
  }

  /** {@code GET /v1/swarms}: every swarm with its topology, size, refusals and spending. */
  Object list(Call call) {
    List<Map<String, Object>> all = new ArrayList<>();
    for (Swarms.Hosted h : node.swarms.all()) {
      all.add(summary(h));
    }
    return Map.of("swarms", all);
  }

  /** {@code POST /v1/swarms}: makes a swarm, its members joining in the order given. */
  Object create(Call call) {
    String name = call.text("name");
    call.target("swarm:" + name);
    call.requireScope("swarm", name);
    Topology topology;
    try {
      topology = Topology.parse(call.text("topology", "auto"));
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage() + " (fix: \"topology\": \"mesh\")");
    }
    List<AgentId> members = new ArrayList<>();
    for (JsonNode m : call.body.path("members")) {
      AgentId id = AgentRoutes.agentId(m.path("type").asText(), m.path("key").asText());
      call.requireScope("agent", id.type());
      checkType(id.type()); // registered in join, once the member's budget exists
      members.add(id);
    }
    Map<String, Object> given = new LinkedHashMap<>();
    Budget budget = budget(name, call.body.path("budget"), given);
    Swarms.Hosted h =
        node.swarms
            .create(name, topology, budget, given)
            .orElseThrow(
                () ->
                    Problem.conflict(
                        "swarm "
                            + name
                            + " exists already (fix: GET /v1/swarms/"
                            + name
                            + ", or another name)"));
    try {
      for (AgentId id : members) {
        join(h, id);
      }
      node.swarms.save(name); // durable before the answer
    } catch (RuntimeException e) {
      node.swarms.remove(name); // nothing partial: no swarm without the members asked for
      throw e;
    }
    call.status(201);
    call.header("Location", "/v1/swarms/" + name);
    return status(h);
  }

  /** {@code GET /v1/swarms/{name}}: the swarm's layout, members, adjacency, refusals, budget. */
  Object show(Call call) {
    return status(require(call.path("name")));
  }

  /** {@code DELETE /v1/swarms/{name}}: closes the swarm; its members keep running. */
  Object close(Call call) {
    String name = call.path("name");
    call.target("swarm:" + name);
    call.requireScope("swarm", name);
    for (SwarmMember m : require(name).swarm().members()) {
      call.requireScope("agent", m.id().type()); // closing acts on every member
    }
    node.swarms.remove(name);
    return Map.of("swarm", name, "closed", true);
  }

  /** {@code POST /v1/swarms/{name}/members}: {@code type/key} joins, spawned if not running. */
  Object join(Call call) {
    Swarms.Hosted h = require(call.path("name"));
    AgentId id = AgentRoutes.agentId(call.text("type"), call.text("key"));
    call.target("swarm:" + h.swarm().name() + "/" + id);
    call.requireScope("swarm", h.swarm().name());
    call.requireScope("agent", id.type());
    checkType(id.type()); // registered in join, once the member's budget exists
    if (!join(h, id)) {
      throw Problem.conflict(
          id + " is a member of swarm " + h.swarm().name() + " already (fix: nothing to do)");
    }
    node.swarms.save(h.swarm().name());
    call.status(201);
    return member(h.swarm(), h.swarm().member(id).orElseThrow());
  }

  /** {@code DELETE /v1/swarms/{name}/members/{type}/{key}}: the member leaves (keeps running). */
  Object leave(Call call) {
    Swarms.Hosted h = require(call.path("name"));
    AgentId id = AgentRoutes.agentId(call.path("type"), call.path("key"));
    call.target("swarm:" + h.swarm().name() + "/" + id);
    call.requireScope("swarm", h.swarm().name());
    call.requireScope("agent", id.type());
    if (!h.swarm().leave(id)) {
      throw Problem.notFound(
          id
              + " is not a member of swarm "
              + h.swarm().name()
              + " (fix: GET /v1/swarms/"
              + h.swarm().name()
              + " lists the members)");
    }
    node.swarms.save(h.swarm().name());
    node.swarms.event("left", h.swarm().name(), Map.of("member", id.toString()));
    return Map.of("swarm", h.swarm().name(), "member", id.toString(), "left", true);
  }

  /**
   * A swarm's budget from the limits given ({@code budget} of the body), noted in {@code given}.
   */
  private static Budget budget(String name, JsonNode limits, Map<String, Object> given) {
    Budget.Builder budget = Budget.builder("swarm " + name);
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
    return budget.build();
  }

  /**
   * Makes every swarm the journal records again, as it was last stored: its topology, budget limits
   * and members in their order (spawned when not running), its budget and refusal count starting
   * from what its ledger holds. A swarm or member that cannot be made again (its record is
   * unreadable, its agent's definition is gone or has no model provider) is left out with a
   * warning; its record stays, so a node that can make it does.
   *
   * @return the swarms made again
   */
  int restore() {
    int made = 0;
    for (Map.Entry<String, String> e : node.swarms.stored().entrySet()) {
      String name = e.getKey();
      try {
        JsonNode r = Gate.JSON.readTree(e.getValue());
        Map<String, Object> given = new LinkedHashMap<>();
        Budget budget = budget(name, r.path("limits"), given);
        Optional<Swarms.Hosted> h =
            node.swarms.create(
                name, Topology.parse(r.path("topology").asText("auto")), budget, given);
        if (h.isEmpty()) {
          continue;
        }
        for (JsonNode m : r.path("members")) {
          Node.Spawned seat = null;
          try {
            AgentId id = AgentRoutes.agentId(m.path("type").asText(), m.path("key").asText());
            if (node.runtime.lookup(id).isEmpty()) {
              // The seat before the type: registering it delivers the RELIABLE messages the
              // journal kept for the member (a task under way at the stop), and the agent they
              // start must charge the swarm's budget and ledger, not a budget of its own.
              seat = new Node.Spawned(id, name, h.get().swarm().memberBudget(id), Map.of());
              if (node.spawned.putIfAbsent(id, seat) != null) {
                seat = null;
              }
            }
            join(h.get(), id);
          } catch (RuntimeException failed) {
            if (seat != null && node.runtime.lookup(seat.id()).isEmpty()) {
              node.spawned.remove(seat.id(), seat);
            }
            log.warn(
                "cfn serve: swarm {}'s member {}/{} cannot join again: {}",
                name,
                m.path("type").asText(),
                m.path("key").asText(),
                failed.getMessage());
          }
        }
        made++;
      } catch (java.io.IOException | RuntimeException failed) {
        log.warn("cfn serve: swarm {} cannot be made again: {}", name, failed.getMessage());
      }
    }
    if (made > 0) {
      log.info("cfn serve: {} swarm(s) made again from the journal", made);
    }
    return made;
  }

  /** Joins {@code id}, with its definition's type and capabilities when it has one. */
  private boolean join(Swarms.Hosted h, AgentId id) {
    Swarm swarm = h.swarm();
    Optional<AgentDefinition> d = node.definition(id.type());
    boolean live = node.runtime.lookup(id).isPresent();
    Node.Spawned seat = null;
    if (!live) {
      seat = new Node.Spawned(id, swarm.name(), swarm.memberBudget(id), Map.of());
      node.spawned.putIfAbsent(id, seat); // its model calls charge the swarm's budget
    }
    boolean joined;
    try {
      // The budget before the type: registering it delivers the RELIABLE messages the journal
      // kept for the member, and the agent they start must charge the swarm's budget from its
      // first call, not run on an unlimited budget of its own.
      requireType(id.type());
      joined = d.isPresent() ? swarm.join(id, d.get()) : swarm.join(id);
    } catch (RuntimeException e) {
      if (seat != null) {
        node.spawned.remove(id, seat);
      }
      if (e instanceof Problem p) {
        throw p;
      }
      throw Problem.conflict(id + " cannot join swarm " + swarm.name() + ": " + e.getMessage());
    }
    if (joined) {
      node.swarms.event("joined", swarm.name(), Map.of("member", id.toString()));
    }
    return joined;
  }

  /**
   * Refuses {@code type} unless it is registered or a definition of {@code .claude/agents} (which
   * {@link #requireType} registers when its member joins).
   */
  private void checkType(String type) {
    if (!node.runtime.isRegistered(type) && node.definition(type).isEmpty()) {
      throw Problem.notFound(
          "no agent definition named '"
              + type
              + "' and no such registered type (fix: GET /v1/agents lists the definitions)");
    }
  }

  /** Registers the definition named {@code type} unless the type is known; refuses otherwise. */
  private void requireType(String type) {
    if (node.runtime.isRegistered(type)) {
      return;
    }
    Optional<AgentDefinition> d = node.definition(type);
    if (d.isEmpty()) {
      throw Problem.notFound(
          "no agent definition named '"
              + type
              + "' and no such registered type (fix: GET /v1/agents lists the definitions)");
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

  private Swarms.Hosted require(String name) {
    return node.swarms
        .get(name)
        .orElseThrow(
            () ->
                Problem.notFound(
                    "no swarm " + name + " on this node (fix: GET /v1/swarms lists them)"));
  }

  private static Map<String, Object> summary(Swarms.Hosted h) {
    SwarmStatus s = h.swarm().status();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", s.name());
    m.put("topology", lower(s.topology()));
    m.put("effective", lower(s.effective()));
    m.put("members", s.members());
    m.put("lead", s.lead() == null ? null : s.lead().toString());
    m.put("coordinators", s.coordinators());
    m.put("refused", s.refused());
    m.put("rounds", s.rounds());
    Map<String, Object> budget = new LinkedHashMap<>();
    budget.put("limits", h.limits());
    budget.put("calls", s.spent().calls());
    budget.put("tokens", s.spent().totalTokens());
    budget.put("costUsd", s.spent().costUsd());
    m.put("budget", budget);
    return m;
  }

  static Map<String, Object> status(Swarms.Hosted h) {
    Swarm swarm = h.swarm();
    SwarmStatus s = swarm.status();
    Map<String, Object> m = summary(h);
    Map<String, Integer> byRule = new TreeMap<>();
    for (String reason : s.recentRefusals()) {
      int colon = reason.indexOf(':');
      byRule.merge(colon > 0 ? reason.substring(0, colon) : reason, 1, Integer::sum);
    }
    m.put("recentRefusals", s.recentRefusals());
    m.put("recentRefusalsByRule", byRule);
    List<SwarmMember> members = swarm.members();
    List<Map<String, Object>> out = new ArrayList<>();
    boolean adjacency = members.size() <= MAX_ADJACENCY;
    for (SwarmMember x : members) {
      Map<String, Object> mm = member(swarm, x);
      if (adjacency) {
        List<String> to = new ArrayList<>();
        for (SwarmMember y : members) {
          if (!y.id().equals(x.id()) && swarm.allows(x.id(), y.id())) {
            to.add(y.id().toString());
          }
        }
        mm.put("mayMessage", to);
      }
      out.add(mm);
    }
    m.put("memberList", out);
    if (!adjacency) {
      m.put(
          "adjacency",
          "left out above " + MAX_ADJACENCY + " members; the roles and coordinators say it");
    }
    return m;
  }

  private static Map<String, Object> member(Swarm swarm, SwarmMember x) {
    Map<String, Object> mm = new LinkedHashMap<>();
    mm.put("id", x.id().toString());
    mm.put("role", lower(x.role()));
    mm.put("coordinator", x.coordinator() == null ? null : x.coordinator().toString());
    mm.put("type", x.type());
    mm.put("capabilities", x.capabilities());
    mm.put("inFlight", x.inFlight());
    mm.put("queued", x.queued());
    return mm;
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}
