package dev.cfn.server.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One scrape read back as numbers: each sample line of the Prometheus text format ({@code
 * name{label="value",...} number}) as a name, its labels and its value. The alert rules evaluate
 * these, so a rule sees exactly what a Prometheus server scraping {@code /metrics} would see.
 */
public final class Samples {
  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;

  private Samples(List<Sample> samples) {
    this.samples = samples;
  }

  /** Every sample. */
  public List<Sample> all() {
    return samples;
  }

  /**
   * The sum of the samples named {@code name} whose labels include {@code labels}; empty when none
   * matches (a metric that is not there is not 0).
   */
  public java.util.OptionalDouble sum(String name, Map<String, String> labels) {
    double sum = 0;
    boolean any = false;
    for (Sample s : samples) {
      if (s.name.equals(name) && s.labels.entrySet().containsAll(labels.entrySet())) {
        sum += s.value;
        any = true;
      }
    }
    return any ? java.util.OptionalDouble.of(sum) : java.util.OptionalDouble.empty();
  }

  /** Parses the Prometheus text exposition format (0.0.4); comment lines are skipped. */
  public static Samples parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Sample s = line(line);
      if (s != null) {
        out.add(s);
      }
    }
    return new Samples(List.copyOf(out));
  }

  private static Sample line(String line) {
    int i = 0;
    int n = line.length();
    while (i < n && line.charAt(i) != '{' && line.charAt(i) != ' ') {
      i++;
    }
    String name = line.substring(0, i);
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < n && line.charAt(i) == '{') {
      i++;
      while (i < n && line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        if (eq < 0 || eq + 1 >= n || line.charAt(eq + 1) != '"') {
          return null;
        }
        String label = line.substring(i, eq).strip();
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        while (j < n && line.charAt(j) != '"') {
          char c = line.charAt(j);
          if (c == '\\' && j + 1 < n) {
            char e = line.charAt(++j);
            value.append(e == 'n' ? '\n' : e);
          } else {
            value.append(c);
          }
          j++;
        }
        labels.put(label, value.toString());
        i = j + 1;
        if (i < n && line.charAt(i) == ',') {
          i++;
        }
      }
      i++;
    }
    String[] rest = line.substring(Math.min(i, n)).strip().split("\\s+");
    if (rest.length == 0 || rest[0].isEmpty()) {
      return null;
    }
    double v =
        switch (rest[0]) {
          case "+Inf" -> Double.POSITIVE_INFINITY;
          case "-Inf" -> Double.NEGATIVE_INFINITY;
          case "NaN" -> Double.NaN;
          default -> {
            try {
              yield Double.parseDouble(rest[0]);
            } catch (NumberFormatException e) {
              yield Double.NaN;
            }
          }
        };
    return new Sample(name, Map.copyOf(labels), v);
  }
}
