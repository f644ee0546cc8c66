package dev.cfn.ai.budget;

import dev.cfn.ai.model.Usage;
import dev.cfn.core.Effects;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much an agent (or a swarm of agents) may spend on model calls: tokens (input plus output),
 * cost in US dollars, number of calls and wall time, each optional. The caller asks {@link
 * #check(String)} <b>before</b> every model call, which throws {@link BudgetExhaustedException}
 * when a limit is used up, and {@link #charge(Usage, String)} <b>after</b> it with what the call
 * used.
 *
 * <pre>{@code
 * Budget swarm = Budget.builder("swarm alpha").maxCostUsd("5.00").build();
 * Budget coder = Budget.builder("coder/1").maxTokens(200_000).maxCalls(50).parent(swarm).build();
 * coder.check(model);                      // refused if coder OR swarm is exhausted
 * ChatResponse r = provider.chat(request);
 * coder.charge(r.usage(), r.model());      // counted in coder AND swarm
 * }</pre>
 *
 * <p><b>Semantics.</b> A limit is used up once what was charged reaches it: {@code maxCalls(3)}
 * admits three calls and refuses the fourth. Since a call's tokens and cost are known only after
 * it, a call admitted just below a token or cost limit can take the budget over it; the next check
 * refuses. So an agent overshoots by at most one call (one per agent calling concurrently). Wall
 * time runs from the first {@code check} or {@code charge} of the budget (so a budget built ahead
 * of time does not run down while its agent waits for work), measured with {@link
 * System#nanoTime()} through an injectable source ({@link Builder#nanoTime(LongSupplier)}).
 *
 * <p><b>Parents.</b> A budget may have a parent ({@link Builder#parent(Budget)}), typically the
 * swarm's budget shared by its agents' budgets: a check asks this budget then each ancestor, and a
 * charge counts in all of them. The cost of a call is priced once, by the price table of the budget
 * it is charged to, and that amount is added to every ancestor.
 *
 * <p><b>Unknown models.</b> A model the {@link PriceTable} does not know cannot be priced. Where no
 * cost limit applies (none on this budget or an ancestor) its calls count as free and a warning is
 * logged once per model. Where a cost limit applies, its cost counts as unbounded: {@link
 * #check(String)} refuses a call of an unpriced model with {@link Limit#COST}, and if an unpriced
 * call is charged anyway (the provider answered with another model than the one checked) every
 * later check refuses. A cost limit thus never lets an unpriced call through silently; add the
 * model to the price table instead.
 *
 * <p><b>Charges are kept.</b> A charge counts once it is made, whatever becomes of the call's
 * answer afterwards: the call was made and the provider bills it. A listener that makes charges
 * durable ({@link Builder#onCharge}, a durable swarm's ledger) must therefore record every charge
 * it is told of, also when the commit it first wrote it to is discarded ({@link
 * Charged#charged(Usage, String, Effects)}), so that a budget restored from it counts what this one
 * counted. A crash between a call's answer and the first commit that holds it loses that call's
 * charge from the durable record (at most one call per task in flight at the crash, which the task
 * makes again when it is handled again, as {@code LlmAgent}'s call log describes): a restored
 * budget never counts more calls than were made, and fewer by at most that many.
 *
 * <p>Thread-safe: several agents may share a parent, and check and charge concurrently.
 */
public final class Budget {
  /** Guards the running totals; private, so no caller can hold it (unlike the instance). */
  private final Object lock = new Object();

  private static final Logger LOG = LoggerFactory.getLogger(Budget.class);
  private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

  /** The four limits a budget may set. */
  public enum Limit {
    /** Input plus output tokens. */
    TOKENS("tokens"),
    /** Cost in US dollars, from the {@link PriceTable}. */
    COST("USD"),
    /** Number of model calls. */
    CALLS("calls"),
    /** Wall time since the budget's first use. */
    WALL_TIME("seconds");

    private final String unit;

    Limit(String unit) {
      this.unit = unit;
    }

    /**
     * Returns the unit amounts of this limit are given in: tokens, USD, calls or seconds.
     *
     * @return the unit
     */
    public String unit() {
      return unit;
    }
  }

  /**
   * What a budget has been charged so far.
   *
   * @param inputTokens input tokens, cached ones included
   * @param outputTokens output tokens
   * @param cachedTokens input tokens served from the provider's cache
   * @param costUsd the cost in US dollars of the priced calls
   * @param calls the number of calls charged
   * @param elapsed wall time since the first use ({@link Duration#ZERO} before it)
   */
  public record Spent(
      long inputTokens,
      long outputTokens,
      long cachedTokens,
      BigDecimal costUsd,
      long calls,
      Duration elapsed) {
    /**
     * Returns the tokens the token limit counts.
     *
     * @return input plus output tokens
     */
    public long totalTokens() {
      return inputTokens + outputTokens;
    }
  }

  private final String name;
  private final Budget parent;
  private final long maxTokens; // 0: none
  private final BigDecimal maxCostUsd; // null: none
  private final long maxCalls; // 0: none
  private final long maxWallNanos; // 0: none
  private final PriceTable prices;
  private final LongSupplier nanoTime;
  private final Charged onCharge; // null: none

  // guarded by this
  private long inputTokens;
  private long outputTokens;
  private long cachedTokens;
  private BigDecimal costUsd = BigDecimal.ZERO;
  private long calls;
  private long startedNanos;
  private boolean started;
  private String unpricedModel;

  private Budget(Builder b) {
    this.name = b.name;
    this.parent = b.parent;
    this.maxTokens = b.maxTokens;
    this.maxCostUsd = b.maxCostUsd;
    this.maxCalls = b.maxCalls;
    this.maxWallNanos = b.maxWallTime == null ? 0 : b.maxWallTime.toNanos();
    this.prices = b.prices;
    this.nanoTime = b.nanoTime;
    this.onCharge = b.onCharge;
  }

  /**
   * Told of every charge of a budget, after it is counted in the budget and its ancestors ({@link
   * Builder#onCharge}).
   */
  @FunctionalInterface
  public interface Charged {
    /**
     * Called on the charging thread once {@code usage} is counted; what it throws goes to the
     * caller of {@link Budget#charge}, the charge itself staying counted.
     *
     * @param usage what the call used
     * @param model the model the call was priced by (may be null or blank)
     */
    void charged(Usage usage, String model);

    /**
     * Called instead of {@link #charged(Usage, String)} for a charge made by {@link
     * Budget#charge(Usage, String, Effects)}: the call's answer commits with {@code commit}, the
     * acknowledgement of the RELIABLE message being handled, and is used by nothing before that
     * commit, so a listener that makes the charge durable may write it there too ({@link
     * Effects#send}), the charge then committing exactly when the answer does. The charge stays
     * counted in the budget if that commit is discarded (it failed without a crash, as on a full
     * disk; the message is then handled again and the call made again): such a listener records it
     * by another route then ({@link Effects#whenDiscarded}), or the durable count falls behind this
     * budget's. By default it calls {@link #charged(Usage, String)}.
     *
     * @param usage what the call used
     * @param model the model the call was priced by (may be null or blank)
     * @param commit the acknowledgement the call's answer commits with
     */
    default void charged(Usage usage, String model, Effects commit) {
      charged(usage, model);
    }
  }

  /**
   * Starts a budget without limits.
   *
   * @param name what the budget is for, as messages show it (e.g. {@code "agent coder/1"})
   * @return the builder
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /**
   * Returns the budget's name, as messages show it.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the parent every charge is also counted in, and every check also asks.
   *
   * @return the parent, or empty
   */
  public Optional<Budget> parent() {
    return Optional.ofNullable(parent);
  }

  /**
   * Returns the price table this budget prices its charges with.
   *
   * @return the table
   */
  public PriceTable prices() {
    return prices;
  }

  /**
   * Refuses the next call when a limit of this budget or an ancestor is used up; see the class
   * comment. Call it before every model call.
   *
   * @throws BudgetExhaustedException naming the budget and the limit, with what was used
   */
  public void check() {
    check(null);
  }

  /**
   * Like {@link #check()}, and also refuses a call of {@code model} when a cost limit applies and
   * the price table does not know the model (see the class comment).
   *
   * @param model the model about to be called, or null when it is not known yet
   * @throws BudgetExhaustedException naming the budget and the limit, with what was used
   */
  public void check(String model) {
    for (Budget b = this; b != null; b = b.parent) {
      b.checkOwn();
    }
    if (model != null && prices.find(model).isEmpty()) {
      for (Budget b = this; b != null; b = b.parent) {
        if (b.maxCostUsd != null) {
          BigDecimal used = b.spent().costUsd();
          throw new BudgetExhaustedException(
              b.name,
              Limit.COST,
              used,
              b.maxCostUsd,
              "budget '"
                  + b.name
                  + "' refuses a call of model '"
                  + model
                  + "': the model has no price in the price table, so its cost cannot be counted"
                  + " against the cost limit of $"
                  + b.maxCostUsd.toPlainString()
                  + "; add the model's price (PriceTable.with, or a prices YAML file)");
        }
      }
    }
  }

  /**
   * Counts one call that used {@code usage} in this budget and every ancestor, priced by this
   * budget's table. Call it after every model call, whether or not its answer is used.
   *
   * @param usage what the call used
   * @param model the model that answered, to price the call
   * @return the cost charged, in US dollars (zero for an unpriced model)
   */
  public BigDecimal charge(Usage usage, String model) {
    return charge(usage, model, null);
  }

  /**
   * As {@link #charge(Usage, String)}, for a call whose answer commits with {@code commit}, the
   * acknowledgement of the RELIABLE message being handled (in the reply it journals), and used by
   * nothing before that commit: the {@linkplain Builder#onCharge listener} is told with {@link
   * Charged#charged(Usage, String, Effects)}, so that it may commit the charge with the answer.
   *
   * @param usage what the call used
   * @param model the model that answered, to price the call
   * @param commit the acknowledgement the answer commits with, or null: as {@link #charge(Usage,
   *     String)}
   * @return the cost charged, in US dollars (zero for an unpriced model)
   */
  public BigDecimal charge(Usage usage, String model, Effects commit) {
    Objects.requireNonNull(usage, "usage");
    Optional<BigDecimal> cost = prices.cost(usage, model);
    boolean costLimited = false;
    for (Budget b = this; b != null; b = b.parent) {
      b.add(usage, cost.orElse(null), model);
      costLimited |= b.maxCostUsd != null;
    }
    if (cost.isEmpty() && !costLimited) {
      prices.warnUnpriced(model);
    }
    if (onCharge != null) {
      if (commit == null) {
        onCharge.charged(usage, model);
      } else {
        onCharge.charged(usage, model, commit);
      }
    }
    return cost.orElse(BigDecimal.ZERO);
  }

  /**
   * Returns the wall time left before this budget or an ancestor refuses calls, so that a call in
   * flight can be given that as its deadline and cut when it runs out. A budget's wall time starts
   * at its first {@link #check()} or charge.
   *
   * @return the time left (zero when it has run out), or empty when no budget in the chain limits
   *     wall time
   */
  public Optional<Duration> remainingWallTime() {
    long left = Long.MAX_VALUE;
    for (Budget b = this; b != null; b = b.parent) {
      if (b.maxWallNanos > 0) {
        left = Math.min(left, b.ownRemainingWallNanos());
      }
    }
    return left == Long.MAX_VALUE
        ? Optional.empty()
        : Optional.of(Duration.ofNanos(Math.max(0, left)));
  }

  private long ownRemainingWallNanos() {
    synchronized (lock) {
      start();
      return maxWallNanos - (nanoTime.getAsLong() - startedNanos);
    }
  }

  /**
   * Returns what this budget has been charged (its own totals, which include every child's).
   *
   * @return a snapshot
   */
  public Spent spent() {
    synchronized (lock) {
      return new Spent(
          inputTokens,
          outputTokens,
          cachedTokens,
          costUsd,
          calls,
          started ? Duration.ofNanos(nanoTime.getAsLong() - startedNanos) : Duration.ZERO);
    }
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("Budget[").append(name);
    if (maxTokens > 0) {
      s.append(", maxTokens=").append(maxTokens);
    }
    if (maxCostUsd != null) {
      s.append(", maxCostUsd=").append(maxCostUsd.toPlainString());
    }
    if (maxCalls > 0) {
      s.append(", maxCalls=").append(maxCalls);
    }
    if (maxWallNanos > 0) {
      s.append(", maxWallTime=").append(Duration.ofNanos(maxWallNanos));
    }
    if (parent != null) {
      s.append(", parent=").append(parent.name);
    }
    return s.append(']').toString();
  }

  private void add(Usage usage, BigDecimal cost, String model) {
    synchronized (lock) {
      start();
      inputTokens += usage.inputTokens();
      outputTokens += usage.outputTokens();
      cachedTokens += usage.cachedTokens();
      calls++;
      if (cost != null) {
        costUsd = costUsd.add(cost);
      } else if (maxCostUsd != null && unpricedModel == null) {
        unpricedModel = model == null || model.isBlank() ? "(unnamed model)" : model;
        LOG.warn(
            "budget '{}' was charged a call of model '{}', which has no price: its cost limit now"
                + " refuses every call; add the model to the price table",
            name,
            unpricedModel);
      }
    }
  }

  private void checkOwn() {
    synchronized (lock) {
      start();
      if (maxCalls > 0 && calls >= maxCalls) {
        throw exhausted(Limit.CALLS, BigDecimal.valueOf(calls), BigDecimal.valueOf(maxCalls));
      }
      long tokens = inputTokens + outputTokens;
      if (maxTokens > 0 && tokens >= maxTokens) {
        throw exhausted(Limit.TOKENS, BigDecimal.valueOf(tokens), BigDecimal.valueOf(maxTokens));
      }
      if (maxCostUsd != null && unpricedModel != null) {
        throw new BudgetExhaustedException(
            name,
            Limit.COST,
            costUsd,
            maxCostUsd,
            "budget '"
                + name
                + "' is exhausted: it was charged a call of model '"
                + unpricedModel
                + "', which has no price in the price table, so its cost limit of $"
                + maxCostUsd.toPlainString()
                + " cannot be enforced; add the model's price (PriceTable.with, or a prices YAML"
                + " file)");
      }
      if (maxCostUsd != null && costUsd.compareTo(maxCostUsd) >= 0) {
        throw exhausted(Limit.COST, costUsd, maxCostUsd);
      }
      long elapsed = nanoTime.getAsLong() - startedNanos;
      if (maxWallNanos > 0 && elapsed >= maxWallNanos) {
        throw exhausted(Limit.WALL_TIME, seconds(elapsed), seconds(maxWallNanos));
      }
    }
  }

  private void start() {
    if (!started) {
      started = true;
      startedNanos = nanoTime.getAsLong();
    }
  }

  private BudgetExhaustedException exhausted(Limit limit, BigDecimal used, BigDecimal max) {
    String amounts =
        switch (limit) {
          case COST -> "$" + used.toPlainString() + " of $" + max.toPlainString();
          default ->
              used.toPlainString() + " of " + max.toPlainString() + " " + limit.unit() + " used";
        };
    String raise =
        switch (limit) {
          case TOKENS -> "maxTokens";
          case COST -> "maxCostUsd";
          case CALLS -> "maxCalls";
          case WALL_TIME -> "maxWallTime";
        };
    return new BudgetExhaustedException(
        name,
        limit,
        used,
        max,
        "budget '"
            + name
            + "' is exhausted: "
            + limit.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
            + " limit reached ("
            + amounts
            + "); no further model calls are made against it. Raise its "
            + raise
            + " or give the work a new budget");
  }

  private static BigDecimal seconds(long nanos) {
    return BigDecimal.valueOf(nanos)
        .divide(NANOS_PER_SECOND, 3, RoundingMode.HALF_UP)
        .stripTrailingZeros();
  }

  /** Builds a {@link Budget}; every limit is optional and every setter validates at once. */
  public static final class Builder {
    private final String name;
    private Budget parent;
    private long maxTokens;
    private BigDecimal maxCostUsd;
    private long maxCalls;
    private Duration maxWallTime;
    private PriceTable prices = PriceTable.defaults();
    private LongSupplier nanoTime = System::nanoTime;
    private Charged onCharge;

    private Builder(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException(
            "a budget needs a name, such as 'agent coder/1' or 'swarm alpha'");
      }
      this.name = name.strip();
    }

    /**
     * Limits input plus output tokens.
     *
     * @param tokens at least 1
     * @return this builder
     */
    public Builder maxTokens(long tokens) {
      if (tokens < 1) {
        throw new IllegalArgumentException("maxTokens must be 1 or more, got " + tokens);
      }
      this.maxTokens = tokens;
      return this;
    }

    /**
     * Limits the cost, in US dollars, priced by the {@linkplain #prices(PriceTable) price table}.
     *
     * @param usd more than zero
     * @return this builder
     */
    public Builder maxCostUsd(BigDecimal usd) {
      Objects.requireNonNull(usd, "usd");
      if (usd.signum() <= 0) {
        throw new IllegalArgumentException("maxCostUsd must be more than 0, got " + usd);
      }
      this.maxCostUsd = usd.stripTrailingZeros();
      return this;
    }

    /**
     * Limits the cost, in US dollars, given as a decimal string such as {@code "2.50"}.
     *
     * @param usd more than zero
     * @return this builder
     */
    public Builder maxCostUsd(String usd) {
      return maxCostUsd(new BigDecimal(usd));
    }

    /**
     * Limits the number of model calls.
     *
     * @param n at least 1
     * @return this builder
     */
    public Builder maxCalls(long n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxCalls must be 1 or more, got " + n);
      }
      this.maxCalls = n;
      return this;
    }

    /**
     * Limits the wall time from the budget's first use.
     *
     * @param wallTime positive
     * @return this builder
     */
    public Builder maxWallTime(Duration wallTime) {
      if (wallTime == null || wallTime.isNegative() || wallTime.isZero()) {
        throw new IllegalArgumentException("maxWallTime must be positive, got " + wallTime);
      }
      this.maxWallTime = wallTime;
      return this;
    }

    /**
     * Counts every charge in {@code parent} too, and refuses calls when it is exhausted.
     *
     * @param parent the parent (e.g. the swarm's budget)
     * @return this builder
     */
    public Builder parent(Budget parent) {
      this.parent = Objects.requireNonNull(parent, "parent");
      return this;
    }

    /**
     * Prices charges with {@code prices} ({@link PriceTable#defaults()} by default).
     *
     * @param prices the table
     * @return this builder
     */
    public Builder prices(PriceTable prices) {
      this.prices = Objects.requireNonNull(prices, "prices");
      return this;
    }

    /**
     * Reads wall time from {@code nanoTime}, a monotonic nanosecond counter ({@link
     * System#nanoTime()} by default); tests pass one they advance by hand.
     *
     * @param nanoTime the time source
     * @return this builder
     */
    public Builder nanoTime(LongSupplier nanoTime) {
      this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
      return this;
    }

    /**
     * Tells {@code listener} of every charge of this budget (not of its ancestors' other children),
     * after the charge is counted here and in every ancestor: how a durable swarm writes its
     * members' spend to its ledger before their answers are used.
     *
     * @param listener called on the charging thread, so it may make the charge durable before
     *     {@link Budget#charge} returns
     * @return this builder
     */
    public Builder onCharge(Charged listener) {
      this.onCharge = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the budget.
     *
     * @return the budget, with nothing charged
     */
    public Budget build() {
      return new Budget(this);
    }
  }
}
