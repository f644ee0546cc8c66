package dev.cfn.flow.spec;

import java.util.List;

/**
 * A graph file cannot be run: its message lists every problem found, one a line, each as {@code
 * FILE:LINE: error: what (fix: how)}. Nothing was started.
 */
public final class GraphFileException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  GraphFileException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  /** The problems, one per entry. */
  public List<String> problems() {
    return problems;
  }
}
