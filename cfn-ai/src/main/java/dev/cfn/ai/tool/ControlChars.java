package dev.cfn.ai.tool;

/**
 * Escapes text that came from a model or a file system before it goes into a line of output (an
 * audit log line, a {@code file_list} line), so that no value can end the line and forge the next.
 */
final class ControlChars {
  private ControlChars() {}

  /**
   * {@code text} with control characters (C0, DEL, C1), the Unicode line and paragraph separators
   * and backslashes escaped as {@code \n}, {@code \r}, {@code \t}, a doubled backslash or a
   * backslash, {@code u} and four hex digits: one line, whatever the text holds.
   */
  static String escape(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String replacement =
          switch (c) {
            case '\\' -> "\\\\";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default ->
                Character.isISOControl(c) || c == 0x2028 || c == 0x2029
                    ? String.format("\\u%04x", (int) c)
                    : null;
          };
      if (replacement != null && out == null) {
        out = new StringBuilder(text.length() + 8).append(text, 0, i);
      }
      if (out != null) {
        if (replacement != null) {
          out.append(replacement);
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? text : out.toString();
  }
}
