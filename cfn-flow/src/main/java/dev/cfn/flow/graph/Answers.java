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
