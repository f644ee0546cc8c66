package dev.cfn.flow.swarm;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One coordination round, as an agent: on start it sends the task to every member asked (as itself,
 * so each member answers it the way cfn's agents answer a plain message: by sending back to its
 * sender), then gathers the replies one message at a time, reducing as they come, until every
 * member replied, the reduction ends it ({@link Reduce#first()}), or the deadline message arrives.
 * Then it completes the round's future and stops.
 *
 * <p>Why an agent: its handler runs one message at a time, so the gathering needs no lock and no
 * thread of its own however many members answer; the deadline is one message from one timer task.
 * Replies arriving after it stopped are dead letters ({@link LateReplies} takes the ones that would
 * activate it again).
 */
final class RoundCollector implements Agent {
  /**
   * The deadline signal, sent by the swarm's timer task. Package-private: no member can send it.
   */
  enum Signal {
    DEADLINE
  }

  private final String swarm;
  private final long round;
  private final AgentId[] targets;
  private final double[] weights; // weighted only
  private final double totalWeight;
  private final Object task;
  private final Reduce reduce;
  private final Function<Object, ?> vote; // majority and weighted, else null
  private final CompletableFuture<RoundResult> result;
  private final long deadlineMillis;
  private final SwarmEvents events;
  private long startedNanos;

  private final HashMap<AgentId, Integer> index;
  private final boolean[] answered;
  private final List<RoundResult.Reply> replies = new ArrayList<>();
  private final Map<AgentId, String> unreachable = new LinkedHashMap<>();
  private final HashMap<Object, Double> tally = new HashMap<>();
  private boolean done;

  RoundCollector(
      String swarm,
      long round,
      AgentId[] targets,
      double[] weights,
      Object task,
      Reduce reduce,
      long deadlineMillis,
      CompletableFuture<RoundResult> result,
      SwarmEvents events) {
    this.swarm = swarm;
    this.round = round;
    this.targets = targets;
    this.weights = weights;
    double total = 0;
    if (weights != null) {
      for (double w : weights) {
        total += w;
      }
    }
    this.totalWeight = total;
    this.task = task;
    this.reduce = reduce;
    this.vote =
        switch (reduce) {
          case Reduce.Majority m -> m.vote();
          case Reduce.Weighted w -> w.vote();
          default -> null;
        };
    this.result = result;
    this.deadlineMillis = deadlineMillis;
    this.events = events;
    this.index = HashMap.newHashMap(targets.length);
    for (int i = 0; i < targets.length; i++) {
      index.put(targets[i], i);
    }
    this.answered = new boolean[targets.length];
  }

  @Override
  public void onStart(AgentContext ctx) {
    startedNanos = System.nanoTime();
    if (events.listened(SwarmEvent.ROUND_STARTED)) {
      events.publish(
          ctx,
          new SwarmEvent.RoundStarted(swarm, round, targets.length, name(reduce), deadlineMillis));
    }
    for (AgentId to : targets) {
      try {
        ctx.send(to, task);
      } catch (RuntimeException ex) {
        unreachable.put(to, ex.getMessage() == null ? ex.toString() : ex.getMessage());
      }
    }
    if (targets.length == 0 || replies.size() + unreachable.size() == targets.length) {
      finish(ctx, false);
    }
  }

  @Override
  public void onMessage(Envelope m, AgentContext ctx) {
    if (done) {
      return;
    }
    if (m.payload() == Signal.DEADLINE) {
      finish(ctx, true);
      return;
    }
    Integer i = index.get(m.sender());
    if (i == null || answered[i]) {
      return; // not asked, or its second answer: the first one counts
    }
    answered[i] = true;
    Object payload = m.payload();
    replies.add(new RoundResult.Reply(m.sender(), payload));
    if (vote != null) {
      Object v;
      try {
        v = vote.apply(payload);
      } catch (RuntimeException ex) {
        v = null; // a reply the vote cannot read votes for nothing
      }
      if (v != null) {
        tally.merge(v, weights == null ? 1.0 : weights[i], Double::sum);
      }
    }
    if (reduce == Reduce.First.INSTANCE || replies.size() + unreachable.size() == targets.length) {
      finish(ctx, false);
    }
  }

  private void finish(AgentContext ctx, boolean deadlinePassed) {
    done = true;
    List<AgentId> missing = new ArrayList<>();
    if (reduce != Reduce.First.INSTANCE || replies.isEmpty()) {
      for (int i = 0; i < targets.length; i++) {
        if (!answered[i]) {
          missing.add(targets[i]);
        }
      }
    }
    Object decision = decision();
    if (events.listened(SwarmEvent.ROUND_FINISHED)) {
      events.publish(
          ctx,
          new SwarmEvent.RoundFinished(
              swarm,
              round,
              targets.length,
              replies.size(),
              missing.size(),
              unreachable.size(),
              deadlinePassed,
              decision != null,
              (System.nanoTime() - startedNanos) / 1_000_000));
    }
    result.complete(
        new RoundResult(
            swarm,
            round,
            reduce,
            targets.length,
            replies,
            missing,
            unreachable,
            deadlinePassed,
            decision,
            tally));
    ctx.stopSelf();
  }

  private static String name(Reduce reduce) {
    return switch (reduce) {
      case Reduce.All a -> "all";
      case Reduce.First f -> "first";
      case Reduce.Majority m -> "majority";
      case Reduce.Weighted w -> "weighted";
    };
  }

  private Object decision() {
    return switch (reduce) {
      case Reduce.All a ->
          replies.size() == targets.length
              ? replies.stream().map(RoundResult.Reply::payload).toList()
              : null;
      case Reduce.First f -> replies.isEmpty() ? null : replies.getFirst().payload();
      case Reduce.Majority m -> over(targets.length / 2.0);
      case Reduce.Weighted w -> over(totalWeight / 2.0);
    };
  }

  /** The vote whose count or weight is more than {@code half}, or null. */
  private Object over(double half) {
    for (Map.Entry<Object, Double> e : tally.entrySet()) {
      if (e.getValue() > half) {
        return e.getKey();
      }
    }
    return null;
  }

  /**
   * What a reply to a round that already ended activates: it drops the message and stops, so late
   * replies cost one short-lived agent, not a member's error.
   */
  static final class LateReplies implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(LateReplies.class);

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      LOG.debug(
          "{}: late reply from {} to a round that has ended; dropped", ctx.self(), m.sender());
      ctx.stopSelf();
    }
  }
}
