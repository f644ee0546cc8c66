package dev.cfn.ai.definition;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One thing wrong with an agent definition file, said so that a person can fix it without reading
 * the loader: where it is, how bad it is, what is wrong and what to write instead.
 *
 * <p>{@link #toString()} gives the compiler-style line the {@code cfn agent validate} command
 * prints: {@code file:line: error: message (fix: ...)}.
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
    return file
        + (line > 0 ? ":" + line : "")
        + ": "
        + severity.label()
        + ": "
        + message
        + " (fix: "
        + fix
        + ")";
  }
}
