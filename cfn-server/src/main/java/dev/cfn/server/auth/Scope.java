package dev.cfn.server.auth;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One thing a token may act for, beside its role: {@code *} (everything), {@code agent:TYPE}
 * (agents of that type: spawn, stop, send and request to them), {@code swarm:NAME} (make, close,
 * and change the members of that swarm; each member acted on needs its {@code agent:TYPE} too),
 * {@code topic:TYPE} (publish on topics of that type; a trailing {@code *} matches a prefix, as in
 * {@code topic:cfn.task.*}) or {@code memory:NAMESPACE} (read and write memory in that namespace).
 * {@code agent:*}, {@code swarm:*}, {@code topic:*} and {@code memory:*} allow every target of
 * their kind. A token with no matching scope is refused (default deny).
 *
 * @param kind {@code *}, {@code agent}, {@code swarm}, {@code topic} or {@code memory}
 * @param pattern the name, a prefix ending in {@code *}, or {@code *}
 */
public record Scope(String kind, String pattern) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:/-]{1,255}\\*?|\\*");

  /** The scope that allows everything. */
  public static final Scope ALL = new Scope("*", "*");

  /** Checks the kind and the pattern. */
  public Scope {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(pattern, "pattern");
    if (!kind.equals("*")
        && !kind.equals("agent")
        && !kind.equals("swarm")
        && !kind.equals("topic")
        && !kind.equals("memory")) {
      throw new IllegalArgumentException(
          "scope kind '"
              + kind
              + "' is unknown (fix: write *, agent:TYPE, swarm:NAME, topic:TYPE or memory:NAMESPACE)");
    }
    if (!NAME.matcher(pattern).matches()) {
      throw new IllegalArgumentException(
          "scope '"
              + kind
              + ":"
              + pattern
              + "' has a bad name (fix: letters, digits and . _ : / - only, at most 255, an"
              + " optional * at the end)");
    }
  }

  /**
   * Parses {@code *}, {@code agent:planner}, {@code swarm:crew}, {@code topic:cfn.task.*} or {@code
   * memory:notes}.
   *
   * @throws IllegalArgumentException saying what is wrong and how to write it
   */
  public static Scope parse(String text) {
    String s = text == null ? "" : text.strip();
    if (s.equals("*")) {
      return ALL;
    }
    int colon = s.indexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException(
          "scope '"
              + text
              + "' is not KIND:NAME (fix: write *, agent:TYPE, swarm:NAME, topic:TYPE or memory:NAMESPACE)");
    }
    return new Scope(s.substring(0, colon), s.substring(colon + 1));
  }

  /** True when this scope allows acting on {@code name} of kind {@code targetKind}. */
  public boolean allows(String targetKind, String name) {
    if (kind.equals("*")) {
      return true;
    }
    if (!kind.equals(targetKind)) {
      return false;
    }
    if (pattern.equals("*")) {
      return true;
    }
    if (pattern.endsWith("*")) {
      return name.startsWith(pattern.substring(0, pattern.length() - 1));
    }
    return name.equals(pattern);
  }

  @Override
  public String toString() {
    return kind.equals("*") ? "*" : kind + ":" + pattern;
  }
}
