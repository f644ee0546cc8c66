package dev.cfn.ai.model;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Removes an API key from text before the text reaches an exception message or a log line. Error
 * bodies sometimes quote the key the client sent, whole or in part ({@code "Incorrect API key
 * provided: sk-abc...xyz"}), so the redactor removes the configured key, its long prefixes and
 * suffixes, and anything shaped like a common key or bearer token.
 */
final class KeyRedactor {
  static final String MASK = "[REDACTED]";
  private static final int FRAGMENT = 8;
  private static final Pattern KEY_SHAPED =
      Pattern.compile("(?i)(sk-[A-Za-z0-9_*.\\-]{6,}|bearer\\s+[A-Za-z0-9_*.\\-~+/=]{6,})");

  private final List<String> fragments = new ArrayList<>();

  /**
   * Creates a redactor for one key.
   *
   * @param apiKey the configured key, or null when there is none
   */
  KeyRedactor(String apiKey) {
    if (apiKey != null && !apiKey.isBlank()) {
      fragments.add(apiKey);
      if (apiKey.length() >= 2 * FRAGMENT) {
        // Servers that mask a key still echo its head or tail; those parts are secret too.
        fragments.add(apiKey.substring(0, apiKey.length() / 2));
        fragments.add(apiKey.substring(apiKey.length() / 2));
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
