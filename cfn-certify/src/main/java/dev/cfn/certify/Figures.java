package dev.cfn.certify;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Number formatting and order statistics shared by the checks and the reports. */
final class Figures {
  private Figures() {}

  /** A figure with as many decimals as it needs (at most 3), thousands grouped. */
  static String format(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.format(Locale.ROOT, "%,d", (long) v);
    }
    double a = Math.abs(v);
    String pattern = a >= 100 ? "%,.1f" : a >= 1 ? "%,.2f" : "%,.3f";
    if (a < 0.01) {
      pattern = "%.4f";
    }
    String text = String.format(Locale.ROOT, pattern, v);
    if (text.indexOf('.') >= 0) { // 44.40 -> 44.4, 99.90 -> 99.9
      text = text.replaceAll("0+$", "");
      text = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    }
    return text;
  }

  /** The nearest-rank percentile {@code p} (0 to 100) of {@code values}; NaN when empty. */
  static double percentile(List<Double> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  /** count, p50, max (and the values) of {@code values}. */
  static Map<String, Object> summary(List<Double> values) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", values.size());
    m.put("p50", percentile(values, 50));
    m.put("max", percentile(values, 100));
    m.put("values", List.copyOf(values));
    return m;
  }
}
