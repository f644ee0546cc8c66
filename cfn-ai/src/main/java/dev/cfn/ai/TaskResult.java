package dev.cfn.ai;

import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.Usage;
import java.util.Objects;

/**
 * What an {@link LlmAgent} answers when it finished a {@link Task}: the model's final text and what
 * the run took.
 *
 * @param text the model's final answer
 * @param usage the tokens of every model call of the run, replayed ones included
 * @param turns how many model calls the run took
 * @param toolCalls how many tool calls the model made (refused ones included)
 * @param stopReason why the model stopped its last answer: {@link StopReason#END} normally, {@link
 *     StopReason#MAX_TOKENS} when the answer was cut at the token limit
 */
public record TaskResult(
    String text, Usage usage, int turns, int toolCalls, StopReason stopReason) {
  /** Checks the parts. */
  public TaskResult {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(usage, "usage");
    Objects.requireNonNull(stopReason, "stopReason");
  }
}
