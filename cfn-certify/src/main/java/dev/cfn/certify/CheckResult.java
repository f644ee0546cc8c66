package dev.cfn.certify;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What one check found.
 *
 * @param id which check
 * @param available false when its subject is not built yet (then it counts as failed)
 * @param passed true when the measured figure meets the target
 * @param measured the figure compared with the target, in the check's unit; NaN when nothing was
 *     measured
 * @param target the target it was compared with
 * @param method how the figure was measured, in a sentence or two
 * @param verdict why it passed or failed, or why it is not available
 * @param figures every raw figure the check took (percentiles, counts, series), for the reports
 */
public record CheckResult(
    CheckId id,
    boolean available,
    boolean passed,
    double measured,
    double target,
    String method,
    String verdict,
    Map<String, Object> figures) {

  /** Copies the figures; a check that is not available cannot pass. */
  public CheckResult {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(verdict, "verdict");
    figures = Collections.unmodifiableMap(new LinkedHashMap<>(figures));
    if (!available && passed) {
      throw new IllegalArgumentException("a check that is not available cannot pass");
    }
  }

  /** A check whose subject is not built yet: counted as failed. */
  static CheckResult notAvailable(CheckId id, double target, String why) {
    return new CheckResult(id, false, false, Double.NaN, target, "not run", why, Map.of());
  }

  /** A check that ran and compared {@code measured} with {@code target}. */
  static CheckResult measured(
      CheckId id,
      double measured,
      double target,
      boolean extraConditionsMet,
      String method,
      String verdict,
      Map<String, Object> figures) {
    boolean passed = extraConditionsMet && id.meets(measured, target);
    return new CheckResult(id, true, passed, measured, target, method, verdict, figures);
  }

  /** A check that could not finish: failed, with the reason. */
  static CheckResult broke(CheckId id, double target, String method, Throwable e) {
    return new CheckResult(
        id,
        true,
        false,
        Double.NaN,
        target,
        method,
        "did not finish: " + e.getMessage(),
        Map.of("error", String.valueOf(e)));
  }

  /** The measured figure with its unit ({@code 0.42 ms}), or NOT AVAILABLE, or none. */
  public String measuredText() {
    if (!available) {
      return "NOT AVAILABLE";
    }
    if (Double.isNaN(measured)) {
      return "none";
    }
    return Figures.format(measured) + " " + id.unit();
  }

  /** The target with its direction and unit: {@code ≤ 10 ms}. */
  public String targetText() {
    return id.describeTarget(target);
  }

  /** PASS, FAIL or NOT AVAILABLE. */
  public String status() {
    return !available ? "NOT AVAILABLE" : passed ? "PASS" : "FAIL";
  }
}
