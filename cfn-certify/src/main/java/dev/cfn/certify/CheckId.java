package dev.cfn.certify;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The ten checks of the seed's production certification, in the seed's order, with the seed's
 * default target, criticality and published claim. The claim is printed beside every figure this
 * certification measures; it was simulated in the seed and is shown only for comparison.
 */
public enum CheckId {
  /** Inter-agent latency, P95 of paced one-way messages. */
  LATENCY(1, "latency", "Inter-agent latency P95", true, "ms", false, 10, "0.002 ms"),
  /** Sustained message throughput over many agent pairs. */
  THROUGHPUT(2, "throughput", "Message throughput", true, "msg/s", true, 100_000, "1.59M msg/s"),
  /** The largest swarm that completes a coordination round within its deadline. */
  COORDINATION(3, "coordination", "Agent coordination", true, "agents", true, 100, "150 agents"),
  /** Reliable messages delivered exactly once through failing handlers and SIGKILLs. */
  RELIABILITY(4, "reliability", "Message reliability", true, "%", true, 99.9, "99.961 %"),
  /** Readiness probed through load and faults. */
  UPTIME(5, "uptime", "System uptime", true, "%", true, 99.9, "100 %"),
  /** SIGKILL to the first message handled after the restart, the worst of several. */
  RECOVERY(6, "recovery", "Recovery time (max)", true, "s", false, 5, "0.29 s"),
  /** Active security probes passed. */
  SECURITY(7, "security", "Security compliance", true, "%", true, 100, "100 %"),
  /** The seed's eight metrics present and moving under load. */
  MONITORING(8, "monitoring", "Monitoring coverage", false, "%", true, 95, "100 %"),
  /** Records read back intact after a restart, checksums and integrity checks clean. */
  INTEGRITY(9, "integrity", "Data integrity", true, "%", true, 100, "100 %"),
  /** Network fault scenarios the work survives. */
  RESILIENCE(10, "resilience", "Network resilience", false, "%", true, 90, "95 %");

  private final int number;
  private final String key;
  private final String title;
  private final boolean critical;
  private final String unit;
  private final boolean atLeast;
  private final double defaultTarget;
  private final String seedClaim;

  CheckId(
      int number,
      String key,
      String title,
      boolean critical,
      String unit,
      boolean atLeast,
      double defaultTarget,
      String seedClaim) {
    this.number = number;
    this.key = key;
    this.title = title;
    this.critical = critical;
    this.unit = unit;
    this.atLeast = atLeast;
    this.defaultTarget = defaultTarget;
    this.seedClaim = seedClaim;
  }

  /** The check's number in the seed's table, 1 to 10. */
  public int number() {
    return number;
  }

  /** The name used on the command line ({@code --check}) and in target files. */
  public String key() {
    return key;
  }

  /** What the check measures, as a table heading. */
  public String title() {
    return title;
  }

  /** True when the seed's rules count it among the critical checks. */
  public boolean critical() {
    return critical;
  }

  /** The unit of the measured figure and the target. */
  public String unit() {
    return unit;
  }

  /** True when the figure must be at least the target, false when at most. */
  public boolean atLeast() {
    return atLeast;
  }

  /** The seed's target. */
  public double defaultTarget() {
    return defaultTarget;
  }

  /** The figure the seed published (simulated there), for comparison. */
  public String seedClaim() {
    return seedClaim;
  }

  /** True when {@code measured} meets {@code target} in this check's direction. */
  public boolean meets(double measured, double target) {
    if (Double.isNaN(measured)) {
      return false;
    }
    return atLeast ? measured >= target : measured <= target;
  }

  /** The target as text: {@code ≤ 10 ms}, {@code ≥ 99.9 %}. */
  public String describeTarget(double target) {
    return (atLeast ? "≥ " : "≤ ") + Figures.format(target) + " " + unit;
  }

  /**
   * The check named {@code key} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the choices when there is none
   */
  public static CheckId of(String key) {
    for (CheckId id : values()) {
      if (id.key.equalsIgnoreCase(key.strip())) {
        return id;
      }
    }
    throw new IllegalArgumentException(
        "unknown check '" + key + "' (fix: choose one of " + names() + ")");
  }

  /** The check names, comma-separated, for messages. */
  public static String names() {
    return Arrays.stream(values()).map(CheckId::key).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return key.toLowerCase(Locale.ROOT);
  }
}
