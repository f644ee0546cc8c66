package dev.cfn.flow.graph;

/**
 * A task graph that cannot run: a cycle, a dependency on a task that does not exist, a duplicate
 * task, a task without an agent, or an agent type the runtime does not know. Thrown before anything
 * runs; the message names the task and the fix.
 */
public final class GraphValidationException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  GraphValidationException(String message) {
    super(message);
  }
}
