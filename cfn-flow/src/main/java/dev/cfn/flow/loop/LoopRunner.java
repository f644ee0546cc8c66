package dev.cfn.flow.loop;

import dev.cfn.ai.model.Usage;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.loop.Messages.Decide;
import dev.cfn.flow.loop.Messages.Indexed;
import dev.cfn.flow.loop.Messages.ResumeLoop;
import dev.cfn.flow.loop.Messages.StartLoop;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * Runs the CFN Loop as a deterministic, resumable state machine on a RELIABLE {@link AgentRuntime}.
 *
 * <p>A run is the agent {@code cfn-loop/RUN} ({@link #coordinator}); its state is a {@link
 * LoopRecord} in its journal namespace, every step recorded (who, the answer, the confidence, the
 * consensus, the decision, tokens, cost, time). What to do next is a pure function of the recorded
 * steps ({@code LoopMachine}): Loop 3's gate, Loop 2's {@link Consensus}, Loop 4's owner and, when
 * the owner escalates, a person ({@link #decide}). Each agent call is a RELIABLE message to an
 * agent of its own that asks the loop's agent with a fixed idempotency key, so an {@code LlmAgent}
 * with a durable call log replays its recorded model calls when a call is redelivered after a
 * crash.
 *
 * <ul>
 *   <li><b>Crash and restart.</b> Open a new runtime on the same journal (and call log), build a
 *       runner with the same agents: the journal redelivers what was under way and the run goes on
 *       where it stopped. {@link #resume} returns the run's next settled state.
 *   <li><b>Waiting for a person</b> costs no thread: the record says {@link LoopStatus#WAITING} and
 *       nothing runs until {@link #decide} sends a decision, in this process or a later one.
 *   <li><b>Replay.</b> {@link #replay} runs a finished run again with the original's call-log keys;
 *       on a runtime whose agents cannot reach a model, every answer comes from the call log, and
 *       the rules reach the same decisions (compare {@link LoopRecord#decisions()}).
 *   <li><b>Fork.</b> {@link #fork} starts a new run from iteration {@code N} of a recorded one: the
 *       steps before {@code N} are copied, not asked again; from {@code N} on the new run asks its
 *       agents (which may have a changed prompt or model) and may have a changed task.
 * </ul>
 *
 * <pre>{@code
 * LoopRunner loops = LoopRunner.builder(runtime).build();   // runtime with a journal
 * LoopSpec spec = LoopSpec.of(List.of("coder"), List.of("reviewer", "tester"), "product-owner");
 * LoopRecord done = loops.start("loop-1", spec, "Write isPrime(int)").join();
 * }</pre>
 */
public final class LoopRunner {
  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");

  /** The index of runs, {@code cfn-loop-index/runs}: key RUN, value its status. */
  public static final AgentId INDEX = AgentId.of("cfn-loop-index", "runs");

  private final AgentRuntime runtime;
  private final Journal journal;
  private final BiFunction<String, Usage, BigDecimal> pricing;
  private final Clock clock;
  private final ConcurrentHashMap<String, CompletableFuture<LoopRecord>> waiting =
      new ConcurrentHashMap<>();

  private LoopRunner(Builder b) {
    this.runtime = b.runtime;
    this.journal = b.journal;
    this.pricing = b.pricing;
    this.clock = b.clock;
    register(AgentType.of(LoopCoordinator.TYPE, id -> new LoopCoordinator(this, id)));
    register(AgentType.builder(LoopCall.TYPE, id -> new LoopCall(this)).blocking().build());
    register(AgentType.of(INDEX.type(), id -> index()));
  }

  private void register(AgentType type) {
    if (!runtime.isRegistered(type.name())) {
      runtime.register(type);
    }
  }

  /** A builder for a runner on {@code runtime}, which needs a journal. */
  public static Builder builder(AgentRuntime runtime) {
    return new Builder(Objects.requireNonNull(runtime, "runtime"));
  }

  /**
   * The payload classes the loop sends through the journal; register them with it, e.g. {@code
   * SqliteJournal.builder(file).payloadType(LoopRunner.journalPayloadTypes().toArray(new
   * Class<?>[0]))}.
   */
  public static List<Class<?>> journalPayloadTypes() {
    return Messages.RELIABLE_TYPES;
  }

  /**
   * The key of the agent a call of a run asks, {@code AGENT/KEY}: the call of {@code phase}, by the
   * agent at {@code index}, in {@code iteration} of the run whose call-log keys are {@code keyRun}
   * ({@link LoopRecord#keyRun()}). What a canary rollout routes by: the version that answered an
   * implementer's call is {@code rollout.route(callKey(...))}.
   */
  public static String callKey(String keyRun, int iteration, LoopStep.Phase phase, int index) {
    return LoopCall.callKey(keyRun, iteration, phase, index);
  }

  /** The coordinator of run {@code runId}, whose state holds the run's {@link LoopRecord}. */
  public static AgentId coordinator(String runId) {
    checkRunId(runId);
    return AgentId.of(LoopCoordinator.TYPE, runId);
  }

  /**
   * Starts run {@code runId}: durable when this returns. The future completes when the run settles:
   * it finished, or it waits for a person. Starting a run id that exists changes nothing (the
   * future then reports that run).
   *
   * @throws IllegalArgumentException for a bad run id, a blank task, or an agent type the runtime
   *     does not know (nothing is started)
   */
  public CompletableFuture<LoopRecord> start(String runId, LoopSpec spec, String task) {
    checkRunId(runId);
    Objects.requireNonNull(spec, "spec");
    checkTask(task);
    checkAgents(spec);
    return send(
        runId,
        new StartLoop(
            new LoopRecord(
                    runId,
                    spec,
                    task,
                    runId,
                    null,
                    0,
                    LoopStatus.RUNNING,
                    null,
                    List.of(),
                    List.of(),
                    List.of(),
                    List.of(),
                    clock.millis())
                .toJson()));
  }

  /**
   * Forks a new run {@code newRunId} from {@code source} at iteration {@code from}: the steps of
   * iterations before {@code from} are copied (their model calls are not made again) and the new
   * run goes on from {@code from} with {@code task} (null: the source's) and {@code spec} (null:
   * the source's; the agents should be the same roles, possibly with changed prompts or models).
   *
   * @throws IllegalArgumentException when {@code from} is not an iteration of the source, or the
   *     new run id is the source's
   */
  public CompletableFuture<LoopRecord> fork(
      LoopRecord source, String newRunId, int from, String task, LoopSpec spec) {
    checkRunId(newRunId);
    if (newRunId.equals(source.runId())) {
      throw new IllegalArgumentException(
          "a fork needs a new run id, not the source's '"
              + newRunId
              + "' (fix: e.g. "
              + source.runId()
              + "-fork)");
    }
    if (from < 1 || from > source.iterations()) {
      throw new IllegalArgumentException(
          "run "
              + source.runId()
              + " has iterations 1 to "
              + source.iterations()
              + ", not "
              + from
              + " (fix: --from one of them; cfn loop show "
              + source.runId()
              + " lists them)");
    }
    LoopSpec s = spec != null ? spec : source.spec();
    String t = task != null ? task : source.task();
    checkTask(t);
    checkAgents(s);
    List<LoopStep> prefix = new ArrayList<>();
    for (LoopStep step : source.steps()) {
      if (step.iteration() < from) {
        prefix.add(step.asCopied());
      }
    }
    return send(
        newRunId,
        new StartLoop(
            new LoopRecord(
                    newRunId,
                    s,
                    t,
                    newRunId,
                    source.runId(),
                    from,
                    LoopStatus.RUNNING,
                    null,
                    List.of(),
                    prefix,
                    List.of(),
                    List.of(),
                    clock.millis())
                .toJson()));
  }

  /**
   * Runs {@code recorded} (a finished run) again under its own id on this runtime, asking its
   * agents with the original call-log keys and applying its recorded human decisions; copied steps
   * of a fork are copied again. Meant for a fresh runtime (an in-memory journal) whose agents share
   * the original call log and cannot reach a model: every answer then comes from the log.
   *
   * @throws IllegalArgumentException when the run has not finished
   */
  public CompletableFuture<LoopRecord> replay(LoopRecord recorded) {
    if (!recorded.status().isFinal()) {
      throw new IllegalArgumentException(
          "run "
              + recorded.runId()
              + " is "
              + recorded.status()
              + "; only a finished run can be replayed (fix: finish it first"
              + (recorded.status() == LoopStatus.WAITING ? ", with cfn loop decide" : "")
              + ")");
    }
    checkAgents(recorded.spec());
    List<LoopStep> copied = recorded.steps().stream().filter(LoopStep::copied).toList();
    List<LoopStep> human =
        recorded.steps().stream().filter(s -> s.phase() == LoopStep.Phase.HUMAN).toList();
    return send(
        recorded.runId(),
        new StartLoop(
            new LoopRecord(
                    recorded.runId(),
                    recorded.spec(),
                    recorded.task(),
                    recorded.keyRun(),
                    recorded.forkedFrom(),
                    recorded.forkedAt(),
                    LoopStatus.RUNNING,
                    null,
                    List.of(),
                    copied,
                    human,
                    List.of(),
                    clock.millis())
                .toJson()));
  }

  /** After a restart: the run's next settled state (at once when it has settled already). */
  public CompletableFuture<LoopRecord> resume(String runId) {
    checkRunId(runId);
    return send(runId, new ResumeLoop(clock.millis()));
  }

  /**
   * A person's decision on a run that waits for one (the owner escalated): PROCEED, DEFER or ABORT.
   * The future completes when the run has ended. A run that does not wait ignores it (the future
   * reports its state).
   */
  public CompletableFuture<LoopRecord> decide(String runId, HumanDecision decision, String note) {
    checkRunId(runId);
    Objects.requireNonNull(decision, "decision");
    return send(
        runId, new Decide(decision.name(), note == null ? "" : note.strip(), clock.millis()));
  }

  /**
   * The stored record of run {@code runId}, read from the journal given to the builder.
   *
   * @throws IllegalStateException when the builder was given no journal
   */
  public Optional<LoopRecord> record(String runId) {
    if (journal == null) {
      throw new IllegalStateException(
          "this LoopRunner reads no journal (fix: LoopRunner.builder(rt).journal(journal))");
    }
    return journal.state(coordinator(runId), LoopRecord.STATE_KEY).map(LoopRecord::fromJson);
  }

  /** A person's decision on an escalated run. */
  public enum HumanDecision {
    /** Accept the work. */
    PROCEED,
    /** Accept the work and keep the owner's follow-ups. */
    DEFER,
    /** End the run without accepting the work. */
    ABORT
  }

  // ---------------------------------------------------------------- for the run's agents

  Clock clock() {
    return clock;
  }

  BigDecimal cost(String agent, Usage usage) {
    BigDecimal c = pricing.apply(agent, usage);
    return c == null ? BigDecimal.ZERO : c;
  }

  void settled(LoopRecord record) {
    CompletableFuture<LoopRecord> f = waiting.remove(record.runId());
    if (f != null) {
      f.complete(record);
    }
  }

  // ---------------------------------------------------------------- internals

  private CompletableFuture<LoopRecord> send(String runId, Object payload) {
    CompletableFuture<LoopRecord> f = new CompletableFuture<>();
    CompletableFuture<LoopRecord> previous = waiting.put(runId, f);
    if (previous != null) {
      f.whenComplete(
          (r, e) -> {
            if (e == null) {
              previous.complete(r);
            } else {
              previous.completeExceptionally(e);
            }
          });
    }
    runtime.send(Envelope.to(coordinator(runId)).delivery(DeliveryMode.RELIABLE).payload(payload));
    return f;
  }

  /**
   * The index: keeps every run's status, and reports a settled run to whoever waits for it. It
   * hears of a run's change by a RELIABLE message sent in the coordinator's commit, so the record
   * it reports is committed.
   */
  private Agent index() {
    return (m, ctx) -> {
      if (m.payload() instanceof Indexed i) {
        ctx.effects().put(i.runId(), i.status());
        if (i.recordJson() != null) {
          settled(LoopRecord.fromJson(i.recordJson()));
        }
      }
    };
  }

  private void checkAgents(LoopSpec spec) {
    List<String> all = new ArrayList<>(spec.implementers());
    all.addAll(spec.validators());
    all.add(spec.owner());
    List<String> unknown = all.stream().distinct().filter(t -> !runtime.isRegistered(t)).toList();
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "the loop names agent types the runtime does not know: "
              + unknown
              + " (fix: register them, e.g. LlmAgent.builder(definition).type(name), or"
              + " correct the names)");
    }
  }

  private static void checkTask(String task) {
    if (task == null || task.isBlank()) {
      throw new IllegalArgumentException("a CFN Loop needs a task (fix: say what to build)");
    }
  }

  static void checkRunId(String runId) {
    if (runId == null || !RUN_ID.matcher(runId).matches()) {
      throw new IllegalArgumentException(
          "run id '"
              + runId
              + "' is not 1 to 100 letters, digits, '_' or '-' (fix: use e.g. 'loop-42')");
    }
  }

  /** Builds a {@link LoopRunner}. */
  public static final class Builder {
    private final AgentRuntime runtime;
    private Journal journal;
    private BiFunction<String, Usage, BigDecimal> pricing = (agent, usage) -> BigDecimal.ZERO;
    private Clock clock = Clock.systemUTC();

    private Builder(AgentRuntime runtime) {
      this.runtime = runtime;
    }

    /** The runtime's journal, so that {@link #record} can read runs (optional). */
    public Builder journal(Journal journal) {
      this.journal = Objects.requireNonNull(journal, "journal");
      return this;
    }

    /**
     * What a call costs: from the agent type and the call's usage to US dollars (default: 0), e.g.
     * by {@code PriceTable.defaults().cost(usage, modelOf(agent))}.
     */
    public Builder pricing(BiFunction<String, Usage, BigDecimal> pricing) {
      this.pricing = Objects.requireNonNull(pricing, "pricing");
      return this;
    }

    /** The clock steps are timed with (default: the system's). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The runner; registers the agent types {@code cfn-loop}, {@code cfn-loop-call} and {@code
     * cfn-loop-index} with the runtime (once per runtime).
     *
     * @throws IllegalStateException when the runtime has no journal
     */
    public LoopRunner build() {
      if (!runtime.settings().journaled()) {
        throw new IllegalStateException(
            "a LoopRunner needs a runtime with a journal (fix: AgentRuntime.builder().journal(...);"
                + " an InMemoryJournal works for runs that need not survive the process)");
      }
      return new LoopRunner(this);
    }
  }
}
