package dev.cfn.flow.swarm;

import dev.cfn.core.AgentId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where each member of one swarm stands, and the topology's verdict on a message between two of
 * them ({@link #refusal}), which the bus asks on its route stage.
 *
 * <p>Every layout is kept at once: the hierarchy (lead, coordinators, workers) and the ring (each
 * member's two neighbours in join order), so that {@link Topology#AUTO} can switch from mesh to
 * hierarchical as the eighth member joins without moving anyone. Changes (join, leave) take one
 * lock; the check takes none: it reads one immutable {@link Node} per member from a concurrent map
 * and the effective topology from a volatile field. A check racing a change sees the layout before
 * or after it, member by member: a message sent while its sender joins or leaves may be judged by
 * either layout.
 */
final class Layout {
  /** One member's place: its role, a worker's coordinator, its ring neighbours. */
  record Node(Role role, AgentId coordinator, AgentId prev, AgentId next) {
    Node withPrev(AgentId p) {
      return new Node(role, coordinator, p, next);
    }

    Node withNext(AgentId n) {
      return new Node(role, coordinator, prev, n);
    }
  }

  private final Topology configured;
  private final Object lock = new Object();
  private final ArrayList<AgentId> roster = new ArrayList<>(); // join order; guarded by lock
  // Each coordinator's number of workers, in the order they became coordinators; guarded by lock.
  private final LinkedHashMap<AgentId, Integer> workers = new LinkedHashMap<>();
  private final ConcurrentHashMap<AgentId, Node> nodes = new ConcurrentHashMap<>();
  private volatile AgentId lead;
  private volatile Topology effective;

  Layout(Topology configured) {
    this.configured = configured;
    this.effective = configured.effective(0);
  }

  Topology effective() {
    return effective;
  }

  AgentId lead() {
    return lead;
  }

  int size() {
    return nodes.size();
  }

  boolean contains(AgentId id) {
    return nodes.containsKey(id);
  }

  Node node(AgentId id) {
    return nodes.get(id);
  }

  int coordinators() {
    synchronized (lock) {
      return workers.size();
    }
  }

  /** The members in join order. */
  List<AgentId> roster() {
    synchronized (lock) {
      return List.copyOf(roster);
    }
  }

  /** Forgets every member at once (the swarm closes). */
  void clear() {
    synchronized (lock) {
      roster.clear();
      workers.clear();
      nodes.clear();
      lead = null;
      effective = configured.effective(0);
    }
  }

  /** Places {@code id} last; false when it is a member already. */
  boolean add(AgentId id) {
    synchronized (lock) {
      if (nodes.containsKey(id)) {
        return false;
      }
      Map<AgentId, Node> changed = new HashMap<>();
      Node placed = place(id, changed);
      nodes.putAll(changed);
      nodes.put(id, placed);
      roster.add(id);
      effective = configured.effective(roster.size());
      return true;
    }
  }

  /** Takes {@code id} out; false when it is not a member. */
  boolean remove(AgentId id) {
    synchronized (lock) {
      Node gone = nodes.get(id);
      if (gone == null) {
        return false;
      }
      roster.remove(id);
      if (gone.role() == Role.WORKER) {
        workers.merge(gone.coordinator(), -1, Integer::sum);
        nodes.remove(id);
        if (!gone.prev().equals(id)) { // close the ring around it
          nodes.computeIfPresent(gone.prev(), (k, n) -> n.withNext(gone.next()));
          nodes.computeIfPresent(gone.next(), (k, n) -> n.withPrev(gone.prev()));
        }
      } else {
        rebuild(); // a lead or coordinator left: lay everyone out again, in join order
        nodes.remove(id);
      }
      effective = configured.effective(roster.size());
      return true;
    }
  }

  /**
   * Lays out {@code id} after the current last member: its place in the hierarchy, and its ring
   * links (between the last and the first member, whose nodes go to {@code changed}).
   */
  private Node place(AgentId id, Map<AgentId, Node> changed) {
    Role role;
    AgentId coordinator = null;
    if (lead == null) {
      lead = id;
      role = Role.LEAD;
    } else {
      AgentId best = null;
      int fewest = Topology.MAX_WORKERS_PER_COORDINATOR;
      for (Map.Entry<AgentId, Integer> e : workers.entrySet()) {
        if (e.getValue() < fewest) {
          best = e.getKey();
          fewest = e.getValue();
        }
      }
      if (best == null) {
        workers.put(id, 0);
        role = Role.COORDINATOR;
      } else {
        workers.put(best, fewest + 1);
        role = Role.WORKER;
        coordinator = best;
      }
    }
    if (roster.isEmpty()) {
      return new Node(role, coordinator, id, id);
    }
    AgentId first = roster.getFirst();
    AgentId last = roster.getLast();
    changed.put(last, current(last, changed).withNext(id));
    changed.put(first, current(first, changed).withPrev(id));
    return new Node(role, coordinator, last, first);
  }

  private Node current(AgentId id, Map<AgentId, Node> changed) {
    Node n = changed.get(id);
    return n != null ? n : nodes.get(id);
  }

  /** Lays out the roster again from scratch, then publishes every node. */
  private void rebuild() {
    List<AgentId> order = List.copyOf(roster);
    roster.clear();
    workers.clear();
    lead = null;
    Map<AgentId, Node> fresh = new HashMap<>();
    for (AgentId id : order) {
      Map<AgentId, Node> changed = new HashMap<>();
      // place() reads the nodes laid out so far from 'fresh' through 'changed'
      changed.putAll(neighbours(fresh, order, roster.size()));
      Node n = place(id, changed);
      fresh.putAll(changed);
      fresh.put(id, n);
      roster.add(id);
    }
    nodes.putAll(fresh);
  }

  /** The first and last nodes laid out so far, which place() links the next member to. */
  private static Map<AgentId, Node> neighbours(
      Map<AgentId, Node> fresh, List<AgentId> order, int placed) {
    if (placed == 0) {
      return Map.of();
    }
    Map<AgentId, Node> m = new HashMap<>(2);
    m.put(order.getFirst(), fresh.get(order.getFirst()));
    m.put(order.get(placed - 1), fresh.get(order.get(placed - 1)));
    return m;
  }

  /** Null when {@code from} may message {@code to}, else the reason naming the rule. */
  String refusal(AgentId from, AgentId to) {
    Topology t = effective;
    if (t == Topology.MESH || from.equals(to)) {
      return null;
    }
    Node f = nodes.get(from);
    Node d = nodes.get(to);
    if (f == null || d == null) {
      return (f == null ? from : to)
          + " is in the swarm on the bus but has no place in its "
          + t.name().toLowerCase(Locale.ROOT)
          + " layout (fix: join members with Swarm.join, not AgentRuntime.joinSwarm)";
    }
    return switch (t) {
      case STAR ->
          f.role() == Role.LEAD || d.role() == Role.LEAD
              ? null
              : "star topology: "
                  + from
                  + " may message only the hub "
                  + lead
                  + ", not "
                  + to
                  + " (fix: send it to the hub, which relays)";
      case RING ->
          to.equals(f.prev()) || to.equals(f.next())
              ? null
              : "ring topology: "
                  + from
                  + " may message only its neighbours "
                  + f.prev()
                  + " and "
                  + f.next()
                  + ", not "
                  + to
                  + " (fix: pass it along the ring)";
      case HIERARCHICAL -> hierarchical(from, f, to, d);
      default -> null;
    };
  }

  private String hierarchical(AgentId from, Node f, AgentId to, Node d) {
    return switch (f.role()) {
      case WORKER ->
          to.equals(f.coordinator())
              ? null
              : "hierarchical topology: worker "
                  + from
                  + " may message only its coordinator "
                  + f.coordinator()
                  + ", not "
                  + to
                  + " (fix: send it to "
                  + f.coordinator()
                  + ", which relays)";
      case COORDINATOR ->
          d.role() == Role.LEAD || from.equals(d.coordinator())
              ? null
              : "hierarchical topology: coordinator "
                  + from
                  + " may message only the lead "
                  + lead
                  + " and its own workers, not "
                  + to
                  + " (fix: go through the lead"
                  + (d.coordinator() != null ? " and " + d.coordinator() : "")
                  + ")";
      case LEAD ->
          d.role() == Role.COORDINATOR
              ? null
              : "hierarchical topology: the lead "
                  + from
                  + " may message only coordinators, not worker "
                  + to
                  + " (fix: send it to its coordinator "
                  + d.coordinator()
                  + ")";
    };
  }
}
