package dev.cfn.flow.loop;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a CFN Loop runs: the agents of each loop (agent types registered with the runtime), the
 * implementers' confidence gate, the validators' consensus threshold and quorum, and the bounds.
 *
 * <ul>
 *   <li><b>Loop 3</b>: {@code implementers} (1 to 10) work the task; every one must answer with a
 *       confidence of at least {@code gate} (default 0.75). At most {@code maxImplementations}
 *       iterations per validation round (default 10).
 *   <li><b>Loop 2</b>: {@code validators} (2 to 4) judge the work; {@link Consensus} decides with
 *       {@code threshold} (default 0.90) and {@code quorum} (default ⌈2n/3⌉). At most {@code
 *       maxValidations} rounds (default 10); a round without consensus sends its findings to the
 *       next Loop 3 iteration.
 *   <li><b>Loop 4</b>: {@code owner} decides PROCEED, DEFER or ESCALATE.
 * </ul>
 *
 * @param implementers the implementers' agent types, in order
 * @param validators the validators' agent types, in order
 * @param owner the product owner's agent type
 * @param gate the confidence every implementer must reach, in [0,1]
 * @param threshold the consensus score to reach, in [0,1]
 * @param quorum how many validators must give a readable verdict, 1 to the number of validators
 * @param maxImplementations Loop 3 iterations per round, 1 to 100
 * @param maxValidations Loop 2 rounds, 1 to 100
 * @param callTimeoutMillis how long one agent call may take, in milliseconds
 */
public record LoopSpec(
    List<String> implementers,
    List<String> validators,
    String owner,
    BigDecimal gate,
    BigDecimal threshold,
    int quorum,
    int maxImplementations,
    int maxValidations,
    long callTimeoutMillis) {

  /** The default gate: 0.75. */
  public static final BigDecimal DEFAULT_GATE = new BigDecimal("0.75");

  /** The default consensus threshold: 0.90. */
  public static final BigDecimal DEFAULT_THRESHOLD = new BigDecimal("0.90");

  /** The default bound of both loops: 10. */
  public static final int DEFAULT_ITERATIONS = 10;

  /** Checks every part; the message of a failure names the part and the fix. */
  public LoopSpec {
    implementers = List.copyOf(Objects.requireNonNull(implementers, "implementers"));
    validators = List.copyOf(Objects.requireNonNull(validators, "validators"));
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(gate, "gate");
    Objects.requireNonNull(threshold, "threshold");
    if (implementers.isEmpty() || implementers.size() > 10) {
      throw new IllegalArgumentException(
          "a CFN Loop needs 1 to 10 implementers, was "
              + implementers.size()
              + " (fix: name them, e.g. --implementer coder)");
    }
    if (validators.size() < 2 || validators.size() > 4) {
      throw new IllegalArgumentException(
          "a CFN Loop needs 2 to 4 validators, was "
              + validators.size()
              + " (fix: name 2 to 4, e.g. --validator reviewer --validator tester)");
    }
    if (owner.isBlank()) {
      throw new IllegalArgumentException(
          "a CFN Loop needs a product owner (fix: name one, e.g. --owner product-owner)");
    }
    unit("gate", gate);
    unit("threshold", threshold);
    if (quorum < 1 || quorum > validators.size()) {
      throw new IllegalArgumentException(
          "the quorum must be 1 to the number of validators ("
              + validators.size()
              + "), was "
              + quorum
              + " (fix: leave it out for the default, "
              + defaultQuorum(validators.size())
              + ")");
    }
    bound("maxImplementations", maxImplementations);
    bound("maxValidations", maxValidations);
    if (callTimeoutMillis < 1) {
      throw new IllegalArgumentException(
          "the call timeout must be positive, was " + callTimeoutMillis + " ms (fix: e.g. 10m)");
    }
  }

  /** A spec with the defaults: gate 0.75, threshold 0.90, quorum ⌈2n/3⌉, 10 and 10, 10 min. */
  public static LoopSpec of(List<String> implementers, List<String> validators, String owner) {
    return builder().implementers(implementers).validators(validators).owner(owner).build();
  }

  /** Starts a spec; every setting but the agents has its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** ⌈2n/3⌉: 2 of 2, 2 of 3, 3 of 4. */
  public static int defaultQuorum(int validators) {
    return (2 * validators + 2) / 3;
  }

  private static void unit(String name, BigDecimal v) {
    if (v.signum() < 0 || v.compareTo(BigDecimal.ONE) > 0) {
      throw new IllegalArgumentException(
          "the " + name + " must be in [0,1], was " + v.toPlainString() + " (fix: e.g. 0.75)");
    }
  }

  private static void bound(String name, int v) {
    if (v < 1 || v > 100) {
      throw new IllegalArgumentException(
          name + " must be 1 to 100, was " + v + " (fix: e.g. " + DEFAULT_ITERATIONS + ")");
    }
  }

  /** Builds a {@link LoopSpec}. */
  public static final class Builder {
    private final List<String> implementers = new ArrayList<>();
    private final List<String> validators = new ArrayList<>();
    private String owner = "";
    private BigDecimal gate = DEFAULT_GATE;
    private BigDecimal threshold = DEFAULT_THRESHOLD;
    private Integer quorum;
    private int maxImplementations = DEFAULT_ITERATIONS;
    private int maxValidations = DEFAULT_ITERATIONS;
    private Duration callTimeout = Duration.ofMinutes(10);

    private Builder() {}

    /** The implementers' agent types (Loop 3). */
    public Builder implementers(List<String> types) {
      implementers.addAll(types);
      return this;
    }

    /** The validators' agent types (Loop 2). */
    public Builder validators(List<String> types) {
      validators.addAll(types);
      return this;
    }

    /** The product owner's agent type (Loop 4). */
    public Builder owner(String type) {
      this.owner = Objects.requireNonNull(type, "owner");
      return this;
    }

    /** The implementers' confidence gate (default 0.75). */
    public Builder gate(BigDecimal gate) {
      this.gate = Objects.requireNonNull(gate, "gate");
      return this;
    }

    /** The consensus threshold (default 0.90). */
    public Builder threshold(BigDecimal threshold) {
      this.threshold = Objects.requireNonNull(threshold, "threshold");
      return this;
    }

    /** Readable verdicts needed for a consensus (default ⌈2n/3⌉). */
    public Builder quorum(int quorum) {
      this.quorum = quorum;
      return this;
    }

    /** Loop 3 iterations per round (default 10). */
    public Builder maxImplementations(int n) {
      this.maxImplementations = n;
      return this;
    }

    /** Loop 2 rounds (default 10). */
    public Builder maxValidations(int n) {
      this.maxValidations = n;
      return this;
    }

    /** How long one agent call may take (default 10 minutes). */
    public Builder callTimeout(Duration timeout) {
      this.callTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * The spec.
     *
     * @throws IllegalArgumentException naming the setting that is out of range and the fix
     */
    public LoopSpec build() {
      return new LoopSpec(
          implementers,
          validators,
          owner,
          gate,
          threshold,
          quorum != null ? quorum : defaultQuorum(validators.size()),
          maxImplementations,
          maxValidations,
          callTimeout.toMillis());
    }
  }
}
