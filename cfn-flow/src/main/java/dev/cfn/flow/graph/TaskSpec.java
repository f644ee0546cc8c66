package dev.cfn.flow.graph;

import dev.cfn.core.AgentId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One task of a {@link TaskGraph}, as the user describes it: who does it (an agent, or an agent
 * type), what it is given (its input, computed from the run's state when it becomes ready), what it
 * waits for (its dependencies), how long one attempt may take, how often it is tried, and
 * optionally a condition (a branch) or a repetition (a loop). The graph copies it when built, so a
 * spec may be reused.
 *
 * <pre>{@code
 * TaskSpec.of("review")
 *     .agent("reviewer")                      // an agent type: one agent per task, keyed by run
 *                                             // (or .capability("review"): a swarm's member)
 *     .after("implement")
 *     .input(s -> "Review this:\n" + s.result("implement"))
 *     .timeout(Duration.ofMinutes(2))
 *     .retries(2, Duration.ofSeconds(1))      // 3 attempts in all
 *     .writes("review");                      // the result also lands in the run's state
 * }</pre>
 */
public final class TaskSpec {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /** Default time one attempt may take. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  final String id;
  AgentId agent;
  String agentType;
  String capability;
  Function<RunState, String> input = s -> "";
  final List<String> after = new ArrayList<>();
  Duration timeout = DEFAULT_TIMEOUT;
  int attempts = 1;
  Duration backoff = Duration.ZERO;
  Predicate<RunState> when;
  BiPredicate<String, RunState> until;
  int maxIterations = 1;
  String writes;

  private TaskSpec(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "task id '"
              + id
              + "' is not 1 to 64 letters, digits, '_' or '-' (fix: name it like 'plan' or"
              + " 'search-3')");
    }
    this.id = id;
  }

  /** A task named {@code id} (1 to 64 letters, digits, '_' or '-'), unique in its graph. */
  public static TaskSpec of(String id) {
    return new TaskSpec(id);
  }

  /** This task's id. */
  public String id() {
    return id;
  }

  /** The task is sent to this very agent. */
  public TaskSpec agent(AgentId agent) {
    this.agent = Objects.requireNonNull(agent, "agent");
    this.agentType = null;
    this.capability = null;
    return this;
  }

  /**
   * The task is sent to an agent of this registered type, keyed by run and task ({@code RUN.TASK}),
   * so every task of every run gets its own agent. To have a swarm choose the agent, name a {@link
   * #capability(String)} instead.
   */
  public TaskSpec agent(String agentType) {
    this.agentType = Objects.requireNonNull(agentType, "agentType");
    this.agent = null;
    this.capability = null;
    return this;
  }

  /**
   * The task is sent to a member of the runner's swarm ({@link GraphRunner.Builder#swarm}) that
   * offers {@code capability} (in its definition's {@code capabilities} or as its {@code type}),
   * chosen by the runner's strategy when each attempt is sent, and its model calls are charged to
   * the swarm's budget. A runner without a swarm refuses such a graph.
   */
  public TaskSpec capability(String capability) {
    Objects.requireNonNull(capability, "capability");
    if (capability.isBlank()) {
      throw new IllegalArgumentException(
          "task '" + id + "': a capability is a non-blank name such as 'review'");
    }
    this.capability = capability;
    this.agent = null;
    this.agentType = null;
    return this;
  }

  /** A fixed input. */
  public TaskSpec input(String input) {
    Objects.requireNonNull(input, "input");
    this.input = s -> input;
    return this;
  }

  /**
   * The input, computed from the run's state (dependencies' results, the blackboard, the iteration)
   * when the task becomes ready. It runs on the run's coordinator: keep it quick and deterministic,
   * since a resumed run may compute it again.
   */
  public TaskSpec input(Function<RunState, String> input) {
    this.input = Objects.requireNonNull(input, "input");
    return this;
  }

  /** Runs after the tasks {@code ids} have finished. */
  public TaskSpec after(String... ids) {
    for (String d : ids) {
      after.add(Objects.requireNonNull(d, "dependency"));
    }
    return this;
  }

  /** How long one attempt may take before it counts as failed (default 5 minutes). */
  public TaskSpec timeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "task '" + id + "': timeout must be positive, was " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Retries a failed or timed-out attempt {@code retries} times (so {@code retries + 1} attempts in
   * all), waiting {@code backoff} doubled after each failure.
   */
  public TaskSpec retries(int retries, Duration backoff) {
    if (retries < 0 || retries > 100) {
      throw new IllegalArgumentException(
          "task '" + id + "': retries must be 0 to 100, was " + retries);
    }
    if (backoff == null || backoff.isNegative()) {
      throw new IllegalArgumentException(
          "task '" + id + "': backoff must be zero or positive, was " + backoff);
    }
    this.attempts = retries + 1;
    this.backoff = backoff;
    return this;
  }

  /**
   * Runs the task only when {@code condition} holds on the run's state once its dependencies have
   * finished; otherwise it is skipped (its dependents still run: a skipped task counts as done).
   */
  public TaskSpec when(Predicate<RunState> condition) {
    this.when = Objects.requireNonNull(condition, "condition");
    return this;
  }

  /**
   * Repeats the task until {@code exit} holds on an iteration's result (the run's state sees it as
   * this task's result), at most {@code maxIterations} times; reaching the bound without the exit
   * condition fails the task. {@link RunState#iteration(String)} tells the input which iteration it
   * builds.
   */
  public TaskSpec repeatUntil(BiPredicate<String, RunState> exit, int maxIterations) {
    if (maxIterations < 1 || maxIterations > 10_000) {
      throw new IllegalArgumentException(
          "task '" + id + "': a loop's bound must be 1 to 10000 iterations, was " + maxIterations);
    }
    this.until = Objects.requireNonNull(exit, "exit");
    this.maxIterations = maxIterations;
    return this;
  }

  /** Also writes the task's result to {@code key} in the run's state (the blackboard). */
  public TaskSpec writes(String key) {
    StateKeys.check(key);
    this.writes = key;
    return this;
  }
}
