package dev.cfn.ai.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Removes an API key from text before the text reaches an exception message or a log line. Error
 * bodies sometimes quote the key the client sent, whole or in part ({@code "Incorrect API key
 * provided: sk-abc...xyz"}), so the redactor removes the configured key, its long prefixes and
 * suffixes, every configured header value (headers such as {@code X-Api-Key} or {@code
 * Authorization} carry secrets too), and anything shaped like a common key or bearer token.
 */
final class KeyRedactor {
  static final String MASK = "[REDACTED]";
  private static final int FRAGMENT = 8;
  private static final int MIN_SECRET = 8;
  private static final Pattern KEY_SHAPED =
      Pattern.compile("(?i)(sk-[A-Za-z0-9_*.\\-]{6,}|bearer\\s+[A-Za-z0-9_*.\\-~+/=]{6,})");

  private final List<String> fragments = new ArrayList<>();

  /**
   * Creates a redactor for one key.
   *
   * @param apiKey the configured key, or null when there is none
   */
  KeyRedactor(String apiKey) {
    this(apiKey, List.of());
  }

  /**
   * Creates a redactor for a key and the values of the configured headers.
   *
   * @param apiKey the configured key, or null when there is none
   * @param secrets further secret values (header values); values shorter than {@value #MIN_SECRET}
   *     characters are too common to be secrets and are left alone
   */
  KeyRedactor(String apiKey, Collection<String> secrets) {
    add(apiKey);
    for (String s : secrets) {
      if (s != null && s.strip().length() >= MIN_SECRET) {
        add(s.strip());
      }
    }
    // Longest first, so that a fragment never leaves part of a longer secret behind.
    fragments.sort(Comparator.comparingInt(String::length).reversed());
  }

  private void add(String secret) {
    if (secret != null && !secret.isBlank()) {
      fragments.add(secret);
      if (secret.length() >= 2 * FRAGMENT) {
        // Servers that mask a key still echo its head or tail; those parts are secret too.
        fragments.add(secret.substring(0, secret.length() / 2));
        fragments.add(secret.substring(secret.length() / 2));
      }
    }
  }

  /**
   * Returns the text without the key.
   *
   * @param text any text, or null
   * @return the text with every trace of the key replaced by {@value #MASK}
   */
  String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String f : fragments) {
      out = out.replace(f, MASK);
    }
    return KEY_SHAPED.matcher(out).replaceAll(MASK);
  }
}
