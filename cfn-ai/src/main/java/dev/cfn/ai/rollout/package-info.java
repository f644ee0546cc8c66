/**
 * Canary rollouts of agent versions: a new version of an agent definition takes a rising share of
 * new tasks (5 %, 25 %, 100 % by default), sticky by task key, while its error rate, P95 latency,
 * cost per task and validators' approval rate are compared with the version in use; it is promoted
 * step by step while the {@link dev.cfn.ai.rollout.Gates} hold and rolled back, with the reason, as
 * soon as one fails or a {@link dev.cfn.ai.rollout.CriticalAlerts critical alert} fires.
 *
 * <h2>What lives here</h2>
 *
 * <ul>
 *   <li>{@link dev.cfn.ai.rollout.RolloutStore}: the durable rollouts (one JSON file per agent) and
 *       the operator's verbs: start, promote, rollback, status, list.
 *   <li>{@link dev.cfn.ai.rollout.Rollout}: a rollout as a node drives it: routing, measures, the
 *       gates' judgment, written back to the store.
 *   <li>{@link dev.cfn.ai.rollout.Canary}: the agent type that routes each task key to a version's
 *       agent and records the outcome; {@link dev.cfn.ai.rollout.Canary#switching} asks for the
 *       current {@link dev.cfn.ai.rollout.Canary.Plan} on each message, so a node registers the
 *       type once and a rollout started later takes effect at once.
 *   <li>Values: {@link dev.cfn.ai.rollout.DefinitionVersion}, {@link dev.cfn.ai.rollout.Gates},
 *       {@link dev.cfn.ai.rollout.RolloutStatus}, {@link dev.cfn.ai.rollout.RolloutEvent}; the
 *       plug-in point for alerting, {@link dev.cfn.ai.rollout.CriticalAlerts}.
 *   <li>Package-private: {@code RolloutState} (the file's content), {@code Measures} (one version's
 *       figures), {@code ObservingContext} (notes a version's answer).
 * </ul>
 *
 * <h2>Dependencies</h2>
 *
 * cfn-core (agents, contexts), {@code dev.cfn.ai} (task results), {@code dev.cfn.ai.definition},
 * {@code dev.cfn.ai.budget} (prices), {@code dev.cfn.ai.internal.json}, Jackson and SLF4J.
 */
package dev.cfn.ai.rollout;
