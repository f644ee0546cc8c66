package dev.cfn.store.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns what a user or an agent types into a search box into an FTS5 query that cannot be a syntax
 * error, so that {@code search} never fails with an SQL error about the query.
 *
 * <p>The accepted language is small: words separated by spaces, all of which must match; a word
 * ending in {@code *} matches as a prefix ({@code deploy*}); text in double quotes matches as a
 * phrase ({@code "blue green"}, an unclosed quote runs to the end); {@code OR} between two terms
 * matches either. Everything else is literal text: each term is emitted as an FTS5 string (quoted,
 * inner quotes doubled), so FTS5 operators and punctuation ({@code AND}, {@code NOT}, {@code
 * NEAR(}, {@code col:}, {@code ^}, parentheses) are searched as words, never parsed. Terms with no
 * letter or digit (which the tokenizer would drop) are dropped; a query left empty is refused.
 */
final class MemorySearchQuery {
  /** The longest query accepted, in characters. */
  static final int MAX_LENGTH = 1_000;

  private static final String OR = "OR";

  private MemorySearchQuery() {}

  /** The FTS5 {@code MATCH} expression for {@code query}; see the class comment. */
  static String toFts(String query) {
    if (query == null || query.isBlank()) {
      throw new IllegalArgumentException("the search query is empty: give one or more words");
    }
    if (query.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "the search query has "
              + query.length()
              + " characters, more than the "
              + MAX_LENGTH
              + " allowed: search for fewer words");
    }
    List<String> parts = new ArrayList<>(); // quoted phrases, and OR between them
    int i = 0;
    int n = query.length();
    while (i < n) {
      char c = query.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
        continue;
      }
      String text;
      boolean prefix = false;
      if (c == '"') {
        int close = query.indexOf('"', i + 1);
        int end = close < 0 ? n : close;
        text = query.substring(i + 1, end);
        i = close < 0 ? n : close + 1;
        if (i < n && query.charAt(i) == '*') {
          prefix = true;
          i++;
        }
      } else {
        int end = i;
        while (end < n && !Character.isWhitespace(query.charAt(end)) && query.charAt(end) != '"') {
          end++;
        }
        text = query.substring(i, end);
        i = end;
        if (text.equals(OR)) {
          parts.add(OR);
          continue;
        }
        while (text.endsWith("*")) {
          text = text.substring(0, text.length() - 1);
          prefix = true;
        }
      }
      if (hasWordCharacter(text)) {
        parts.add('"' + text.replace("\"", "\"\"") + '"' + (prefix ? "*" : ""));
      }
    }
    List<String> kept = new ArrayList<>();
    for (int p = 0; p < parts.size(); p++) {
      String part = parts.get(p);
      if (part.equals(OR)) {
        boolean between =
            !kept.isEmpty()
                && !kept.getLast().equals(OR)
                && p + 1 < parts.size()
                && !parts.get(p + 1).equals(OR);
        if (!between) {
          continue; // a dangling OR is not an operator and not worth searching for
        }
      }
      kept.add(part);
    }
    if (kept.isEmpty()) {
      throw new IllegalArgumentException(
          "the search query '" + query + "' has no words to search for: give letters or digits");
    }
    return String.join(" ", kept);
  }

  private static boolean hasWordCharacter(String text) {
    return text.codePoints().anyMatch(Character::isLetterOrDigit);
  }
}
