package dev.cfn.flow.graph;

import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.flow.graph.Messages.WorkerAnswer;

/**
 * Reads an agent's answer to a task: a {@code String} or an {@link TaskResult} (what an {@code
 * LlmAgent} answers) is the task's result; a {@link TaskFailed} is a failed attempt, and so is any
 * other payload (the message says what to send instead).
 */
final class Answers {
  private Answers() {}

  /** The prefix of a budget failure's text, as {@link #of} writes a {@code BUDGET_EXHAUSTED}. */
  private static final String EXHAUSTED = TaskFailed.Kind.BUDGET_EXHAUSTED.name() + ": ";

  /** True when {@code text} (a failed answer's, or a task's error) is a budget failure. */
  static boolean exhausted(String text) {
    return text != null && text.startsWith(EXHAUSTED);
  }

  /** The text of a budget failure whose reason is {@code reason}. */
  static String budgetFailure(String reason) {
    return EXHAUSTED + reason;
  }

  static WorkerAnswer of(Object payload) {
    return switch (payload) {
      case String s -> new WorkerAnswer(true, s);
      case TaskResult r -> new WorkerAnswer(true, r.text());
      case TaskFailed f -> new WorkerAnswer(false, f.kind() + ": " + f.reason());
      case WorkerAnswer a -> a;
      default ->
          new WorkerAnswer(
              false,
              "the agent answered a "
                  + payload.getClass().getName()
                  + " (fix: answer a task with a String, or a TaskFailed to fail it; TaskWorker"
                  + " does this for you)");
    };
  }
}
