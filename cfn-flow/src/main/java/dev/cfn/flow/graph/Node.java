package dev.cfn.flow.graph;

import dev.cfn.core.AgentId;
import java.time.Duration;
import java.util.List;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A task of a built graph: its {@link TaskSpec} frozen, with its place in the graph (its index in
 * topological order, the indexes of its dependencies and of its dependents).
 */
record Node(
    int index,
    String id,
    AgentId agent,
    String agentType,
    String capability,
    Function<RunState, String> input,
    List<String> after,
    int[] dependencies,
    int[] dependents,
    Duration timeout,
    int attempts,
    Duration backoff,
    Predicate<RunState> when,
    BiPredicate<String, RunState> until,
    int maxIterations,
    String writes) {

  /**
   * The agent that runs this task in run {@code runId}; null for a task sent to a swarm's member
   * ({@link #capability}), whose agent is picked for each attempt.
   */
  AgentId target(String runId) {
    if (capability != null) {
      return null;
    }
    return agent != null ? agent : AgentId.of(agentType, runId + "." + id);
  }

  /** The delay before attempt {@code next} (from 2): the backoff doubled after each failure. */
  Duration backoffBefore(int next) {
    long base = backoff.toMillis();
    int shift = Math.min(20, Math.max(0, next - 2));
    return Duration.ofMillis(Math.min(base << shift, 3_600_000L));
  }
}
