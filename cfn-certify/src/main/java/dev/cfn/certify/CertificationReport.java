package dev.cfn.certify;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A finished certification: the level and score over all ten checks, each check's result, and what
 * it ran on.
 *
 * @param level the level by the seed's rules ({@link Level#of})
 * @param score the overall score in percent ({@link Level#score})
 * @param profile the profile's name
 * @param started when it started
 * @param finished when it finished
 * @param checks all ten checks in order; those not selected with {@code --check} are NOT AVAILABLE
 *     with the reason "not run"
 * @param selected the checks that were asked for (all ten unless {@code --check})
 * @param environment the machine, JDK, cfn version and commit
 * @param notTested what this certification does not test, said plainly
 */
public record CertificationReport(
    Level level,
    double score,
    String profile,
    Instant started,
    Instant finished,
    List<CheckResult> checks,
    List<CheckId> selected,
    Environment environment,
    List<String> notTested) {

  /** What no check here tests, whatever its result. */
  public static final List<String> NOT_TESTED =
      List.of(
          "Power loss or an OS crash: the crash checks SIGKILL a process; the operating system and"
              + " the disk keep running, so a commit that was never fsynced is not caught.",
          "More than one node: every check runs one node (one JVM, one SQLite store) on this"
              + " machine.",
          "A real model provider: the network resilience check's agents call the testkit's"
              + " scripted model server on loopback; no hosted or local model is called.",
          "A real network: every connection is on loopback; the network resilience check"
              + " imitates resets, blackholes, latency, half-open connections and slow links with"
              + " the testkit's TCP fault proxy, not a lossy or distant link.",
          "Hours of running: the longest check runs for seconds to minutes.");

  /** Copies the lists. */
  public CertificationReport {
    Objects.requireNonNull(level, "level");
    checks = List.copyOf(checks);
    selected = List.copyOf(selected);
    notTested = List.copyOf(notTested);
  }

  /** The result of {@code id}. */
  public CheckResult result(CheckId id) {
    for (CheckResult r : checks) {
      if (r.id() == id) {
        return r;
      }
    }
    throw new IllegalArgumentException("no result for " + id);
  }

  /** True when every selected check passed. */
  public boolean selectedPassed() {
    return selected.stream().allMatch(id -> result(id).passed());
  }

  /** Checks passed, of all ten. */
  public long passedCount() {
    return checks.stream().filter(CheckResult::passed).count();
  }
}
