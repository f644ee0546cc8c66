package dev.cfn.flow.swarm;

import java.util.Objects;

/**
 * How a {@link Swarm} picks the member for a task ({@link Swarm#assign}, {@link Swarm#submit}).
 * Load is a member's queued messages plus the tasks the swarm gave it that are not answered yet.
 */
public sealed interface Assignment {
  /**
   * The least-loaded member whose agent definition lists {@code capability} in its {@code
   * capabilities} or has it as its {@code type}; refused when no member has it.
   */
  static Assignment capability(String capability) {
    return new Capability(capability);
  }

  /**
   * A member whose agent definition offers {@code capability} (as {@link #capability(String)}),
   * picked among those by {@code among}: {@link #leastLoaded()}, {@link #roundRobin()} or {@link
   * #sticky(String)}. So a strategy never gives a task to a member that cannot do it; what a
   * durable task graph run through a swarm uses ({@code GraphRunner.Builder.swarm}).
   */
  static Assignment capability(String capability, Assignment among) {
    return new Capability(capability, among);
  }

  /** The member with the least load; ties go round the roster. */
  static Assignment leastLoaded() {
    return LeastLoaded.INSTANCE;
  }

  /** The members in turn, in join order. */
  static Assignment roundRobin() {
    return RoundRobin.INSTANCE;
  }

  /**
   * The same member for the same {@code key} while it stays in the swarm (rendezvous hashing): when
   * a member leaves only its keys move, when one joins only the keys it now wins move.
   */
  static Assignment sticky(String key) {
    return new Sticky(key);
  }

  /** See {@link #capability(String)} and {@link #capability(String, Assignment)}. */
  record Capability(String capability, Assignment among) implements Assignment {
    /** Requires a capability name, and a strategy to pick with that is not itself a capability. */
    public Capability {
      Objects.requireNonNull(capability, "capability");
      Objects.requireNonNull(among, "among");
      if (capability.isBlank()) {
        throw new IllegalArgumentException("a capability is a non-blank name such as 'review'");
      }
      if (among instanceof Capability) {
        throw new IllegalArgumentException(
            "pick among the members offering '"
                + capability
                + "' by least-loaded, round-robin or sticky, not by another capability");
      }
    }

    /** The least-loaded member offering {@code capability}. */
    public Capability(String capability) {
      this(capability, LeastLoaded.INSTANCE);
    }
  }

  /** See {@link #leastLoaded()}. */
  enum LeastLoaded implements Assignment {
    /** The one value. */
    INSTANCE
  }

  /** See {@link #roundRobin()}. */
  enum RoundRobin implements Assignment {
    /** The one value. */
    INSTANCE
  }

  /** See {@link #sticky(String)}. */
  record Sticky(String key) implements Assignment {
    /** Requires a key. */
    public Sticky {
      Objects.requireNonNull(key, "key");
    }
  }
}
