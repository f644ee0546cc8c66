package dev.cfn.certify;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The report in the seed's layout: summary, results table, per-check detail, limitations. */
final class MarkdownReport {
  private MarkdownReport() {}

  /**
   * One line per probe (security), scenario (network resilience) or metric (monitoring), with its
   * status: the items a percentage was computed from.
   */
  static List<String> itemLines(CheckResult c) {
    List<String> out = new ArrayList<>();
    if (c.figures().get("probes") instanceof List<?> probes) {
      for (Object o : probes) {
        if (o instanceof Map<?, ?> m) {
          out.add(
              status(m.get("passed"))
                  + " "
                  + m.get("group")
                  + ": "
                  + m.get("probe")
                  + " ("
                  + m.get("detail")
                  + ")");
        }
      }
    }
    if (c.figures().get("scenarios") instanceof List<?> scenarios) {
      for (Object o : scenarios) {
        if (o instanceof Map<?, ?> m) {
          out.add(
              status(m.get("passed"))
                  + " "
                  + m.get("target")
                  + ", "
                  + m.get("fault")
                  + ": "
                  + m.get("detail"));
        }
      }
    }
    if (c.figures().get("metrics") instanceof List<?> metrics) {
      for (Object o : metrics) {
        if (o instanceof Map<?, ?> m) {
          boolean present = Boolean.TRUE.equals(m.get("present"));
          boolean moving = Boolean.TRUE.equals(m.get("moving"));
          out.add(
              status(present && moving)
                  + " "
                  + m.get("metric")
                  + ": "
                  + (present ? "present" : "missing " + m.get("missing"))
                  + ", "
                  + (moving ? "moving" : "never moved"));
        }
      }
    }
    return out;
  }

  private static String status(Object passed) {
    return Boolean.TRUE.equals(passed) ? "PASS" : "FAIL";
  }

  static String render(CertificationReport r) {
    StringBuilder b = new StringBuilder();
    long critical = r.checks().stream().filter(c -> c.id().critical()).count();
    long criticalPassed = r.checks().stream().filter(c -> c.id().critical() && c.passed()).count();
    b.append("# Production Certification Summary\n\n");
    b.append("## Level: ").append(r.level()).append("\n\n");
    b.append("**System:** cfn ").append(r.environment().cfnVersion());
    b.append(" (commit ").append(r.environment().gitCommit()).append(")  \n");
    b.append("**Certification date:** ").append(r.finished()).append("  \n");
    b.append("**Profile:** ").append(r.profile()).append("  \n");
    b.append("**Overall score:** ").append(Figures.format(r.score())).append(" %  \n");
    b.append("**Machine:** ").append(r.environment().describe()).append("\n\n");
    b.append(
        "Every figure below was measured by `cfn certify` on this machine; the seed's published"
            + " claim (simulated, never measured) stands beside it for comparison only.\n\n");
    if (r.selected().size() < CheckId.values().length) {
      b.append("Only ")
          .append(r.selected().stream().map(CheckId::key).toList())
          .append(" ran (--check); the other checks count as failed.\n\n");
    }
    b.append("---\n\n## Validation Results\n\n### Test Results Summary\n\n");
    b.append("| Category | Tests Run | Tests Passed | Success Rate |\n");
    b.append("|----------|-----------|--------------|--------------|\n");
    b.append("| **Critical Tests** | ")
        .append(critical)
        .append(" | ")
        .append(criticalPassed)
        .append(" | ")
        .append(Figures.format(100.0 * criticalPassed / critical))
        .append(" % |\n");
    b.append("| **All Tests** | ")
        .append(r.checks().size())
        .append(" | ")
        .append(r.passedCount())
        .append(" | ")
        .append(Figures.format(100.0 * r.passedCount() / r.checks().size()))
        .append(" % |\n");
    b.append("| **Overall Score** | - | - | ").append(Figures.format(r.score())).append(" % |\n\n");
    b.append("### Performance Metrics Comparison\n\n");
    b.append("| # | Metric | Critical | Target | Measured | Status | Seed's claim |\n");
    b.append("|---|--------|----------|--------|----------|--------|--------------|\n");
    for (CheckResult c : r.checks()) {
      b.append("| ")
          .append(c.id().number())
          .append(" | **")
          .append(c.id().title())
          .append("** | ")
          .append(c.id().critical() ? "yes" : "no")
          .append(" | ")
          .append(c.id().describeTarget(c.target()))
          .append(" | ")
          .append(c.measuredText())
          .append(" | ")
          .append(c.status())
          .append(" | ")
          .append(c.id().seedClaim())
          .append(" |\n");
    }
    b.append("\n---\n\n## Certification Criteria\n\n");
    b.append(
        "- FULL: every critical check passes and at least 90 % of all checks pass.\n"
            + "- PARTIAL: at least 80 % of the critical checks and 70 % of all pass.\n"
            + "- FAILED: anything less. A check not available counts as failed.\n"
            + "- Score: 100 x (weights of the checks passed) / (all weights); a critical check"
            + " weighs 2, the others 1 (18 in all); a failed or unavailable check earns 0.\n\n");
    b.append("---\n\n## Check Details\n\n");
    for (CheckResult c : r.checks()) {
      b.append("### ")
          .append(c.id().number())
          .append(". ")
          .append(c.id().title())
          .append(": ")
          .append(c.status())
          .append("\n\n");
      b.append("- **Result:** ").append(c.verdict()).append("\n");
      b.append("- **Target:** ").append(c.id().describeTarget(c.target()));
      b.append("; **measured:** ").append(c.measuredText());
      b.append("; **seed's claim:** ").append(c.id().seedClaim()).append("\n");
      b.append("- **Method:** ").append(c.method()).append("\n");
      for (Map.Entry<String, Object> e : c.figures().entrySet()) {
        if (e.getValue() instanceof Number n) {
          b.append("- ").append(e.getKey()).append(": ").append(Figures.format(n.doubleValue()));
          b.append("\n");
        } else if (e.getValue() instanceof String s) {
          b.append("- ").append(e.getKey()).append(": ").append(s).append("\n");
        }
      }
      for (String line : itemLines(c)) {
        b.append("  - ").append(line).append("\n");
      }
      b.append("\n");
    }
    b.append("---\n\n## Known Limitations (not tested)\n\n");
    for (String s : r.notTested()) {
      b.append("- ").append(s).append("\n");
    }
    for (CheckResult c : r.checks()) {
      if (!c.available()) {
        b.append("- Check ")
            .append(c.id().number())
            .append(" (")
            .append(c.id().key())
            .append("): ")
            .append(c.verdict())
            .append("\n");
      }
    }
    b.append("\n---\n\n## Environment\n\n");
    for (Map.Entry<String, Object> e : r.environment().asMap().entrySet()) {
      b.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append("\n");
    }
    b.append("\n**Validation command:** `./cfn certify --profile ")
        .append(r.profile())
        .append("`\n");
    return b.toString();
  }
}
