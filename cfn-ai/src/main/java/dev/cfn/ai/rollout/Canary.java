package dev.cfn.ai.rollout;

import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.PriceTable;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentFactory;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The agent type that serves an agent's tasks during a {@link Rollout}: each agent of the type (one
 * per task key) hands every message to an instance of the version the rollout routes its key to,
 * made by that version's factory, and records the task's outcome (a {@link TaskResult} or a {@link
 * TaskFailed} answered, or the handler throwing), its latency (delivery to answer) and its cost.
 *
 * <pre>{@code
 * AgentFactory baseline = LlmAgent.builder(inUse).router(router).factory();
 * AgentFactory canary = LlmAgent.builder(next).router(router).factory();
 * runtime.register(Canary.type("reviewer", rollout, baseline, canary, Canary.cost(prices, model)).build());
 * }</pre>
 *
 * The type is blocking (the versions' handlers call models). An agent keeps the instance of each
 * version it used while it lives, so a key that moves from the baseline to the canary (a rising
 * share) or back (a rollback) switches at its next message.
 *
 * <p>{@link #switching} makes the same type over a rollout that may come and go while the node
 * runs: each message asks for the current {@link Plan}, so a rollout started after the type was
 * registered takes effect at the agents' next message, not at the next start of the node.
 */
public final class Canary {
  private Canary() {}

  /**
   * What a {@linkplain #switching switching} type routes by now: the rollout and the factory of its
   * new version.
   *
   * @param rollout routes and records
   * @param canary makes an agent of the new version
   */
  public record Plan(Rollout rollout, AgentFactory canary) {
    /** Checks the parts. */
    public Plan {
      Objects.requireNonNull(rollout, "rollout");
      Objects.requireNonNull(canary, "canary");
    }
  }

  /**
   * The type named {@code typeName} routing between the two versions.
   *
   * @param typeName the agent type's name (the agent's name, where tasks are sent)
   * @param rollout the rollout that routes and records
   * @param baseline makes an agent of the version in use
   * @param canary makes an agent of the new version
   * @param cost the cost of a finished task (see {@link #cost})
   * @return the type's builder, blocking
   */
  public static AgentType.Builder type(
      String typeName,
      Rollout rollout,
      AgentFactory baseline,
      AgentFactory canary,
      ToDoubleFunction<TaskResult> cost) {
    Plan plan = new Plan(rollout, canary);
    return switching(typeName, baseline, () -> plan, cost);
  }

  /**
   * The type named {@code typeName} serving the version in use while {@code plan} supplies null,
   * and routing between the versions of the plan it supplies otherwise. An agent that served the
   * canary of one plan drops that instance (stopping it) when another plan takes over.
   *
   * @param typeName the agent type's name
   * @param baseline makes an agent of the version in use
   * @param plan the rollout now, or null without one; asked once per message, keep it cheap
   * @param cost the cost of a finished task (see {@link #cost})
   * @return the type's builder, blocking
   */
  public static AgentType.Builder switching(
      String typeName,
      AgentFactory baseline,
      Supplier<Plan> plan,
      ToDoubleFunction<TaskResult> cost) {
    Objects.requireNonNull(baseline, "baseline");
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(cost, "cost");
    return AgentType.builder(typeName, id -> new Routed(id, plan, baseline, cost)).blocking();
  }

  /**
   * The cost of a task by its tokens: US dollars at {@code model}'s price in {@code prices}, or the
   * tokens (input plus output) when the table has no price for it.
   */
  public static ToDoubleFunction<TaskResult> cost(PriceTable prices, String model) {
    return r -> {
      Usage u = r.usage();
      if (prices != null && model != null) {
        var dollars = prices.cost(u, model);
        if (dollars.isPresent()) {
          return dollars.get().doubleValue();
        }
      }
      return u.inputTokens() + u.outputTokens();
    };
  }

  /** One agent of the type: routes each message to the instance of its key's version. */
  private static final class Routed implements Agent {
    private final AgentId id;
    private final Supplier<Plan> plans;
    private final AgentFactory baselineFactory;
    private final ToDoubleFunction<TaskResult> cost;
    private Agent baseline; // made on first use; confined to the agent's thread
    private Agent canary; // of plan
    private Plan plan;
    private AgentContext startedWith;

    Routed(
        AgentId id,
        Supplier<Plan> plans,
        AgentFactory baseline,
        ToDoubleFunction<TaskResult> cost) {
      this.id = id;
      this.plans = plans;
      this.baselineFactory = baseline;
      this.cost = cost;
    }

    @Override
    public void onStart(AgentContext ctx) {
      startedWith = ctx;
    }

    @Override
    public void onMessage(Envelope message, AgentContext ctx) throws Exception {
      Plan now = plans.get();
      if (now != plan) {
        Agent old = canary;
        canary = null;
        plan = now;
        if (old != null) {
          old.onStop(ctx); // the canary of a plan that ended: its successor makes its own
        }
      }
      if (now == null) {
        instance(Rollout.Version.BASELINE, ctx).onMessage(message, ctx);
        return;
      }
      Rollout rollout = now.rollout();
      Rollout.Version version = rollout.route(id.key());
      Agent agent = instance(version, ctx);
      if (message.isReply()) {
        agent.onMessage(message, ctx);
        return;
      }
      ObservingContext observed = new ObservingContext(ctx, message);
      long started = System.nanoTime();
      try {
        agent.onMessage(message, observed);
      } catch (Exception | Error e) {
        rollout.record(version, false, Duration.ofNanos(System.nanoTime() - started), 0);
        throw e;
      }
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      switch (observed.answer()) {
        case TaskResult r -> rollout.record(version, true, took, cost.applyAsDouble(r));
        case TaskFailed f -> rollout.record(version, false, took, 0);
        case null, default -> {} // not a task (a budget event, an ignored message)
      }
    }

    private Agent instance(Rollout.Version version, AgentContext ctx) throws Exception {
      if (version == Rollout.Version.CANARY) {
        if (canary == null) {
          canary = plan.canary().create(id);
          canary.onStart(ctx);
        }
        return canary;
      }
      if (baseline == null) {
        baseline = baselineFactory.create(id);
        baseline.onStart(ctx);
      }
      return baseline;
    }

    @Override
    public void onStop(AgentContext ctx) throws Exception {
      Exception first = null;
      for (Agent a : new Agent[] {baseline, canary}) {
        if (a != null) {
          try {
            a.onStop(ctx != null ? ctx : startedWith);
          } catch (Exception e) {
            first = first == null ? e : first;
          }
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }
}
