/**
 * AI agents on the cfn runtime: the agent loop that runs an agent definition against a language
 * model with tools, budgets and idempotent replay.
 *
 * <h2>What lives here</h2>
 *
 * <ul>
 *   <li>{@link dev.cfn.ai.LlmAgent}: a blocking {@link dev.cfn.core.Agent} that answers a {@link
 *       dev.cfn.ai.Task} by looping model call → permitted tool calls → model call until the model
 *       stops or a bound is reached, and replies {@link dev.cfn.ai.TaskResult} or {@link
 *       dev.cfn.ai.TaskFailed}; its {@link dev.cfn.ai.LlmAgent.Builder} makes the agent type. When
 *       a budget refuses a call it publishes {@link dev.cfn.ai.BudgetExhausted} on {@code
 *       cfn.budget.exhausted} and stops itself.
 *   <li>{@link dev.cfn.ai.CallLog}: results of model and side-effecting tool calls by idempotency
 *       key, so a redelivered message replays them instead of calling again; in memory ({@code
 *       InMemoryCallLog}) or durable on cfn-store's {@code dev.cfn.store.calls.SqliteCallLogStore}
 *       (through the {@link dev.cfn.core.spi.CallLogStore} interface). Package-private beside them:
 *       {@code CallRecords}, the JSON form of recorded results.
 * </ul>
 *
 * <p>Sub-packages: {@code model} (providers, requests, routing), {@code definition} (agent files),
 * {@code tool} (tools, permissions, execution), {@code budget} (limits and prices), {@code process}
 * (agents that run external processes).
 *
 * <h2>Dependencies</h2>
 *
 * This package depends on every sub-package but {@code process}, on cfn-core (the runtime), on
 * cfn-core's SPIs ({@code dev.cfn.core.spi}: {@code CallLogStore}, {@code CallLogException}; never
 * on cfn-store's classes), Jackson databind and SLF4J. The sub-packages must not depend on it.
 */
package dev.cfn.ai;
