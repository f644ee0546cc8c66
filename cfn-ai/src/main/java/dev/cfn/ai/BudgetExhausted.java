package dev.cfn.ai;

import dev.cfn.ai.budget.Budget;
import dev.cfn.core.AgentId;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * The event an {@link LlmAgent} publishes on {@link LlmAgent#BUDGET_TOPIC} (source: the agent's
 * type) when its budget, or its swarm's, refused a model call and it stopped itself. Subscribe to
 * {@code cfn.budget.#} to watch spending.
 *
 * @param agent the agent that stopped
 * @param budget the name of the exhausted budget (the agent's own or its swarm's)
 * @param limit which limit is used up
 * @param used how much of it was used, in the limit's {@linkplain Budget.Limit#unit() unit}
 * @param max the limit, in the same unit
 * @param message the refusal's message: what happened and what to do
 */
public record BudgetExhausted(
    AgentId agent,
    String budget,
    Budget.Limit limit,
    BigDecimal used,
    BigDecimal max,
    String message) {
  /** Checks the parts. */
  public BudgetExhausted {
    Objects.requireNonNull(agent, "agent");
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(limit, "limit");
    Objects.requireNonNull(used, "used");
    Objects.requireNonNull(max, "max");
    Objects.requireNonNull(message, "message");
  }
}
