package dev.cfn.flow.swarm;

import dev.cfn.core.AgentId;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * How a coordination round ({@link Swarm#round}) turns its replies into one decision. A round
 * gathers every reply, or what arrived by its deadline, except under {@link #first()}, which ends
 * at the first reply.
 *
 * <ul>
 *   <li>{@link #all()}: the decision is the list of every reply, in arrival order; the round is
 *       decided only when every member asked replied.
 *   <li>{@link #first()}: the decision is the first reply.
 *   <li>{@link #majority()}: the decision is the vote that <b>more than half of the members
 *       asked</b> gave (not half of those who answered: a missing reply counts against every vote).
 *       Asked 5, votes A, A, A, B and one missing: A has 3 &gt; 2.5, decided A. Asked 4, votes A,
 *       A, B, B: no vote has more than 2, undecided.
 *   <li>{@link #weighted(ToDoubleFunction)}: as majority, with each member's vote counting its
 *       weight: decided when one vote has more than half of the total weight of the members asked.
 *       Weights 3, 1, 1 voting A, B, B: A has 3 of 5 &gt; 2.5, decided A.
 * </ul>
 *
 * <p>The vote of a reply is its payload, or what {@code vote} makes of it (for example {@code r ->
 * ((TaskResult) r).text().strip()}); votes are compared with {@code equals}.
 */
public sealed interface Reduce {
  /** Every reply; decided when all members replied. */
  static Reduce all() {
    return All.INSTANCE;
  }

  /** The first reply; the round ends with it. */
  static Reduce first() {
    return First.INSTANCE;
  }

  /** The payload more than half of the members asked replied with. */
  static Reduce majority() {
    return new Majority(Function.identity());
  }

  /** The vote, made of each reply by {@code vote}, of more than half of the members asked. */
  static Reduce majority(Function<Object, ?> vote) {
    return new Majority(vote);
  }

  /** The payload with more than half of the asked members' total {@code weight}. */
  static Reduce weighted(ToDoubleFunction<AgentId> weight) {
    return new Weighted(weight, Function.identity());
  }

  /** The vote with more than half of the asked members' total {@code weight}. */
  static Reduce weighted(ToDoubleFunction<AgentId> weight, Function<Object, ?> vote) {
    return new Weighted(weight, vote);
  }

  /** See {@link #all()}. */
  enum All implements Reduce {
    /** The one value. */
    INSTANCE
  }

  /** See {@link #first()}. */
  enum First implements Reduce {
    /** The one value. */
    INSTANCE
  }

  /**
   * See {@link #majority()}.
   *
   * @param vote what a reply's payload votes for
   */
  record Majority(Function<Object, ?> vote) implements Reduce {
    /** Requires the vote function. */
    public Majority {
      Objects.requireNonNull(vote, "vote");
    }
  }

  /**
   * See {@link #weighted(ToDoubleFunction)}.
   *
   * @param weight each member's weight, finite and not negative
   * @param vote what a reply's payload votes for
   */
  record Weighted(ToDoubleFunction<AgentId> weight, Function<Object, ?> vote) implements Reduce {
    /** Requires both functions. */
    public Weighted {
      Objects.requireNonNull(weight, "weight");
      Objects.requireNonNull(vote, "vote");
    }
  }
}
