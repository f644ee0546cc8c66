package dev.cfn.certify;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scoring of check 8: the seed's eight monitored metrics, each mapped to the names cfn's {@code
 * /metrics} exposes, judged over successive scrapes of the Prometheus text format. A metric is
 * <em>present</em> when every series it needs is in the last scrape, and <em>moving</em> when every
 * series that must move took at least two different values across the scrapes: for the latency
 * summary its {@code _count} (the quantiles are windows that may read the same twice), for a family
 * of several series the ones the check's load drives (errors of kinds handler and delivery, the
 * carriers' utilization, both queue sizes). A frozen series beside a moving one does not make the
 * metric moving; the frozen ones are named. Coverage = metrics present and moving / 8.
 */
final class MonitoringCoverage {
  private MonitoringCoverage() {}

  /**
   * One of the seed's eight.
   *
   * @param seedName what the seed calls it
   * @param series the series that must all be present: a metric name, optionally with one label
   *     matcher ({@code name{quantile="0.95"}})
   * @param moves the series that must each move (present too): the ones the check's load drives
   */
  record Metric(String seedName, List<String> series, List<String> moves) {
    Metric(String seedName, List<String> series) {
      this(seedName, series, series);
    }
  }

  /** The seed's eight, under the names agreed for cfn's {@code /metrics}. */
  static final List<Metric> SEED_EIGHT =
      List.of(
          new Metric("messages per second", List.of("cfn_messages_delivered_total")),
          new Metric(
              "latency P50/P95/P99",
              List.of(
                  "cfn_message_latency_seconds{quantile=\"0.5\"}",
                  "cfn_message_latency_seconds{quantile=\"0.95\"}",
                  "cfn_message_latency_seconds{quantile=\"0.99\"}"),
              List.of("cfn_message_latency_seconds_count")),
          new Metric("queue sizes", List.of("cfn_mailbox_depth", "cfn_journal_backlog")),
          new Metric(
              "pool utilization",
              List.of("cfn_pool_utilization_ratio"),
              List.of("cfn_pool_utilization_ratio{pool=\"carriers\"}")),
          new Metric("memory", List.of("cfn_memory_used_ratio")),
          new Metric("CPU", List.of("cfn_cpu_usage_ratio")),
          new Metric(
              "error rate",
              List.of("cfn_errors_total"),
              List.of("cfn_errors_total{kind=\"handler\"}", "cfn_errors_total{kind=\"delivery\"}")),
          new Metric("connection count", List.of("cfn_http_connections_active")));

  /** What one metric showed. */
  record Finding(
      String seedName, boolean present, boolean moving, List<String> missing, List<String> frozen) {
    boolean covered() {
      return present && moving;
    }

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("metric", seedName);
      m.put("present", present);
      m.put("moving", moving);
      m.put("missing", missing);
      m.put("frozen", frozen);
      return m;
    }
  }

  /** The eight findings over {@code scrapes} (each the text of one scrape, oldest first). */
  static List<Finding> judge(List<String> scrapes) {
    List<Map<String, Double>> parsed = scrapes.stream().map(MonitoringCoverage::parse).toList();
    List<Finding> out = new ArrayList<>();
    for (Metric m : SEED_EIGHT) {
      Map<String, Double> last = parsed.isEmpty() ? Map.of() : parsed.getLast();
      List<String> missing = new ArrayList<>();
      for (String s : m.series()) {
        if (matching(last, s).isEmpty()) {
          missing.add(s);
        }
      }
      for (String s : m.moves()) {
        if (!m.series().contains(s) && matching(last, s).isEmpty()) {
          missing.add(s);
        }
      }
      List<String> frozen = new ArrayList<>();
      for (String s : m.moves()) {
        boolean moved = false;
        for (String key : matching(last, s)) {
          Set<Double> values = new HashSet<>();
          for (Map<String, Double> scrape : parsed) {
            Double v = scrape.get(key);
            if (v != null) {
              values.add(v);
            }
          }
          moved |= values.size() >= 2;
        }
        if (!moved) {
          frozen.add(s);
        }
      }
      out.add(new Finding(m.seedName(), missing.isEmpty(), frozen.isEmpty(), missing, frozen));
    }
    return out;
  }

  /** Coverage in percent: metrics present and moving / 8. */
  static double coverage(List<Finding> findings) {
    return 100.0 * findings.stream().filter(Finding::covered).count() / SEED_EIGHT.size();
  }

  /** The series keys of {@code scrape} that {@code wanted} names. */
  private static List<String> matching(Map<String, Double> scrape, String wanted) {
    int brace = wanted.indexOf('{');
    String name = brace < 0 ? wanted : wanted.substring(0, brace);
    String label = brace < 0 ? null : wanted.substring(brace + 1, wanted.length() - 1);
    List<String> keys = new ArrayList<>();
    for (String key : scrape.keySet()) {
      int b = key.indexOf('{');
      String n = b < 0 ? key : key.substring(0, b);
      if (!n.equals(name)) {
        continue;
      }
      if (label == null
          || b >= 0 && labels(key.substring(b + 1, key.length() - 1)).contains(label)) {
        keys.add(key);
      }
    }
    return keys;
  }

  private static List<String> labels(String inside) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < inside.length(); i++) {
      char c = inside.charAt(i);
      if (c == '\\' && quoted && i + 1 < inside.length()) {
        cur.append(c).append(inside.charAt(++i));
        continue;
      }
      if (c == '"') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        out.add(cur.toString().strip());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (!cur.isEmpty()) {
      out.add(cur.toString().strip());
    }
    return out;
  }

  /**
   * The samples of a Prometheus text exposition: series key ({@code name} or {@code name{labels}},
   * as written) to value; comments, blank and unreadable lines are skipped.
   */
  static Map<String, Double> parse(String text) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int end = line.indexOf('}');
      int space = line.indexOf(' ', Math.max(0, end));
      if (space < 0) {
        continue;
      }
      String key = line.substring(0, space);
      String rest = line.substring(space + 1).strip();
      int sp = rest.indexOf(' ');
      String value = sp < 0 ? rest : rest.substring(0, sp);
      try {
        out.put(
            key,
            switch (value) {
              case "+Inf" -> Double.POSITIVE_INFINITY;
              case "-Inf" -> Double.NEGATIVE_INFINITY;
              default -> Double.parseDouble(value);
            });
      } catch (NumberFormatException e) {
        // not a sample
      }
    }
    return out;
  }
}
