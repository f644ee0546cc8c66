package dev.cfn.certify;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The target of each check: the seed's by default, any of them overridden by a targets file.
 *
 * <p>A targets file has one {@code name = value} per line ({@code latency = 5}, {@code reliability
 * = 100}), the names being {@link CheckId#key()}s and the values plain numbers in the check's unit;
 * blank lines and lines starting with {@code #} are ignored. The direction of each target (at least
 * or at most) is the check's and cannot be changed.
 */
public final class Targets {
  private final Map<CheckId, Double> values;

  private Targets(Map<CheckId, Double> values) {
    this.values = Collections.unmodifiableMap(new EnumMap<>(values));
  }

  /** The seed's targets. */
  public static Targets defaults() {
    Map<CheckId, Double> m = new EnumMap<>(CheckId.class);
    for (CheckId id : CheckId.values()) {
      m.put(id, id.defaultTarget());
    }
    return new Targets(m);
  }

  /**
   * The seed's targets with the ones {@code file} names replaced.
   *
   * @throws IOException when the file cannot be read
   * @throws IllegalArgumentException naming the file, the line and the fix when a line is wrong
   */
  public static Targets load(Path file) throws IOException {
    List<String> lines = dev.cfn.core.io.TextFile.readUtf8(file).lines().toList();
    Map<CheckId, Double> m = new EnumMap<>(defaults().values);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = file + ":" + (i + 1) + ": ";
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            where + "expected name = value, found '" + line + "' (fix: e.g. latency = 10)");
      }
      CheckId id;
      try {
        id = CheckId.of(line.substring(0, eq).strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage(), e);
      }
      String text = line.substring(eq + 1).strip();
      double v;
      try {
        v = Double.parseDouble(text);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            where
                + "'"
                + text
                + "' is not a number (fix: a plain number in "
                + id.unit()
                + ", e.g. "
                + id.key()
                + " = "
                + Figures.format(id.defaultTarget())
                + ")",
            e);
      }
      if (!Double.isFinite(v) || v < 0 || ("%".equals(id.unit()) && v > 100)) {
        throw new IllegalArgumentException(
            where
                + id.key()
                + " = "
                + text
                + " is out of range (fix: a number from 0"
                + ("%".equals(id.unit()) ? " to 100" : "")
                + " in "
                + id.unit()
                + ")");
      }
      m.put(id, v);
    }
    return new Targets(m);
  }

  /** The target of {@code id}, in its unit. */
  public double of(CheckId id) {
    return values.get(id);
  }

  /** Every target. */
  public Map<CheckId, Double> asMap() {
    return values;
  }
}
