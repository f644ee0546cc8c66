package dev.cfn.flow.swarm;

import java.util.Objects;

/**
 * What happens to a {@link Swarm}, published through the bus (BEST_EFFORT) on {@code
 * cfn.flow.swarm.<kind>} with the swarm's name as the topic's source, and only while someone
 * subscribes to that topic (a swarm whose events nobody reads builds none). Subscribe with {@code
 * runtime.subscribe("cfn.flow.swarm.#", observer)}, or to one kind's topic ({@link #JOINED}, {@link
 * #LEFT}, {@link #REFUSED}, {@link #ROUND_STARTED}, {@link #ROUND_FINISHED}).
 *
 * <p>Events are notices, not the record: one published while the runtime shuts down may be lost,
 * and the order between two events published on different threads (a refusal on a member's carrier,
 * a join on the caller's) is the order their publications reached the subscriber. {@link
 * Swarm#status()} is the authority.
 */
public sealed interface SwarmEvent {
  /** The topic type of {@link Joined}. */
  String JOINED = "cfn.flow.swarm.joined";

  /** The topic type of {@link Left}. */
  String LEFT = "cfn.flow.swarm.left";

  /** The topic type of {@link Refused}. */
  String REFUSED = "cfn.flow.swarm.refused";

  /** The topic type of {@link RoundStarted}. */
  String ROUND_STARTED = "cfn.flow.swarm.round.started";

  /** The topic type of {@link RoundFinished}. */
  String ROUND_FINISHED = "cfn.flow.swarm.round.finished";

  /** The swarm's name (also the topic's source). */
  String swarm();

  /** The topic type this event is published on. */
  String topic();

  /**
   * A member joined.
   *
   * @param swarm the swarm
   * @param member the member's agent id ({@code type/key})
   * @param role its place in the layout when it joined (kept under every topology; see {@link
   *     Role})
   * @param coordinator its coordinator in a hierarchy, else null
   * @param members how many members the swarm has with it
   */
  record Joined(String swarm, String member, Role role, String coordinator, int members)
      implements SwarmEvent {
    /** Checks the required fields. */
    public Joined {
      Objects.requireNonNull(swarm, "swarm");
      Objects.requireNonNull(member, "member");
      Objects.requireNonNull(role, "role");
    }

    @Override
    public String topic() {
      return JOINED;
    }
  }

  /**
   * A member left (it keeps running outside the swarm).
   *
   * @param swarm the swarm
   * @param member the member's agent id
   * @param members how many members the swarm has without it
   */
  record Left(String swarm, String member, int members) implements SwarmEvent {
    /** Checks the required fields. */
    public Left {
      Objects.requireNonNull(swarm, "swarm");
      Objects.requireNonNull(member, "member");
    }

    @Override
    public String topic() {
      return LEFT;
    }
  }

  /**
   * A message from one member to another that the topology refused (the sender got a {@link
   * dev.cfn.core.SwarmRuleException} with the same rule).
   *
   * @param swarm the swarm
   * @param from the sending member
   * @param to the member it was addressed to
   * @param topology the topology in force ({@code STAR}, {@code RING}, {@code HIERARCHICAL}; AUTO
   *     resolved)
   * @param rule the rule that refused it, with its fix, as the sender's exception says it
   * @param refused how many messages the swarm has refused so far, this one included
   */
  record Refused(String swarm, String from, String to, Topology topology, String rule, long refused)
      implements SwarmEvent {
    /** Checks the required fields. */
    public Refused {
      Objects.requireNonNull(swarm, "swarm");
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(topology, "topology");
      Objects.requireNonNull(rule, "rule");
    }

    @Override
    public String topic() {
      return REFUSED;
    }
  }

  /**
   * A coordination round started: its task is on its way to the members asked.
   *
   * @param swarm the swarm
   * @param round the round's number in the swarm (from 1), as in {@link RoundResult#round()}
   * @param asked how many members it asks
   * @param reduce how the replies are reduced ({@code all}, {@code first}, {@code majority}, {@code
   *     weighted})
   * @param deadlineMillis how long it waits for replies
   */
  record RoundStarted(String swarm, long round, int asked, String reduce, long deadlineMillis)
      implements SwarmEvent {
    /** Checks the required fields. */
    public RoundStarted {
      Objects.requireNonNull(swarm, "swarm");
      Objects.requireNonNull(reduce, "reduce");
    }

    @Override
    public String topic() {
      return ROUND_STARTED;
    }
  }

  /**
   * A coordination round ended: every member replied, the reduction ended it, or its deadline
   * passed. The replies themselves are in the round's {@link RoundResult}, not here.
   *
   * @param swarm the swarm
   * @param round the round's number
   * @param asked how many members it asked
   * @param replied how many replied in time
   * @param missing how many did not, as {@link RoundResult#missing()} counts them (the unreachable
   *     among them; none once a {@link Reduce#first()} round has its reply)
   * @param unreachable how many could not be sent the task
   * @param deadlinePassed true when the deadline ended it
   * @param decided true when the reduction reached a decision
   * @param millis how long it took, start to end
   */
  record RoundFinished(
      String swarm,
      long round,
      int asked,
      int replied,
      int missing,
      int unreachable,
      boolean deadlinePassed,
      boolean decided,
      long millis)
      implements SwarmEvent {
    /** Checks the required fields. */
    public RoundFinished {
      Objects.requireNonNull(swarm, "swarm");
    }

    @Override
    public String topic() {
      return ROUND_FINISHED;
    }
  }
}
