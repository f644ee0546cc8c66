package dev.cfn.store.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One thing that happened, for the audit log: who ({@code principal}) did what ({@code action}) to
 * what ({@code target}), when, with what {@link Outcome}, and a few details.
 *
 * <p>Secrets never reach the log: the constructor redacts detail values under secret-like keys,
 * bearer credentials and token-like strings in every text field (see the package documentation).
 * Give the id of a token, never the token. The details are kept sorted by key (the canonical order
 * the log hashes). Limits: {@code principal}, {@code action} and {@code target} at most {@value
 * #MAX_NAME} bytes of UTF-8 without control characters; at most {@value #MAX_DETAILS} details, keys
 * of at most {@value #MAX_KEY} bytes, values of at most {@value #MAX_VALUE} bytes.
 *
 * @param time when it happened
 * @param principal who acted: a token id, {@code user:NAME}, {@code anonymous}, {@code cfn}
 * @param action what was done, dotted: {@code auth.failure}, {@code token.create}, {@code
 *     dlq.replay}, {@code keys.rotate}
 * @param target what it was done to: an agent id, a route, a token id; may be empty
 * @param outcome whether it was done
 * @param detail more facts (a reason, a count, a remote address), sorted by key
 */
public record AuditEvent(
    Instant time,
    String principal,
    String action,
    String target,
    Outcome outcome,
    Map<String, String> detail) {
  /** Longest principal, action or target, in UTF-8 bytes. */
  public static final int MAX_NAME = 1024;

  /** Most details per event. */
  public static final int MAX_DETAILS = 32;

  /** Longest detail key, in UTF-8 bytes. */
  public static final int MAX_KEY = 64;

  /** Longest detail value, in UTF-8 bytes. */
  public static final int MAX_VALUE = 4096;

  /** Whether the action was done. */
  public enum Outcome {
    /** Done. */
    SUCCESS,
    /** Refused: not authenticated, not authorized, rate-limited, invalid. */
    DENIED,
    /** Attempted and failed. */
    FAILURE
  }

  /** Checks the limits, redacts secrets and sorts the details. */
  public AuditEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(outcome, "outcome");
    principal = name("principal", principal, false);
    action = name("action", action, false);
    target = name("target", target == null ? "" : target, true);
    Map<String, String> d = detail == null ? Map.of() : detail;
    if (d.size() > MAX_DETAILS) {
      throw new IllegalArgumentException(
          "an audit event has "
              + d.size()
              + " details, more than "
              + MAX_DETAILS
              + " (fix: keep the few facts that matter)");
    }
    TreeMap<String, String> sorted = new TreeMap<>();
    for (Map.Entry<String, String> e : d.entrySet()) {
      String key = e.getKey();
      if (key == null || key.isEmpty() || bytes(key) > MAX_KEY || hasControl(key)) {
        throw new IllegalArgumentException(
            "audit detail key '"
                + key
                + "' is empty, longer than "
                + MAX_KEY
                + " bytes or holds control characters (fix: a short plain name)");
      }
      String value = Objects.requireNonNullElse(e.getValue(), "");
      value = Redaction.secretKey(key) ? Redaction.MARK : Redaction.scrub(value);
      if (bytes(value) > MAX_VALUE) {
        throw new IllegalArgumentException(
            "audit detail '"
                + key
                + "' is "
                + bytes(value)
                + " bytes, more than "
                + MAX_VALUE
                + " (fix: shorten it; the log keeps facts, not payloads)");
      }
      sorted.put(key, value);
    }
    detail = Collections.unmodifiableMap(new LinkedHashMap<>(sorted));
  }

  /** An event that happens now. */
  public static AuditEvent now(
      String principal, String action, String target, Outcome outcome, Map<String, String> detail) {
    return new AuditEvent(Instant.now(), principal, action, target, outcome, detail);
  }

  private static String name(String what, String value, boolean mayBeEmpty) {
    if (value == null || (!mayBeEmpty && value.isBlank())) {
      throw new IllegalArgumentException(
          "an audit event needs a " + what + " (fix: name who acted and what was done)");
    }
    if (bytes(value) > MAX_NAME || hasControl(value)) {
      throw new IllegalArgumentException(
          "audit "
              + what
              + " is longer than "
              + MAX_NAME
              + " bytes or holds control characters (fix: a short one-line name)");
    }
    return Redaction.scrub(value);
  }

  private static int bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static boolean hasControl(String s) {
    return s.chars().anyMatch(Character::isISOControl);
  }
}
