package dev.cfn.core;

import java.util.Arrays;

/**
 * A subscription pattern over dot-separated topic types: {@code *} matches exactly one segment,
 * {@code #} matches zero or more, any other segment matches itself.
 */
final class TopicPattern {
  private final String text;
  private final String[] segments;

  private TopicPattern(String text, String[] segments) {
    this.text = text;
    this.segments = segments;
  }

  static TopicPattern parse(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      throw new IllegalArgumentException(
          "topic pattern is empty; use e.g. 'tasks.#' or 'swarm.*.status'");
    }
    String[] parts = pattern.split("\\.", -1);
    for (String part : parts) {
      if (part.isEmpty()) {
        throw new IllegalArgumentException(
            "topic pattern '" + pattern + "' has an empty segment; remove the extra '.'");
      }
      if (!part.equals("*") && !part.equals("#") && !part.matches("[A-Za-z0-9_-]+")) {
        throw new IllegalArgumentException(
            "topic pattern '"
                + pattern
                + "' has segment '"
                + part
                + "': use letters, digits, '_', '-', or a whole-segment '*' or '#'");
      }
    }
    return new TopicPattern(pattern, parts);
  }

  boolean matches(String topicType) {
    return match(0, topicType.split("\\.", -1), 0);
  }

  private boolean match(int p, String[] topic, int t) {
    while (p < segments.length) {
      String seg = segments[p];
      if (seg.equals("#")) {
        if (p == segments.length - 1) {
          return true;
        }
        for (int k = t; k <= topic.length; k++) {
          if (match(p + 1, topic, k)) {
            return true;
          }
        }
        return false;
      }
      if (t >= topic.length || !(seg.equals("*") || seg.equals(topic[t]))) {
        return false;
      }
      p++;
      t++;
    }
    return t == topic.length;
  }

  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TopicPattern other && Arrays.equals(segments, other.segments);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(segments);
  }
}
