package dev.cfn.ai;

import java.util.Objects;

/**
 * What an {@link LlmAgent} answers when it could not finish a {@link Task}.
 *
 * @param kind why, for code that reacts to it
 * @param reason what happened and what to do, for people
 */
public record TaskFailed(Kind kind, String reason) {

  /** Why a task failed. */
  public enum Kind {
    /** The agent's budget (or its swarm's) is exhausted; the agent stopped itself. */
    BUDGET_EXHAUSTED,
    /** The model was still calling tools when the turn limit was reached. */
    MAX_TURNS,
    /** The task took longer than the definition's {@code lifecycle.timeout_ms}. */
    TIMEOUT,
    /** A model call failed (after the provider's own retries and fallbacks). */
    MODEL_ERROR,
    /** A pre-task hook blocked the task; the reason is the hook's message. */
    BLOCKED,
    /** The message was not a task: not a {@link Task} or a non-blank string. */
    INVALID_TASK,
    /** Anything else: the model could not be resolved, the call log failed, and so on. */
    ERROR
  }

  /** Checks the parts. */
  public TaskFailed {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(reason, "reason");
  }
}
