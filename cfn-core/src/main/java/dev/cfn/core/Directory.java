package dev.cfn.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The registered agent types and the live agents, for the route stage: finds the cell of an id,
 * activating the agent on its first message when its type is registered (one activation per id,
 * however many senders race), and assigns each new agent its dispatcher (a carrier, round-robin, or
 * the virtual-thread dispatcher for blocking types).
 */
final class Directory {
  private final ConcurrentHashMap<String, RegisteredType> types = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<AgentId, AgentCell> agents = new ConcurrentHashMap<>();
  // Lazy activations under way: concurrent first sends to one id wait for one factory call.
  private final ConcurrentHashMap<AgentId, Activation> activating = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<AgentId>> swarms = new ConcurrentHashMap<>();
  private final Object membership = new Object(); // serializes join and leave
  private final AtomicInteger nextCarrier = new AtomicInteger();
  private final LongAdder unbounded = new LongAdder();
  private final Carrier[] carriers;
  private final VirtualDispatcher virtual;
  private final Admit admit;
  private final Lifecycle lifecycle;

  Directory(Carrier[] carriers, VirtualDispatcher virtual, Admit admit, Lifecycle lifecycle) {
    this.carriers = carriers;
    this.virtual = virtual;
    this.admit = admit;
    this.lifecycle = lifecycle;
  }

  // ------------------------------------------------------------------ types

  void register(RegisteredType r) {
    if (types.putIfAbsent(r.spec.name(), r) != null) {
      throw new IllegalStateException(
          "agent type '" + r.spec.name() + "' is already registered; choose another name");
    }
  }

  boolean isRegistered(String type) {
    return types.containsKey(type);
  }

  boolean unregister(String type) {
    RegisteredType r = types.get(type);
    if (r == null) {
      return false;
    }
    List<AgentId> live = liveOf(type);
    if (!live.isEmpty()) {
      throw new IllegalStateException(
          "agent type '"
              + type
              + "' still has "
              + live.size()
              + " live agent(s), e.g. "
              + live.getFirst()
              + " (fix: stop them with runtime.stop(id) first, then unregister)");
    }
    return types.remove(type, r);
  }

  // ------------------------------------------------------------------ agents

  /** The live cell of {@code id}, or null; never activates. */
  AgentCell live(AgentId id) {
    return agents.get(id);
  }

  /** Spawns {@code id} explicitly (with {@code agent}, or one from its type's factory). */
  AgentCell spawn(AgentId id, String swarm, Agent agent) {
    admit.requireRunning("no agents can be spawned");
    RegisteredType t = types.get(id.type());
    if (t == null) {
      throw new IllegalArgumentException(
          "no agent type '"
              + id.type()
              + "' is registered; register it with runtime.register(AgentType.of(\""
              + id.type()
              + "\", factory)) before spawning "
              + id);
    }
    if (swarm != null) {
      AgentId.validateKey(swarm);
    }
    AgentCell cell = newCell(id, t, swarm, agent);
    if (agents.putIfAbsent(id, cell) != null) {
      throw new IllegalStateException(
          "agent " + id + " is already live; use lookup(id) or ref(id) to reach it");
    }
    activated(cell);
    return cell;
  }

  /** The live cell for {@code id}, activating it if its type is registered; null otherwise. */
  AgentCell cellFor(AgentId id) {
    AgentCell cell = agents.get(id);
    if (cell != null) {
      return cell;
    }
    RegisteredType t = types.get(id.type());
    if (t == null || admit.isTerminated()) {
      return null;
    }
    // One sender activates; the others wait for its cell instead of calling the factory again.
    Activation mine = new Activation(Thread.currentThread());
    Activation other = activating.putIfAbsent(id, mine);
    if (other != null) {
      return other.await(id);
    }
    try {
      cell = agents.get(id); // activated between our first look and the claim?
      if (cell == null) {
        AgentCell fresh = newCell(id, t, null, null);
        cell = agents.putIfAbsent(id, fresh); // a concurrent spawn may still win
        if (cell == null) {
          activated(fresh);
          cell = fresh;
        }
      }
      mine.cell.complete(cell);
      return cell;
    } catch (RuntimeException | Error ex) {
      mine.cell.completeExceptionally(ex);
      throw ex;
    } finally {
      activating.remove(id, mine);
    }
  }

  private AgentCell newCell(AgentId id, RegisteredType t, String swarm, Agent given) {
    Agent agent = given;
    if (agent == null) {
      try {
        agent = t.spec.factory().create(id);
      } catch (Exception e) {
        throw new IllegalStateException(
            "the factory of agent type '" + id.type() + "' failed to create " + id + ": " + e, e);
      }
      if (agent == null) {
        throw new IllegalStateException(
            "the factory of agent type '" + id.type() + "' returned null for " + id);
      }
    }
    Dispatcher d =
        t.spec.blocking()
            ? virtual
            : carriers[Math.floorMod(nextCarrier.getAndIncrement(), carriers.length)];
    return new AgentCell(id, t, agent, given != null, d, swarm);
  }

  private void activated(AgentCell cell) {
    if (cell.type.spec.unboundedMailbox()) {
      unbounded.increment();
    }
    if (cell.swarm != null) {
      swarms.computeIfAbsent(cell.swarm, k -> ConcurrentHashMap.newKeySet()).add(cell.id);
    }
    lifecycle.publish(cell.id, LifecycleEvent.Kind.STARTED, "");
    if (cell.needsStart()) {
      cell.schedule();
    }
  }

  /** Forgets a stopping cell, so the next send to its id activates a fresh agent. */
  void remove(AgentCell cell) {
    if (agents.remove(cell.id, cell) && cell.type.spec.unboundedMailbox()) {
      unbounded.decrement();
    }
    String swarm = cell.swarm;
    if (swarm != null) {
      Set<AgentId> members = swarms.get(swarm);
      if (members != null) {
        members.remove(cell.id);
      }
    }
  }

  /** The live agents of {@code type}, for a broadcast or {@link #unregister}. */
  List<AgentId> liveOf(String type) {
    List<AgentId> live = new ArrayList<>();
    for (AgentCell c : agents.values()) {
      if (c.id.type().equals(type) && !c.isStopped()) {
        live.add(c.id);
      }
    }
    return live;
  }

  /**
   * Makes the live agent {@code id} a member of {@code swarm}. Throws when it is not live or is a
   * member of another swarm; joining its own swarm again changes nothing.
   */
  void join(AgentId id, String swarm) {
    AgentId.validateKey(swarm);
    AgentCell cell = agents.get(id);
    if (cell == null || cell.isStopped()) {
      throw new IllegalArgumentException(
          "agent "
              + id
              + " is not live, so it cannot join swarm '"
              + swarm
              + "' (fix: spawn it"
              + " first, or spawn it into the swarm with runtime.spawn(id, swarm))");
    }
    synchronized (membership) {
      String now = cell.swarm;
      if (now != null && !now.equals(swarm)) {
        throw new IllegalStateException(
            "agent "
                + id
                + " is a member of swarm '"
                + now
                + "'; an agent belongs to one swarm"
                + " (fix: leave '"
                + now
                + "' first)");
      }
      swarms.computeIfAbsent(swarm, k -> ConcurrentHashMap.newKeySet()).add(id);
      cell.swarm = swarm;
    }
  }

  /** Takes the live agent {@code id} out of its swarm; false when it is in none or not live. */
  boolean leave(AgentId id) {
    AgentCell cell = agents.get(id);
    if (cell == null) {
      return false;
    }
    synchronized (membership) {
      String now = cell.swarm;
      if (now == null) {
        return false;
      }
      cell.swarm = null;
      Set<AgentId> members = swarms.get(now);
      if (members != null) {
        members.remove(id);
      }
      return true;
    }
  }

  /** The members of {@code swarm} now (a copy). */
  List<AgentId> swarm(String swarm) {
    Set<AgentId> members = swarms.get(swarm);
    return members == null ? List.of() : List.copyOf(members);
  }

  Collection<AgentCell> cells() {
    return agents.values();
  }

  int size() {
    return agents.size();
  }

  long unboundedMailboxes() {
    return unbounded.sum();
  }

  void clear() {
    agents.clear();
    unbounded.reset();
  }

  /** A lazy activation in progress: the thread calling the factory, and the cell it produces. */
  private static final class Activation {
    final Thread owner;
    final CompletableFuture<AgentCell> cell = new CompletableFuture<>();

    Activation(Thread owner) {
      this.owner = owner;
    }

    AgentCell await(AgentId id) {
      if (owner == Thread.currentThread()) {
        throw new IllegalStateException(
            "the factory of agent type '"
                + id.type()
                + "' sent a message to "
                + id
                + " while creating it; send from onStart instead");
      }
      try {
        return cell.join();
      } catch (CompletionException ex) {
        throw new IllegalStateException(
            "activating " + id + " failed: " + ex.getCause(), ex.getCause());
      }
    }
  }
}
