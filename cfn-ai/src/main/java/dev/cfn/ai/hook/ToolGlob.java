package dev.cfn.ai.hook;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which tools a tool hook applies to: a glob on the tool's name, {@code *} for any characters and
 * {@code ?} for one, with {@code |} between alternatives ({@code file_*}, {@code
 * file_write|memory_put}, as Claude Code's {@code Edit|Write} matchers are written). An empty glob,
 * or {@code *}, matches every tool. Matching is exact otherwise: case counts.
 */
record ToolGlob(String glob, List<Pattern> alternatives) {

  static ToolGlob of(String glob) {
    if (glob == null) {
      throw new IllegalArgumentException("a tool glob is required; use \"*\" for every tool");
    }
    List<Pattern> patterns = new ArrayList<>();
    for (String alt : glob.strip().split("\\|", -1)) {
      String a = alt.strip();
      if (a.isEmpty() && !glob.isBlank()) {
        throw new IllegalArgumentException(
            "tool glob '" + glob + "' has an empty alternative; remove the extra '|'");
      }
      StringBuilder regex = new StringBuilder();
      for (char c : a.toCharArray()) {
        switch (c) {
          case '*' -> regex.append(".*");
          case '?' -> regex.append('.');
          default -> regex.append(Pattern.quote(String.valueOf(c)));
        }
      }
      patterns.add(Pattern.compile(a.isEmpty() ? ".*" : regex.toString()));
    }
    return new ToolGlob(glob, List.copyOf(patterns));
  }

  boolean matches(String tool) {
    for (Pattern p : alternatives) {
      if (p.matcher(tool).matches()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return glob;
  }
}
