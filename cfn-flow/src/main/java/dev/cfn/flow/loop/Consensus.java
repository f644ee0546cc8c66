package dev.cfn.flow.loop;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.Objects;

/**
 * The consensus rule of Loop 2: confidence-weighted approval over all validators, with a quorum.
 *
 * <p>Of the {@code n} validators a round asks, each answers with a verdict ({@code approve} or
 * {@code reject}) and a confidence {@code c} in [0,1], or with something unreadable (no verdict).
 *
 * <pre>
 *   score     = ( Σ over approving validators of c ) / n
 *   consensus = (readable verdicts ≥ quorum)  and  (score ≥ threshold)
 * </pre>
 *
 * A rejection and a missing or unreadable verdict add 0: the score is the share of the panel that
 * approves, weighted by how sure each approver is. The default threshold is 0.90 and the default
 * quorum ⌈2n/3⌉ (2 of 2, 2 of 3, 3 of 4). The arithmetic is exact decimal ({@code score ≥
 * threshold} is checked as {@code Σ c ≥ threshold·n}), so a threshold is met exactly at its value.
 *
 * <p>Worked examples, threshold 0.90:
 *
 * <ol>
 *   <li>3 validators approve with 0.95, 0.92, 0.90: score (0.95+0.92+0.90)/3 = 0.9233, consensus.
 *   <li>3 approve with 0.95, 0.95, 0.80: score 2.70/3 = 0.90, consensus (exactly at the threshold).
 *   <li>2 approve with 0.8999 each: score 0.8999, no consensus (the findings go back to Loop 3).
 *   <li>3 validators, two approve with 0.99, one rejects with 0.60: score 1.98/3 = 0.66, no
 *       consensus: with a threshold above (n−1)/n one rejection blocks, however sure the others
 *       are.
 *   <li>4 validators, three approve with 1.0, one answers garbage: 3 readable verdicts meet the
 *       quorum of 3, but the score is 3.0/4 = 0.75, no consensus.
 *   <li>3 validators, two answer garbage, one approves with 1.0: 1 readable verdict is below the
 *       quorum of 2, no consensus (and the score, 0.33, is too low anyway).
 *   <li>Threshold 0.60, 4 validators approve with 0.9, 0.9, 0.8 and one rejects with 0.99: score
 *       2.6/4 = 0.65, consensus: a lower threshold lets a minority disagree.
 * </ol>
 *
 * @param score the confidence-weighted approval, in [0,1]
 * @param readable how many verdicts were readable
 * @param validators how many validators were asked
 * @param quorum how many readable verdicts were needed
 * @param threshold the score needed
 * @param reached whether the round reached consensus
 */
public record Consensus(
    BigDecimal score,
    int readable,
    int validators,
    int quorum,
    BigDecimal threshold,
    boolean reached) {

  /** Checks the parts. */
  public Consensus {
    Objects.requireNonNull(score, "score");
    Objects.requireNonNull(threshold, "threshold");
  }

  /** One validator's answer: a verdict and its confidence, or unreadable (both null). */
  public record Vote(Boolean approve, BigDecimal confidence) {
    /** An answer that could not be read. */
    public static final Vote UNREADABLE = new Vote(null, null);

    /** True when the answer was read. */
    public boolean readable() {
      return approve != null && confidence != null;
    }
  }

  /**
   * Applies the rule to {@code votes}, one per validator asked.
   *
   * @throws IllegalArgumentException when there are no votes or the quorum is out of range
   */
  public static Consensus of(List<Vote> votes, BigDecimal threshold, int quorum) {
    int n = votes.size();
    if (n == 0 || quorum < 1 || quorum > n) {
      throw new IllegalArgumentException(
          "consensus needs at least one vote and a quorum of 1 to " + n + ", was " + quorum);
    }
    BigDecimal approved = BigDecimal.ZERO;
    int readable = 0;
    for (Vote v : votes) {
      if (v.readable()) {
        readable++;
        if (v.approve()) {
          approved = approved.add(v.confidence());
        }
      }
    }
    BigDecimal count = BigDecimal.valueOf(n);
    boolean reached = readable >= quorum && approved.compareTo(threshold.multiply(count)) >= 0;
    BigDecimal score = approved.divide(count, MathContext.DECIMAL64).stripTrailingZeros();
    return new Consensus(score, readable, n, quorum, threshold, reached);
  }

  /** {@code 0.9233 ≥ 0.90 (3 of 3 readable, quorum 2): consensus}, for people. */
  public String describe() {
    return score.setScale(4, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString()
        + (score.compareTo(threshold) >= 0 ? " ≥ " : " < ")
        + threshold.toPlainString()
        + " ("
        + readable
        + " of "
        + validators
        + " readable, quorum "
        + quorum
        + "): "
        + (reached ? "consensus" : "no consensus");
  }
}
