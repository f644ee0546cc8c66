package dev.cfn.flow.spec;

import dev.cfn.flow.graph.RunState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A task's input as a graph file writes it: text with {@code {{state.KEY}}} (a value of the run's
 * state) and {@code {{result.TASK}}} (a finished task's result) placeholders, filled in when the
 * task becomes ready. A missing value (a skipped task, an unset key) is filled with nothing.
 */
final class InputTemplate implements Function<RunState, String> {
  static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*(state|result)\\.([^}\\s]+)\\s*}}");

  private final String text;

  InputTemplate(String text) {
    this.text = text;
  }

  /** The tasks whose results the template reads. */
  List<String> results() {
    List<String> out = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(text);
    while (m.find()) {
      if (m.group(1).equals("result")) {
        out.add(m.group(2));
      }
    }
    return out;
  }

  /** What looks like a placeholder but is not one of the two kinds, else null. */
  String malformed() {
    String rest = PLACEHOLDER.matcher(text).replaceAll("");
    int open = rest.indexOf("{{");
    if (open < 0) {
      return null;
    }
    int close = rest.indexOf("}}", open);
    return rest.substring(open, close < 0 ? Math.min(rest.length(), open + 30) : close + 2);
  }

  @Override
  public String apply(RunState s) {
    Matcher m = PLACEHOLDER.matcher(text);
    StringBuilder out = new StringBuilder(text.length() + 256);
    while (m.find()) {
      String value =
          m.group(1).equals("state")
              ? s.get(m.group(2)).orElse("")
              : s.result(m.group(2)).orElse("");
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
