/**
 * Budgets for AI agents: how many tokens, dollars, model calls and how much wall time an agent, or
 * a swarm of agents, may spend before its model calls are refused.
 *
 * <h2>What lives here</h2>
 *
 * <ul>
 *   <li>{@link dev.cfn.ai.budget.Budget}: limits on tokens (input plus output), cost in US dollars,
 *       calls and wall time, each optional; {@code check} before every model call, {@code charge}
 *       after it; an optional parent (the swarm's budget) that every charge also counts in and
 *       every check also asks. Thread-safe; wall time read through an injectable {@code nanoTime}
 *       source.
 *   <li>{@link dev.cfn.ai.budget.BudgetExhaustedException}: the refusal, naming the budget, the
 *       limit, what was used and the limit.
 *   <li>{@link dev.cfn.ai.budget.PriceTable}: USD per million input, output and cached-input tokens
 *       per model; a dated default table of common OpenAI and Anthropic models (prices change:
 *       override them), extended from code or from a YAML file (snakeyaml-engine). A model without
 *       a price counts as free (warned once) unless a cost limit applies, which then refuses it.
 * </ul>
 *
 * <p>The agent loop ({@link dev.cfn.ai.LlmAgent}) checks and charges an agent's budget around each
 * model call, and stops the agent when its budget (or its swarm's) is exhausted.
 *
 * <h2>Dependencies</h2>
 *
 * This package depends on {@code dev.cfn.ai.model} ({@code Usage}), snakeyaml-engine and SLF4J. It
 * must not depend on the agent loop ({@code dev.cfn.ai}), on tools or on the runtime ({@code
 * dev.cfn.core}); they may depend on it.
 */
package dev.cfn.ai.budget;
