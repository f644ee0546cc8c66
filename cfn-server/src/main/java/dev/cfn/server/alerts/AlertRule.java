package dev.cfn.server.alerts;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * One alert rule: a condition over a metric of {@code /metrics}, how long it must hold before the
 * alert fires ({@code for}), an optional second condition that must hold too ({@code when}), its
 * severity and a one-line summary.
 *
 * @param name the rule's name (letters, digits, {@code -} and {@code _})
 * @param severity {@code critical} or {@code warning}
 * @param condition what is tested
 * @param when a second condition that must also hold, or null
 * @param forDuration how long the conditions must hold before firing ({@code 0s}: at once)
 * @param summary what the alert means, for people
 */
public record AlertRule(
    String name,
    String severity,
    Condition condition,
    Condition when,
    Duration forDuration,
    String summary) {

  public AlertRule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(forDuration, "forDuration");
    summary = summary == null ? "" : summary;
  }

  /** What a rule tests: a function of a metric's samples compared with a threshold. */
  public enum Function {
    /** The current value (summed over the matching series). */
    VALUE,
    /** Per-second growth over the window, as Prometheus's {@code rate()}. */
    RATE,
    /** Growth over the window, as Prometheus's {@code increase()}. */
    INCREASE
  }

  /**
   * A comparison of a metric with a threshold.
   *
   * @param metric the metric's name as {@code /metrics} shows it, such as {@code cfn_errors_total}
   * @param labels labels the series must carry (a subset; the matching series are summed)
   * @param function value, rate or increase
   * @param window the window of rate and increase (ignored by value)
   * @param op {@code >}, {@code >=}, {@code <} or {@code <=}
   * @param threshold the number compared with
   */
  public record Condition(
      String metric,
      Map<String, String> labels,
      Function function,
      Duration window,
      String op,
      double threshold) {

    public Condition {
      Objects.requireNonNull(metric, "metric");
      labels = Map.copyOf(labels == null ? Map.of() : labels);
      Objects.requireNonNull(function, "function");
      window = window == null ? Duration.ofMinutes(5) : window;
      Objects.requireNonNull(op, "op");
    }

    /** True when {@code value} meets the comparison. */
    public boolean test(double value) {
      return switch (op) {
        case ">" -> value > threshold;
        case ">=" -> value >= threshold;
        case "<" -> value < threshold;
        case "<=" -> value <= threshold;
        default -> throw new IllegalStateException("unknown op " + op);
      };
    }

    /** The selector, {@code metric{label="value",...}}, as PromQL writes it. */
    public String selector() {
      if (labels.isEmpty()) {
        return metric;
      }
      StringBuilder b = new StringBuilder(metric).append('{');
      labels.entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(
              e ->
                  b.append(e.getKey())
                      .append("=\"")
                      .append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\""))
                      .append("\","));
      b.setCharAt(b.length() - 1, '}');
      return b.toString();
    }

    /** The condition as a PromQL expression, such as {@code rate(x[5m]) > 0}. */
    public String promql() {
      String w = "[" + AlertConfig.duration(window) + "]";
      String lhs =
          switch (function) {
            case VALUE -> "sum(" + selector() + ")";
            case RATE -> "sum(rate(" + selector() + w + "))";
            case INCREASE -> "sum(increase(" + selector() + w + "))";
          };
      return lhs + " " + op + " " + AlertConfig.number(threshold);
    }

    /** The condition as people read it, such as {@code rate(x[5m]) > 0}. */
    @Override
    public String toString() {
      return switch (function) {
            case VALUE -> selector();
            case RATE -> "rate(" + selector() + "[" + AlertConfig.duration(window) + "])";
            case INCREASE -> "increase(" + selector() + "[" + AlertConfig.duration(window) + "])";
          }
          + " "
          + op
          + " "
          + AlertConfig.number(threshold);
    }
  }

  /** The rule as a PromQL expression (both conditions when there is a {@code when}). */
  public String promql() {
    return when == null ? condition.promql() : condition.promql() + " and on() " + when.promql();
  }
}
