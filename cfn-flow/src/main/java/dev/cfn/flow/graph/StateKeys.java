package dev.cfn.flow.graph;

import java.util.regex.Pattern;

/** The rule for keys of a run's state: 1 to 200 characters, no line breaks. */
final class StateKeys {
  private static final Pattern KEY = Pattern.compile("[^\\r\\n]{1,200}");

  private StateKeys() {}

  static void check(String key) {
    if (key == null || !KEY.matcher(key).matches()) {
      throw new IllegalArgumentException(
          "state key '"
              + key
              + "' must be 1 to 200 characters without line breaks (fix: use a name like"
              + " 'topic' or 'draft.v2')");
    }
  }
}
