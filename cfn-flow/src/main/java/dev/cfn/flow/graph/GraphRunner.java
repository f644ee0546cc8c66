package dev.cfn.flow.graph;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.flow.graph.Messages.CancelRun;
import dev.cfn.flow.graph.Messages.CancelTask;
import dev.cfn.flow.graph.Messages.ResumeRun;
import dev.cfn.flow.graph.Messages.StartRun;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Swarm;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link TaskGraph}s on an {@link AgentRuntime}: every task is a message to an agent over the
 * runtime's bus, and every run is coordinated by an agent of its own ({@code cfn-flow-run/RUN}).
 *
 * <ul>
 *   <li><b>BEST_EFFORT</b> (the default): runs live in memory; each attempt is a request whose
 *       reply is the task's result. Fast; lost if the process dies.
 *   <li><b>RELIABLE</b> ({@link Builder#reliable()}, the runtime needs a journal): every step
 *       travels as a RELIABLE message and the run's progress (task statuses, results, the state) is
 *       kept in the coordinator's journal effects. A run interrupted by a crash continues when a
 *       new runtime opens the journal; no task is sent twice and no result is recorded twice. A
 *       runner built on a restarted runtime resumes every unfinished run by itself (it keeps them
 *       listed in the journal and sets their timers, attempt timeouts, retry backoffs and the
 *       deadline, again); {@link #resume(String)} or {@link #run(String)} gives a run's handle.
 *       Register {@link #journalPayloadTypes()} with the journal.
 * </ul>
 *
 * <p>A task's agent answers the task's message, a request in both modes, with a {@code String} (the
 * result) or a {@code TaskFailed} (a failed attempt) through {@code ctx.reply}; the reply to a
 * RELIABLE request is committed exactly once with the agent's own effects. {@link TaskWorker#agent}
 * does this; an {@code LlmAgent} works as it is. (An agent that sends its answer to the sender
 * instead is matched to the one task under way at it, if there is one.)
 *
 * <pre>{@code
 * GraphRunner runner = GraphRunner.builder(runtime).graph(graph).build();
 * RunOutcome done = runner.start("research", "run-1", Map.of("topic", "actors")).outcome().join();
 * }</pre>
 *
 * <p><b>Through a swarm</b> ({@link Builder#swarm(Swarm, Function)}): a task that names a {@link
 * TaskSpec#capability capability} instead of an agent is sent to a member of the swarm offering it,
 * picked by the runner's strategy ({@link Assignment#capability(String, Assignment)}) when each
 * attempt is sent. The members' agents take {@link Swarm#memberBudget} as their budget, so every
 * model call is charged to the swarm's one budget. Before an attempt is sent the swarm's budget is
 * checked: once it is used up the task fails at once, without retries, with an error starting
 * {@value #BUDGET_EXHAUSTED} (as it does when the member answers a {@code TaskFailed} of kind
 * {@code BUDGET_EXHAUSTED}), recorded with the task in a RELIABLE run ({@link
 * TaskOutcome#budgetExhausted}). With a durable swarm ({@link Swarm.Builder#durable}) on the
 * runner's journal, a restart restores the swarm's spend from its ledger and the runner resumes the
 * run: an attempt already sent stays with its member (the request is in the journal), a model call
 * recorded in a call log is not made or charged again.
 *
 * <p>The member picked for a task's iteration is kept with it: RELIABLE, in the task's row, in the
 * same commit as the request that sends the attempt (so after a restart the attempt under way is
 * known to be at that member). The iteration's retries (after a failure or a timeout, in this
 * process or after a restart) go to the same member while it is a live member offering the
 * capability, so they find what it recorded (a call log, its state); only when it left or stopped
 * is another picked, and kept instead. A loop's next iteration is picked afresh. Each attempt under
 * way counts as a task in flight at its member ({@link Swarm#countInFlight}) from its send until
 * its answer, failure, timeout or cancellation, so least-loaded picks see a graph's attempts beside
 * the member's queued messages and {@link Swarm#submit}'s tasks; a restarted run counts its
 * attempts under way again when it is loaded.
 */
public final class GraphRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GraphRunner.class);

  /**
   * The most messages the coordinator of a RELIABLE run handles in one turn and one commit unless
   * {@link Builder#coordinatorBatch} says otherwise: {@value}, the runtime's most.
   */
  public static final int DEFAULT_COORDINATOR_BATCH = AgentType.Builder.MAX_RELIABLE_BATCH;

  /**
   * How the error of a task that failed for want of budget begins: the name of {@code
   * TaskFailed.Kind.BUDGET_EXHAUSTED}, followed by {@code ": "} and the reason.
   */
  public static final String BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED";

  private final AgentRuntime runtime;
  private final boolean reliable;
  private final ConcurrentHashMap<String, TaskGraph> graphs; // added to, never replaced
  private final Clock clock;
  private final ConcurrentHashMap<String, CompletableFuture<RunOutcome>> outcomes =
      new ConcurrentHashMap<>();
  // RELIABLE: outcomes of runs whose last turn has not committed yet, by run id (see finishing)
  private final ConcurrentHashMap<String, RunOutcome> committing = new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor timer;
  private final Swarm swarm; // null: no task goes to a swarm
  private final Function<String, Assignment> strategy;

  private GraphRunner(Builder b) {
    this.runtime = b.runtime;
    this.reliable = b.reliable;
    this.swarm = b.swarm;
    this.strategy = b.strategy;
    this.graphs = new ConcurrentHashMap<>(b.graphs);
    this.clock = b.clock;
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "cfn-flow-timer");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
    AgentType.Builder coordinators =
        AgentType.builder(RunCoordinator.TYPE, id -> new RunCoordinator(this, id))
            .mailboxCapacity(1 << 16);
    if (reliable) {
      // Every message changes the run, so one commit per message would cap a run at the journal's
      // commit rate (each one an fsync, one after another); see RunCoordinator.
      coordinators.reliableBatch(b.coordinatorBatch);
    }
    runtime.register(coordinators.build());
    if (reliable) {
      runtime.register(AgentType.of(TaskAttempts.TYPE, id -> new TaskAttempts(this)));
      runtime.register(AgentType.of(RunIndex.TYPE, id -> new RunIndex(this)));
      send(RunIndex.ID, new RunIndex.ResumeAll(clock.millis())); // auto-resume after a restart
    }
  }

  /**
   * A builder for a runner on {@code runtime}. The runner registers the agent types {@code
   * cfn-flow-run} (and, when RELIABLE, {@code cfn-flow-runs} and {@code cfn-flow-task}, which
   * finishes runs started by an earlier version) with it.
   */
  public static Builder builder(AgentRuntime runtime) {
    return new Builder(Objects.requireNonNull(runtime, "runtime"));
  }

  /**
   * The payload classes a RELIABLE runner sends through the journal; register them with it, e.g.
   * {@code SqliteJournal.builder(file).payloadType(GraphRunner.journalPayloadTypes().toArray(new
   * Class<?>[0]))}.
   */
  public static List<Class<?>> journalPayloadTypes() {
    List<Class<?>> all = new ArrayList<>(Messages.RELIABLE_TYPES);
    all.addAll(RunIndex.RELIABLE_TYPES);
    return List.copyOf(all);
  }

  /** True when runs are RELIABLE. */
  public boolean reliable() {
    return reliable;
  }

  /** The names of the graphs this runner runs. */
  public List<String> graphNames() {
    return List.copyOf(graphs.keySet());
  }

  /**
   * Adds {@code graph} to a runner already built (a server takes graphs while it runs); checked
   * against the runtime as {@link Builder#build()} checks. A graph of the same name that is there
   * already stays: false then. A RELIABLE run of a graph added here after a restart is not resumed
   * by the runner by itself (it did not have the graph when it was built): call {@link
   * #resume(String)} for it once the graph is added.
   *
   * @throws GraphValidationException for an agent type the runtime does not know
   */
  public boolean add(TaskGraph graph) {
    Objects.requireNonNull(graph, "graph");
    validateAgents(runtime, graph, swarm);
    return graphs.putIfAbsent(graph.name(), graph) == null;
  }

  /**
   * Starts run {@code runId} of graph {@code graph} with {@code state} as its initial state. The
   * graph is checked again against the runtime first (an agent type unregistered since the runner
   * was built is refused here, before anything runs). RELIABLE: the run is durable when this
   * returns; starting a run id that already exists changes nothing (the handle is the old run's).
   *
   * @throws IllegalArgumentException for an unknown graph, a bad run id or state key
   * @throws GraphValidationException for an agent type the runtime does not know
   */
  public GraphRun start(String graph, String runId, Map<String, String> state) {
    TaskGraph g = graphs.get(Objects.requireNonNull(graph, "graph"));
    if (g == null) {
      throw new IllegalArgumentException(
          "no graph '"
              + graph
              + "' in this runner (fix: add it with GraphRunner.builder(rt).graph(...); it has "
              + graphs.keySet()
              + ")");
    }
    checkRunId(runId);
    Map<String, String> initial = new LinkedHashMap<>();
    state.forEach(
        (k, v) -> {
          StateKeys.check(k);
          initial.put(k, Objects.requireNonNull(v, "value of state key " + k));
        });
    validateAgents(runtime, g, swarm);
    long deadlineAt = g.deadline() == null ? 0 : clock.millis() + g.deadline().toMillis();
    GraphRun handle = handle(runId);
    if (reliable) {
      send(RunIndex.ID, new RunIndex.Track(runId, g.name()));
    }
    send(coordinator(runId), new StartRun(g.name(), initial, deadlineAt));
    return handle;
  }

  /**
   * The handle of run {@code runId} after a restart (RELIABLE runs): sets the run's timers again
   * and, when the run finished before the restart, completes its outcome from the journal.
   */
  public GraphRun resume(String runId) {
    checkRunId(runId);
    GraphRun handle = handle(runId);
    send(coordinator(runId), new ResumeRun(clock.millis()));
    return handle;
  }

  /** The handle of run {@code runId}, started or resumed by this runner. */
  public GraphRun run(String runId) {
    checkRunId(runId);
    return handle(runId);
  }

  /**
   * Drops this runner's record of run {@code runId} once it has finished (handles already taken
   * keep its outcome); for a caller that starts many runs and keeps their outcomes itself. A run
   * still going is not affected.
   */
  public void forget(String runId) {
    CompletableFuture<RunOutcome> f = outcomes.get(runId);
    if (f != null && f.isDone()) {
      outcomes.remove(runId, f);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  // ---------------------------------------------------------------- for the run's agents

  Map<String, TaskGraph> graphs() {
    return graphs;
  }

  Clock clock() {
    return clock;
  }

  /** The swarm the tasks naming a capability go to, or null. */
  Swarm swarm() {
    return swarm;
  }

  /**
   * The member of the swarm that does {@code node}'s next attempt: {@code before}, the member of
   * the iteration's earlier attempts (null: none), while it is a live member offering the task's
   * capability; otherwise picked now by the strategy.
   *
   * @throws dev.cfn.ai.budget.BudgetExhaustedException when the swarm's budget is used up
   * @throws IllegalStateException when the swarm has no live member
   * @throws IllegalArgumentException when no live member offers the capability
   */
  AgentId assign(Node node, AgentId before) {
    swarm.budget().check();
    if (before != null && swarm.offers(before, node.capability())) {
      return before;
    }
    return swarm.assign(strategy.apply(node.capability()));
  }

  /** True when someone subscribes to events on topics of type {@code topicType} now. */
  boolean listened(String topicType) {
    return runtime.hasSubscribers(topicType);
  }

  /**
   * A run whose end is committed already (a start or resume of a finished run: its coordinator's
   * turn began from committed state): completes its outcome now, and untracks it (a crash may have
   * left it listed).
   */
  void finished(RunOutcome outcome) {
    if (reliable) {
      send(RunIndex.ID, new RunIndex.Untrack(outcome.runId()));
    }
    complete(outcome);
  }

  /**
   * RELIABLE: the coordinator's turn now under way ends the run, and its {@link RunIndex.Untrack}
   * is in that turn's outbox: the outcome is held until the turn commits ({@link #committed}), so
   * that nobody sees a run end that is not durable. A commit that fails sends nothing; the turn is
   * handled again and finishes again, replacing what is held here.
   */
  void finishing(RunOutcome outcome) {
    committing.put(outcome.runId(), outcome);
  }

  /** RELIABLE: the turn that ended run {@code runId} committed (its Untrack arrived). */
  void committed(String runId) {
    RunOutcome o = committing.remove(runId);
    if (o != null) {
      complete(o);
    }
  }

  private void complete(RunOutcome outcome) {
    outcomes.computeIfAbsent(outcome.runId(), k -> new CompletableFuture<>()).complete(outcome);
  }

  /** Runs {@code action} after {@code delay} on the runner's timer; null once the runner closed. */
  java.util.concurrent.Future<?> later(Duration delay, Runnable action) {
    if (timer.isShutdown()) {
      return null;
    }
    try {
      return timer.schedule(
          () -> {
            try {
              action.run();
            } catch (RuntimeException e) {
              log.warn("cfn-flow timer: {}", e.toString());
            }
          },
          Math.max(0, delay.toMillis()),
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      return null;
    }
  }

  /** Sends a run's agent a message of its own (a timer's), in the runner's delivery mode. */
  void sendToSelf(AgentId agent, Object payload) {
    send(agent, payload);
  }

  void cancel(String runId, String task, String reason) {
    send(coordinator(runId), task == null ? new CancelRun(reason) : new CancelTask(task, reason));
  }

  CompletableFuture<RunOutcome> outcome(String runId) {
    return outcomes.computeIfAbsent(runId, k -> new CompletableFuture<>());
  }

  // ---------------------------------------------------------------- internals

  private GraphRun handle(String runId) {
    return new GraphRun(this, runId, outcome(runId));
  }

  private void send(AgentId to, Object payload) {
    runtime.send(
        Envelope.to(to)
            .delivery(reliable ? DeliveryMode.RELIABLE : DeliveryMode.BEST_EFFORT)
            .payload(payload));
  }

  private static AgentId coordinator(String runId) {
    return AgentId.of(RunCoordinator.TYPE, runId);
  }

  private static void checkRunId(String runId) {
    if (!wellFormedRunId(runId)) {
      throw new IllegalArgumentException(
          "run id '"
              + runId
              + "' is not 1 to 100 letters, digits, '_' or '-' (fix: use e.g. 'run-42')");
    }
  }

  /** 1 to 100 letters, digits, '_' or '-' (checked on every start, so without a regex). */
  private static boolean wellFormedRunId(String runId) {
    if (runId == null || runId.isEmpty() || runId.length() > 100) {
      return false;
    }
    for (int i = 0; i < runId.length(); i++) {
      char c = runId.charAt(i);
      if (!((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '_'
          || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private static void validateAgents(AgentRuntime runtime, TaskGraph g, Swarm swarm) {
    List<String> problems = null; // checked on every start: allocate only for a problem
    for (Node n : g.nodes()) {
      if (n.capability() != null) {
        if (swarm == null) {
          if (problems == null) {
            problems = new ArrayList<>();
          }
          problems.add(
              "graph '"
                  + g.name()
                  + "': task '"
                  + n.id()
                  + "' names capability '"
                  + n.capability()
                  + "', which only a swarm's member can do, and the runner has no swarm (fix:"
                  + " GraphRunner.builder(rt).swarm(swarm), or give the task an agent)");
        }
        continue;
      }
      String type = n.agent() != null ? n.agent().type() : n.agentType();
      if (!runtime.isRegistered(type)) {
        if (problems == null) {
          problems = new ArrayList<>();
        }
        problems.add(
            "graph '"
                + g.name()
                + "': task '"
                + n.id()
                + "' is sent to agent type '"
                + type
                + "', which the runtime does not know (fix: runtime.register(AgentType.of(\""
                + type
                + "\", ...)) before the runner starts the graph, or correct the type)");
      }
    }
    if (problems != null) {
      throw new GraphValidationException(String.join("\n", problems));
    }
  }

  /** Builds a {@link GraphRunner}. */
  public static final class Builder {
    private final AgentRuntime runtime;
    private final Map<String, TaskGraph> graphs = new LinkedHashMap<>();
    private boolean reliable;
    private Clock clock = Clock.systemUTC();
    private int coordinatorBatch = RunCoordinator.BATCH;
    private Swarm swarm;
    private Function<String, Assignment> strategy;

    private Builder(AgentRuntime runtime) {
      this.runtime = runtime;
    }

    /**
     * Sends the tasks that name a capability to the members of {@code swarm} offering it, the
     * least-loaded of them ({@link Assignment#capability(String)}); see the class comment.
     */
    public Builder swarm(Swarm swarm) {
      return swarm(swarm, Assignment::capability);
    }

    /**
     * Sends the tasks that name a capability to members of {@code swarm}, each attempt to the
     * member {@code strategy} picks for the task's capability, e.g. {@code c ->
     * Assignment.capability(c, Assignment.roundRobin())}; see the class comment. The swarm must be
     * on this runner's runtime; a RELIABLE runner should have a durable swarm on its journal, or
     * the swarm's spend starts from nothing after a restart.
     */
    public Builder swarm(Swarm swarm, Function<String, Assignment> strategy) {
      this.swarm = Objects.requireNonNull(swarm, "swarm");
      this.strategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** Adds a graph this runner can start (and resume). */
    public Builder graph(TaskGraph graph) {
      Objects.requireNonNull(graph, "graph");
      if (graphs.putIfAbsent(graph.name(), graph) != null) {
        throw new IllegalArgumentException(
            "a graph named '" + graph.name() + "' is already added (fix: give each its own name)");
      }
      return this;
    }

    /**
     * Makes runs RELIABLE: durable across crashes through the runtime's journal.
     *
     * @throws IllegalStateException at {@link #build()} when the runtime has no journal
     */
    public Builder reliable() {
      this.reliable = true;
      return this;
    }

    /**
     * The most messages the coordinator of a RELIABLE run handles in one turn and commits in one
     * journal transaction: default {@link #DEFAULT_COORDINATOR_BATCH}; 1 commits every message
     * alone, one fsync after another, which caps a run at the journal's commit rate. See {@link
     * dev.cfn.core.AgentType.Builder#reliableBatch}.
     *
     * @throws IllegalArgumentException outside 1 to {@link
     *     dev.cfn.core.AgentType.Builder#MAX_RELIABLE_BATCH}
     */
    public Builder coordinatorBatch(int max) {
      if (max < 1 || max > AgentType.Builder.MAX_RELIABLE_BATCH) {
        throw new IllegalArgumentException(
            "coordinator batch is "
                + max
                + "; use 1 to "
                + AgentType.Builder.MAX_RELIABLE_BATCH
                + " (default "
                + RunCoordinator.BATCH
                + ")");
      }
      this.coordinatorBatch = max;
      return this;
    }

    /** The clock deadlines are measured with (default: the system's). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Validates every graph against the runtime (its agent types must be registered) and registers
     * the runner's agent types.
     *
     * @throws GraphValidationException naming the task and the fix
     */
    public GraphRunner build() {
      if (reliable && !runtime.settings().journaled()) {
        throw new IllegalStateException(
            "a RELIABLE GraphRunner needs a runtime with a journal (fix:"
                + " AgentRuntime.builder().journal(...), or drop reliable() to run in memory)");
      }
      for (TaskGraph g : graphs.values()) {
        validateAgents(runtime, g, swarm);
      }
      return new GraphRunner(this);
    }
  }
}
