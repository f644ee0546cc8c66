package dev.cfn.ai.budget;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * A {@link Budget} refused a model call: one of its limits (or its parent's) is used up. The
 * message names the budget, the limit, what was used and the limit, and what to do; the accessors
 * give the same facts to code.
 */
public final class BudgetExhaustedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String budget;
  private final Budget.Limit limit;
  private final BigDecimal used;
  private final BigDecimal max;

  /**
   * Creates the exception.
   *
   * @param budget the name of the budget that refused
   * @param limit which of its limits
   * @param used how much of it was used, in the limit's {@linkplain Budget.Limit#unit() unit}
   * @param max the limit, in the same unit
   * @param message what happened and what to do
   */
  public BudgetExhaustedException(
      String budget, Budget.Limit limit, BigDecimal used, BigDecimal max, String message) {
    super(message);
    this.budget = Objects.requireNonNull(budget, "budget");
    this.limit = Objects.requireNonNull(limit, "limit");
    this.used = Objects.requireNonNull(used, "used");
    this.max = Objects.requireNonNull(max, "max");
  }

  /**
   * Returns the name of the budget that refused the call (the agent's own, or its swarm's).
   *
   * @return the budget's name
   */
  public String budget() {
    return budget;
  }

  /**
   * Returns which limit is used up.
   *
   * @return the limit
   */
  public Budget.Limit limit() {
    return limit;
  }

  /**
   * Returns how much of the limit was used, in its unit (tokens, US dollars, calls, seconds).
   *
   * @return the amount used
   */
  public BigDecimal used() {
    return used;
  }

  /**
   * Returns the limit, in its unit.
   *
   * @return the limit
   */
  public BigDecimal max() {
    return max;
  }
}
