/**
 * The supervisor composition: an LLM agent (the planner) decides, turn by turn, which member of a
 * {@link dev.cfn.flow.swarm.Swarm} does what next, until it gives the final answer or runs out of
 * turns or budget.
 *
 * <p>Public: {@link dev.cfn.flow.supervisor.Supervisor} (and its builder), {@link
 * dev.cfn.flow.supervisor.SupervisorStep} (one turn, for progress), {@link
 * dev.cfn.flow.supervisor.SupervisorOutcome}. Package-private beside them: {@code Plan} (the strict
 * reading of a planner's answer) and {@code PlannerPrompt} (what the planner is told each turn).
 *
 * <p>Depends on {@code dev.cfn.flow.swarm} (members are picked by the swarm's {@link
 * dev.cfn.flow.swarm.Assignment}, and so obey its topology and budget), {@code cfn-core} (the
 * planner is asked through the runtime's bus) and {@code cfn-ai} ({@code Task}, {@code TaskResult},
 * {@code Budget}).
 */
package dev.cfn.flow.supervisor;
