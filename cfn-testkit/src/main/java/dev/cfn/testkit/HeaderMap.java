package dev.cfn.testkit;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * Request headers as an immutable map with case-insensitive keys (first value of each header),
 * whose {@link #toString()} hides the values of credential headers, so a request printed in a test
 * failure never shows an API key.
 */
final class HeaderMap extends AbstractMap<String, String> {
  /** Headers whose values are credentials: never printed, never written to a cassette. */
  static final Set<String> SECRET_HEADERS =
      Set.of(
          "authorization",
          "x-api-key",
          "api-key",
          "proxy-authorization",
          "cookie",
          "set-cookie",
          "x-goog-api-key");

  private final Map<String, String> byName;

  HeaderMap(Map<String, String> headers) {
    TreeMap<String, String> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    map.putAll(headers);
    this.byName = Collections.unmodifiableMap(map);
  }

  static boolean isSecret(String name) {
    return SECRET_HEADERS.contains(name.toLowerCase(Locale.ROOT));
  }

  @Override
  public String get(Object key) {
    return byName.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return byName.containsKey(key);
  }

  @Override
  public Set<Entry<String, String>> entrySet() {
    return byName.entrySet();
  }

  @Override
  public String toString() {
    StringJoiner out = new StringJoiner(", ", "{", "}");
    byName.forEach((name, value) -> out.add(name + "=" + (isSecret(name) ? "[REDACTED]" : value)));
    return out.toString();
  }
}
