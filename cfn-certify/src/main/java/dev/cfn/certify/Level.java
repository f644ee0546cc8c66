package dev.cfn.certify;

import java.util.List;

/**
 * The certification level, by the seed's rules: {@link #FULL} when every critical check passes and
 * at least 90 % of all checks pass; {@link #PARTIAL} when at least 80 % of the critical checks and
 * 70 % of all pass; else {@link #FAILED}. A check not available counts as failed.
 */
public enum Level {
  /** Every critical check and at least 90 % of all passed; exit status 0. */
  FULL(0),
  /** At least 80 % of critical and 70 % of all checks passed; exit status 1. */
  PARTIAL(1),
  /** Less; exit status 2. */
  FAILED(2);

  private final int exitCode;

  Level(int exitCode) {
    this.exitCode = exitCode;
  }

  /** The exit status of {@code cfn certify} at this level. */
  public int exitCode() {
    return exitCode;
  }

  /** The level of {@code results}, which must hold all ten checks. */
  public static Level of(List<CheckResult> results) {
    int critical = 0;
    int criticalPassed = 0;
    int passed = 0;
    for (CheckResult r : results) {
      if (r.id().critical()) {
        critical++;
        if (r.passed()) {
          criticalPassed++;
        }
      }
      if (r.passed()) {
        passed++;
      }
    }
    int all = results.size();
    if (all == 0) {
      return FAILED;
    }
    if (criticalPassed == critical && passed * 10 >= all * 9) {
      return FULL;
    }
    if (criticalPassed * 10 >= critical * 8 && passed * 10 >= all * 7) {
      return PARTIAL;
    }
    return FAILED;
  }

  /**
   * The overall score in percent: each passed check earns its weight (2 for a critical check, 1 for
   * the others), divided by the weight of all ten checks (18). A failed or unavailable check earns
   * nothing, however close it came: the score cannot be raised by near misses.
   */
  public static double score(List<CheckResult> results) {
    int total = 0;
    int earned = 0;
    for (CheckResult r : results) {
      int w = r.id().critical() ? 2 : 1;
      total += w;
      if (r.passed()) {
        earned += w;
      }
    }
    return total == 0 ? 0 : Math.round(1000.0 * earned / total) / 10.0;
  }
}
