package dev.cfn.ai;

import java.util.Objects;

/**
 * A task for an {@link LlmAgent}: the user's request, sent as a message payload. A plain {@code
 * String} payload is taken as a task too.
 *
 * <pre>{@code
 * Envelope reply = runtime.request(AgentId.of("reviewer", "1"),
 *     new Task("Review the diff in PR 42"), Duration.ofMinutes(5)).join();
 * switch (reply.payload()) {
 *   case TaskResult r -> System.out.println(r.text());
 *   case TaskFailed f -> System.err.println(f.reason());
 *   default -> throw new IllegalStateException();
 * }
 * }</pre>
 *
 * @param prompt what the agent is asked to do; not blank
 */
public record Task(String prompt) {
  /** Checks that there is a prompt. */
  public Task {
    Objects.requireNonNull(prompt, "prompt");
    if (prompt.isBlank()) {
      throw new IllegalArgumentException("a task needs a prompt: say what the agent should do");
    }
  }
}
