package dev.cfn.server;

import dev.cfn.ai.budget.Budget;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.flow.swarm.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The swarms of the node, made through the API ({@code POST /v1/swarms}), by name: each a {@link
 * Swarm} on the node's runtime, whose topology the bus enforces.
 *
 * <p>Durable: each swarm's record (name, topology, budget limits, members) is kept in the node's
 * journal, in the state of the agent {@link #REGISTRY} under {@code swarm.NAME}, written whole
 * after every change ({@link #save}, {@link #remove}) by a RELIABLE request to that agent, whose
 * handler commits it with the request's acknowledgement; the change is durable when the request is
 * answered, before the API answers. A node started on the same home makes every recorded swarm
 * again, its members joining in their recorded order ({@code SwarmRoutes.restore}).
 *
 * <p>Each is a durable swarm ({@link Swarm.Builder#durable}) on the node's journal: what its
 * members spent (every model call charged to the member budgets the node gives them, committed
 * before the call's answer is used) and what its topology refused is kept in its ledger, the state
 * of the agent {@code cfn-swarm-ledger/NAME}, and the swarm made again at the node's start begins
 * from it, so its budget limits hold across restarts and crashes. Closing a swarm deletes its
 * ledger with its record: a new swarm of that name starts from nothing.
 *
 * <p>Every change is published on {@code cfn.flow.swarm.KIND} ({@code created}, {@code joined},
 * {@code left}, {@code closed}) with the swarm's name as the source, so that it reaches the event
 * stream like the graphs' {@code cfn.flow.*} events.
 */
final class Swarms implements AutoCloseable {
  /** The topic prefix of swarm events. */
  static final String TOPIC = "cfn.flow.swarm";

  /** A swarm and the limits its budget was given. */
  record Hosted(Swarm swarm, Map<String, Object> limits) {}

  /** The agent whose journal state holds the swarms' records. */
  static final AgentId REGISTRY = new AgentId("cfn-server-swarms", "registry");

  /** The state key prefix of a swarm's record. */
  static final String KEY = "swarm.";

  /** How long a change waits for its record to be committed. */
  static final Duration STORE_TIMEOUT = Duration.ofSeconds(30);

  /**
   * A swarm's record to store, or (with an empty {@code json}) to delete: the RELIABLE payload the
   * {@link #REGISTRY} commits.
   *
   * @param name the swarm
   * @param json its record, or empty when it was closed
   */
  record Saved(String name, String json) {}

  /** The handler of {@link #REGISTRY}: commits each {@link Saved} with its acknowledgement. */
  static Agent registry() {
    return (m, ctx) -> {
      if (m.payload() instanceof Saved s) {
        if (s.json().isEmpty()) {
          ctx.effects().delete(KEY + s.name());
        } else {
          ctx.effects().put(KEY + s.name(), s.json());
        }
        if (m.isRequest()) {
          ctx.reply("stored"); // joins the outbox: sent once the record is committed
        }
      }
    };
  }

  private final AgentRuntime runtime;
  private final Journal journal;
  private final ConcurrentSkipListMap<String, Hosted> swarms = new ConcurrentSkipListMap<>();

  Swarms(AgentRuntime runtime, Journal journal) {
    this.runtime = runtime;
    this.journal = journal;
  }

  /** The records the journal holds, by swarm name. */
  SortedMap<String, String> stored() {
    SortedMap<String, String> out = new java.util.TreeMap<>();
    journal
        .stateByPrefix(REGISTRY, KEY, Journal.MAX_PREFIX_ENTRIES)
        .forEach((k, v) -> out.put(k.substring(KEY.length()), v));
    return out;
  }

  /**
   * Stores swarm {@code name}'s record as it is now (topology, limits, members in order); durable
   * when this returns.
   *
   * @throws Problem (503) when the journal did not commit it in time
   */
  synchronized void save(String name) {
    Hosted h = swarms.get(name);
    if (h == null) {
      return;
    }
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("name", name);
    record.put("topology", h.swarm().topology().name());
    record.put("limits", h.limits());
    List<Map<String, String>> members = new ArrayList<>();
    for (dev.cfn.flow.swarm.SwarmMember m : h.swarm().members()) {
      members.add(Map.of("type", m.id().type(), "key", m.id().key()));
    }
    record.put("members", members);
    try {
      store(name, Gate.JSON.writeValueAsString(record));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("swarm " + name + "'s record did not serialize", e);
    }
  }

  private void store(String name, String json) {
    try {
      runtime
          .request(
              Envelope.to(REGISTRY).delivery(DeliveryMode.RELIABLE).payload(new Saved(name, json)),
              STORE_TIMEOUT)
          .get(STORE_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Problem(503, "Not stored", "the node is stopping; swarm " + name + " may be old");
    } catch (ExecutionException | TimeoutException e) {
      throw new Problem(
          503,
          "Not stored",
          "the journal did not store swarm "
              + name
              + "'s change in time ("
              + (e.getCause() != null ? e.getCause() : e)
              + "); it is in force until the node stops (fix: repeat the change)");
    }
  }

  /**
   * Makes swarm {@code name}; empty when one of that name exists already.
   *
   * @param limits the budget's limits as given ({@code maxCalls}, {@code maxTokens}, {@code
   *     maxCostUsd})
   */
  synchronized Optional<Hosted> create(
      String name, Topology topology, Budget budget, Map<String, Object> limits) {
    if (swarms.containsKey(name)) {
      return Optional.empty();
    }
    Swarm s =
        Swarm.builder(name, runtime).topology(topology).budget(budget).durable(journal).build();
    Hosted h = new Hosted(s, Map.copyOf(limits));
    swarms.put(name, h);
    event("created", name, Map.of("topology", topology.name()));
    return Optional.of(h);
  }

  /** Swarm {@code name}, if the node has it. */
  Optional<Hosted> get(String name) {
    return Optional.ofNullable(swarms.get(name));
  }

  /** Every swarm, by name. */
  List<Hosted> all() {
    return new ArrayList<>(swarms.values());
  }

  /**
   * Closes swarm {@code name} (its members keep running) and deletes its record; false when there
   * is none.
   */
  synchronized boolean remove(String name) {
    Hosted h = swarms.get(name);
    if (h == null) {
      return false;
    }
    try {
      h.swarm().deleteLedger(); // first: a failure leaves the swarm as it was
    } catch (IllegalStateException e) {
      throw new Problem(
          503,
          "Not stored",
          "the journal did not delete swarm "
              + name
              + "'s ledger in time ("
              + e.getMessage()
              + "); the swarm is not closed (fix: repeat the request)");
    }
    swarms.remove(name);
    h.swarm().close();
    store(name, "");
    event("closed", name, Map.of());
    return true;
  }

  /** Publishes a swarm event ({@code cfn.flow.swarm.KIND}, source: the swarm). */
  void event(String kind, String swarm, Map<String, Object> detail) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("swarm", swarm);
    m.put("event", kind);
    m.putAll(detail);
    runtime.publish(TopicId.of(TOPIC + "." + kind, swarm), m);
  }

  @Override
  public synchronized void close() {
    swarms.values().forEach(h -> h.swarm().close());
    swarms.clear();
  }
}
