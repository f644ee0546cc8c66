package dev.cfn.flow.swarm;

/**
 * Who in a {@link Swarm} may message whom. The bus enforces it: a message between two members that
 * the topology forbids is refused on the route stage (see {@link dev.cfn.core.SwarmRule}). Messages
 * from outside the swarm (the swarm's own tasks and rounds, other agents) are not governed, and a
 * reply always travels back along the request that was allowed.
 */
public enum Topology {
  /** Every member may message every other. */
  MESH,
  /**
   * Workers message their coordinator, coordinators message the lead and their own workers, the
   * lead messages the coordinators. The first member is the lead; a member joining becomes a worker
   * of the coordinator with the fewest workers, or a new coordinator when every coordinator has
   * {@link #MAX_WORKERS_PER_COORDINATOR}.
   */
  HIERARCHICAL,
  /** The first member is the hub: it messages anyone, every other member messages only the hub. */
  STAR,
  /** Members in join order form a ring: each messages only its two neighbours. */
  RING,
  /**
   * {@link #MESH} while the swarm has fewer than {@link #AUTO_HIERARCHICAL_FROM} members, {@link
   * #HIERARCHICAL} from then on (claude-flow-novice's rule), switching as members join and leave.
   */
  AUTO;

  /** The most workers one coordinator of a hierarchical swarm leads. */
  public static final int MAX_WORKERS_PER_COORDINATOR = 50;

  /** The size from which {@link #AUTO} is hierarchical (mesh for 2 to 7 members). */
  public static final int AUTO_HIERARCHICAL_FROM = 8;

  /** The topology in force for a swarm of {@code members} (resolves {@link #AUTO}). */
  public Topology effective(int members) {
    if (this != AUTO) {
      return this;
    }
    return members >= AUTO_HIERARCHICAL_FROM ? HIERARCHICAL : MESH;
  }

  /** Reads a topology name as a user writes it ({@code mesh}, {@code Hierarchical}, ...). */
  public static Topology parse(String name) {
    if (name != null) {
      for (Topology t : values()) {
        if (t.name().equalsIgnoreCase(name.strip())) {
          return t;
        }
      }
    }
    throw new IllegalArgumentException(
        "unknown topology '" + name + "'; use one of mesh, hierarchical, star, ring, auto");
  }
}
