package dev.cfn.flow.swarm;

import dev.cfn.core.AgentId;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a coordination round gathered and decided.
 *
 * @param swarm the swarm's name
 * @param round the round's number in its swarm, from 1
 * @param reduce how the replies were reduced
 * @param asked how many members the task went to
 * @param replies the replies, in arrival order (one per member at most)
 * @param missing the members asked that had not replied when the round ended, in the order they
 *     were asked (empty under {@link Reduce#first()} once one replied)
 * @param unreachable the members the task could not be sent to, with why (they are also missing)
 * @param deadlinePassed true when the round ended at its deadline rather than complete
 * @param decision the decision, or {@code null} when the round is undecided (see {@link Reduce})
 * @param tally the total count or weight per vote (majority and weighted), else empty
 */
public record RoundResult(
    String swarm,
    long round,
    Reduce reduce,
    int asked,
    List<Reply> replies,
    List<AgentId> missing,
    Map<AgentId, String> unreachable,
    boolean deadlinePassed,
    Object decision,
    Map<Object, Double> tally) {

  /**
   * One member's reply.
   *
   * @param member who replied
   * @param payload what it replied
   */
  public record Reply(AgentId member, Object payload) {}

  /** Copies the collections. */
  public RoundResult {
    Objects.requireNonNull(reduce, "reduce");
    replies = List.copyOf(replies);
    missing = List.copyOf(missing);
    unreachable = Map.copyOf(unreachable);
    tally = Map.copyOf(tally);
  }

  /** True when the reduction reached a decision. */
  public boolean decided() {
    return decision != null;
  }

  /** The decision, if one was reached. */
  public Optional<Object> decisionIfAny() {
    return Optional.ofNullable(decision);
  }

  /** True when every member asked replied. */
  public boolean complete() {
    return replies.size() == asked;
  }
}
