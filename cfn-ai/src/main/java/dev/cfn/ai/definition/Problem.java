package dev.cfn.ai.definition;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One thing wrong with an agent definition file, said so that a person can fix it without reading
 * the loader: where it is, how bad it is, what is wrong and what to write instead.
 *
 * <p>{@link #toString()} gives the compiler-style line the {@code cfn agent validate} command
 * prints: {@code file:line: error: message (fix: ...)}, always one line: control characters in the
 * file name or in values quoted by the message are escaped ({@link #printable(CharSequence)}).
 *
 * @param file the file (or folder, or path that does not exist) the problem is about
 * @param line the 1-based line in {@code file}, or 0 when the problem is about the file as a whole
 *     (it cannot be read, a folder holds no definitions)
 * @param severity {@link Severity#ERROR}: the file yields no definition; {@link Severity#WARNING}:
 *     the definition loads, but something in it is probably not what the author meant
 * @param message what is wrong, naming the field; never the value of an unknown field, which might
 *     be a secret
 * @param fix what to do about it
 */
public record Problem(Path file, int line, Severity severity, String message, String fix) {

  /** How bad a problem is. */
  public enum Severity {
    /** The file is invalid and yields no definition. */
    ERROR,
    /** The file loads, but probably not the way its author meant. */
    WARNING;

    /** The lowercase word used in printed problems: {@code error} or {@code warning}. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Checks that every component is present and the line is not negative. */
  public Problem {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(fix, "fix");
    if (line < 0) {
      throw new IllegalArgumentException("line must be 0 (whole file) or more, got " + line);
    }
  }

  /**
   * The problem as a JSON object's members, in this order: {@code file}, {@code line}, {@code
   * severity} ({@code error} or {@code warning}), {@code message}, {@code fix}. The one shape
   * {@code cfn agent validate --json}, the MCP tool {@code agent_validate} and the route {@code
   * POST /v1/agents/validate} report a problem in.
   *
   * @return a new ordered, modifiable map
   */
  public java.util.Map<String, Object> fields() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("file", file.toString());
    m.put("line", line);
    m.put("severity", severity.label());
    m.put("message", message);
    m.put("fix", fix);
    return m;
  }

  /** Whether this problem makes its file invalid. */
  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /**
   * The problem as one line: {@code file:line: error: message (fix: ...)}, or {@code file: error:
   * ...} when the line is 0.
   */
  @Override
  public String toString() {
    return printable(file.toString())
        + (line > 0 ? ":" + line : "")
        + ": "
        + severity.label()
        + ": "
        + printable(message)
        + " (fix: "
        + printable(fix)
        + ")";
  }

  /**
   * {@code text} made safe to print as part of one line: line breaks, tabs, other control
   * characters and the Unicode line separators and bidirectional overrides are written as escapes
   * ({@code \n}, {@code \r}, {@code \t}, {@code \u001B}), so a file name or a value with a newline
   * cannot forge a line of {@code cfn agent validate} output, nor an escape sequence restyle the
   * terminal. Other text is returned as it is.
   *
   * @param text what to print
   * @return the text with every unprintable character escaped
   */
  public static String printable(CharSequence text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!isUnprintable(c)) {
        if (out != null) {
          out.append(c);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(text.length() + 16).append(text, 0, i);
      }
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append(String.format("\\u%04X", (int) c));
      }
    }
    return out == null ? text.toString() : out.toString();
  }

  /**
   * Whether {@code c} is a control character, a Unicode line or paragraph separator, or a
   * bidirectional override or isolate: the characters that break or disguise a printed line.
   */
  static boolean isUnprintable(char c) {
    return Character.isISOControl(c)
        || c == '\u2028'
        || c == '\u2029'
        || (c >= '\u202A' && c <= '\u202E')
        || (c >= '\u2066' && c <= '\u2069');
  }
}
