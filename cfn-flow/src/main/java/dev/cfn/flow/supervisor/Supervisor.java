package dev.cfn.flow.supervisor;

import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.budget.BudgetExhaustedException;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.Envelope;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Swarm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The supervisor composition: a planner agent (an {@code LlmAgent}, or any agent that answers a
 * {@link Task} with text) decides at each turn which member of a {@link Swarm} does what next, as
 * strict structured output, until it gives the final answer.
 *
 * <p>A turn: the planner is asked (a request over the bus) with the objective, the members, every
 * step so far and the answer format (see {@code PlannerPrompt}); its answer must be exactly one
 * JSON object, {@code {"next": MEMBER, "input": TEXT}} or {@code {"finish": ANSWER}}. A valid
 * {@code next} goes to the member the swarm's assignment picks for it (by default {@link
 * Assignment#capability}: members join with their name among their capabilities), and the member's
 * answer (or failure) joins the history. An invalid answer costs the turn and its reason is fed
 * back in the next prompt. The run is bounded by {@link Builder#maxTurns} (planner answers, valid
 * or not) and by the budget: {@link Budget#check()} before every call, and a member or planner
 * stopped by its budget ends the run {@code BUDGET_EXHAUSTED}. Give the planner and the members
 * budgets whose parent is the swarm's ({@link Swarm#memberBudget}) so that every model call counts.
 *
 * <pre>{@code
 * Supervisor sup = Supervisor.builder(runtime, swarm, AgentId.of("planner", "1"))
 *     .member("researcher", "finds facts").member("writer", "writes the summary")
 *     .maxTurns(8).build();
 * SupervisorOutcome done = sup.run("Explain durable queues in a paragraph");
 * }</pre>
 *
 * <p>{@link #run} blocks its caller (call it from a virtual thread); a supervisor may run several
 * objectives one after another or at once.
 *
 * <p><b>Resuming after a crash.</b> {@link #run(String, String)} gives every call of the run a
 * fixed idempotency key, {@code cfn-swarm.RUN.TURN.plan} for the planner and {@code
 * cfn-swarm.RUN.TURN.work} for the member. With agents that record their model calls under such
 * keys in a durable call log ({@code LlmAgent.Builder.callLog(CallLog.durable(...))}), running the
 * same run key and objective again after a crash replays every recorded answer instead of asking a
 * model: the run's state is a pure function of those answers, so it walks the same turns to where
 * it stopped and goes on. The only model call made again is the one in flight at the crash (the
 * call log's window). The assignment must pick the same members again: capability and sticky do,
 * and so do round-robin and least-loaded when the members are as idle as before.
 */
public final class Supervisor {
  private final AgentRuntime runtime;
  private final Swarm swarm;
  private final AgentId planner;
  private final Map<String, String> members;
  private final Function<String, Assignment> assignment;
  private final Budget budget;
  private final int maxTurns;
  private final Duration turnTimeout;
  private final Consumer<SupervisorStep> listener;

  private Supervisor(Builder b) {
    this.runtime = b.runtime;
    this.swarm = b.swarm;
    this.planner = b.planner;
    this.members = Map.copyOf(b.members);
    this.assignment = b.assignment;
    this.budget = b.budget != null ? b.budget : b.swarm.budget();
    this.maxTurns = b.maxTurns;
    this.turnTimeout = b.turnTimeout;
    this.listener = b.listener;
  }

  /** A supervisor whose {@code planner} gives {@code swarm}'s members work. */
  public static Builder builder(AgentRuntime runtime, Swarm swarm, AgentId planner) {
    return new Builder(
        Objects.requireNonNull(runtime, "runtime"),
        Objects.requireNonNull(swarm, "swarm"),
        Objects.requireNonNull(planner, "planner"));
  }

  /** Works on {@code objective} until the planner finishes or the turns or budget run out. */
  public SupervisorOutcome run(String objective) {
    return run(null, objective);
  }

  /**
   * Works on {@code objective} as run {@code runKey} (null: none), whose calls carry idempotency
   * keys made of it, so that running it again after a crash replays the recorded answers (see the
   * class comment).
   *
   * @throws IllegalArgumentException for a blank objective or a run key that is not 1 to 100
   *     letters, digits, '_' or '-'
   */
  public SupervisorOutcome run(String runKey, String objective) {
    if (runKey != null && !runKey.matches("[A-Za-z0-9_-]{1,100}")) {
      throw new IllegalArgumentException(
          "run key '"
              + runKey
              + "' is not 1 to 100 letters, digits, '_' or '-' (fix: e.g. 'swarm-1')");
    }
    if (objective == null || objective.isBlank()) {
      throw new IllegalArgumentException("the objective is blank (fix: say what should be done)");
    }
    List<SupervisorStep> steps = new ArrayList<>();
    String feedback = null;
    for (int turn = 1; turn <= maxTurns; turn++) {
      String prompt =
          PlannerPrompt.render(objective, sortedMembers(), steps, feedback, turn, maxTurns);
      Object answer;
      try {
        budget.check();
        Envelope.Builder ask = Envelope.to(planner).payload(new Task(prompt));
        if (runKey != null) {
          ask.idempotencyKey(key(runKey, turn, "plan"));
        }
        answer = runtime.request(ask, turnTimeout).join().payload();
      } catch (BudgetExhaustedException e) {
        return new SupervisorOutcome(
            SupervisorOutcome.Status.BUDGET_EXHAUSTED, null, steps, e.getMessage());
      } catch (CompletionException e) {
        return new SupervisorOutcome(
            SupervisorOutcome.Status.FAILED,
            null,
            steps,
            "the planner " + planner + " did not answer: " + cause(e));
      }
      String text;
      switch (answer) {
        case TaskResult r -> text = r.text();
        case String s -> text = s;
        case TaskFailed f -> {
          return new SupervisorOutcome(
              f.kind() == TaskFailed.Kind.BUDGET_EXHAUSTED
                  ? SupervisorOutcome.Status.BUDGET_EXHAUSTED
                  : SupervisorOutcome.Status.FAILED,
              null,
              steps,
              "the planner " + planner + " failed (" + f.kind() + "): " + f.reason());
        }
        default -> {
          return new SupervisorOutcome(
              SupervisorOutcome.Status.FAILED,
              null,
              steps,
              "the planner " + planner + " answered a " + answer.getClass().getName());
        }
      }
      Plan plan = Plan.read(text, sortedMembers().keySet());
      switch (plan) {
        case Plan.Invalid bad -> {
          feedback = bad.reason();
          record(
              steps,
              new SupervisorStep(
                  turn, SupervisorStep.Kind.INVALID_PLAN, null, null, text, bad.reason(), false));
        }
        case Plan.Finish done -> {
          record(
              steps,
              new SupervisorStep(
                  turn, SupervisorStep.Kind.FINISHED, null, null, done.answer(), null, true));
          return new SupervisorOutcome(
              SupervisorOutcome.Status.FINISHED, done.answer(), steps, null);
        }
        case Plan.Next next -> {
          feedback = null;
          SupervisorStep step =
              delegate(turn, next, runKey == null ? null : key(runKey, turn, "work"));
          record(steps, step);
          if (!step.ok() && step.output().startsWith(TaskFailed.Kind.BUDGET_EXHAUSTED.name())) {
            return new SupervisorOutcome(
                SupervisorOutcome.Status.BUDGET_EXHAUSTED, null, steps, step.output());
          }
        }
      }
    }
    return new SupervisorOutcome(
        SupervisorOutcome.Status.TURNS_EXHAUSTED,
        null,
        steps,
        "no final answer after "
            + maxTurns
            + " turns (fix: allow more turns, or make the objective smaller)");
  }

  /** Gives the member the plan names its input; a failure is a step that did not go well. */
  /** The idempotency key of one call of run {@code runKey}. */
  static String key(String runKey, int turn, String what) {
    return "cfn-swarm." + runKey + "." + turn + "." + what;
  }

  private SupervisorStep delegate(int turn, Plan.Next next, String idempotencyKey) {
    String agent = null;
    String output;
    boolean ok = false;
    try {
      Envelope reply =
          swarm
              .submit(
                  new Task(next.input()),
                  assignment.apply(next.next()),
                  turnTimeout,
                  idempotencyKey)
              .join();
      agent = reply.sender() == null ? null : reply.sender().toString();
      switch (reply.payload()) {
        case TaskResult r -> {
          output = r.text();
          ok = true;
        }
        case String s -> {
          output = s;
          ok = true;
        }
        case TaskFailed f -> output = f.kind() + ": " + f.reason();
        default -> output = "it answered a " + reply.payload().getClass().getName();
      }
    } catch (BudgetExhaustedException e) {
      output = TaskFailed.Kind.BUDGET_EXHAUSTED + ": " + e.getMessage();
    } catch (CompletionException e) {
      output = "no answer: " + cause(e);
    } catch (IllegalArgumentException | IllegalStateException e) {
      output = "not given: " + e.getMessage();
    }
    return new SupervisorStep(
        turn, SupervisorStep.Kind.DELEGATED, next.next(), agent, next.input(), output, ok);
  }

  private void record(List<SupervisorStep> steps, SupervisorStep step) {
    steps.add(step);
    listener.accept(step);
  }

  private Map<String, String> sortedMembers() {
    return new java.util.TreeMap<>(members);
  }

  private static String cause(CompletionException e) {
    Throwable c = e.getCause() != null ? e.getCause() : e;
    return c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName();
  }

  /** Builds a {@link Supervisor}. */
  public static final class Builder {
    private final AgentRuntime runtime;
    private final Swarm swarm;
    private final AgentId planner;
    private final Map<String, String> members = new LinkedHashMap<>();
    private Function<String, Assignment> assignment = Assignment::capability;
    private Budget budget;
    private int maxTurns = 10;
    private Duration turnTimeout = Duration.ofMinutes(5);
    private Consumer<SupervisorStep> listener = s -> {};

    private Builder(AgentRuntime runtime, Swarm swarm, AgentId planner) {
      this.runtime = runtime;
      this.swarm = swarm;
      this.planner = planner;
    }

    /**
     * A member the planner may name: {@code name} is what a plan's {@code next} says, {@code
     * description} what the planner is told it does.
     */
    public Builder member(String name, String description) {
      if (name == null || name.isBlank() || name.contains("\n")) {
        throw new IllegalArgumentException("a member's name is one non-blank line, was " + name);
      }
      members.put(name, description == null ? "" : description.replace('\n', ' ').strip());
      return this;
    }

    /**
     * How a plan's member name becomes a swarm assignment (default {@link Assignment#capability}:
     * the least-loaded member offering it). {@code Assignment.sticky(name)} keeps one agent per
     * name; a strategy that ignores the name (round-robin, least-loaded) spreads the work.
     */
    public Builder assignment(Function<String, Assignment> assignment) {
      this.assignment = Objects.requireNonNull(assignment, "assignment");
      return this;
    }

    /** The budget checked before every call (default: the swarm's). */
    public Builder budget(Budget budget) {
      this.budget = Objects.requireNonNull(budget, "budget");
      return this;
    }

    /** At most this many planner answers, valid or not (default 10, 1 to 1000). */
    public Builder maxTurns(int maxTurns) {
      if (maxTurns < 1 || maxTurns > 1000) {
        throw new IllegalArgumentException("maxTurns must be 1 to 1000, was " + maxTurns);
      }
      this.maxTurns = maxTurns;
      return this;
    }

    /** How long the planner, and then a member, may take per turn (default 5 minutes). */
    public Builder turnTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("the turn timeout must be positive, was " + timeout);
      }
      this.turnTimeout = timeout;
      return this;
    }

    /** Told every step as it happens (on the caller's thread of {@link #run}). */
    public Builder listener(Consumer<SupervisorStep> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the supervisor.
     *
     * @throws IllegalStateException when no member was named
     */
    public Supervisor build() {
      if (members.isEmpty()) {
        throw new IllegalStateException(
            "a supervisor needs at least one member to plan for (fix: .member(name, description))");
      }
      return new Supervisor(this);
    }
  }
}
