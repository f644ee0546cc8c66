package dev.cfn.ai.model;

import java.util.List;
import java.util.Objects;

/**
 * A model's answer to one {@link ChatRequest}, the same for both protocols and for streamed and
 * non-streamed calls (a streamed call returns the assembled answer).
 *
 * @param text the text the model produced (empty, never null, when it only called tools)
 * @param toolCalls the tools it asked for, in order (empty when none)
 * @param stopReason why it stopped
 * @param usage the tokens the call consumed ({@link Usage#ZERO} when the server reported none)
 * @param model the model that answered, as the server named it (the requested one if it did not)
 */
public record ChatResponse(
    String text, List<ToolCall> toolCalls, StopReason stopReason, Usage usage, String model) {
  public ChatResponse {
    text = text == null ? "" : text;
    toolCalls = List.copyOf(toolCalls);
    Objects.requireNonNull(stopReason, "stopReason");
    usage = usage == null ? Usage.ZERO : usage;
    model = model == null ? "" : model;
  }

  /**
   * Returns this answer as the assistant turn to append to the conversation before sending tool
   * results or the next user message.
   *
   * @return the assistant message with this text and these tool calls
   */
  public ChatMessage.Assistant toMessage() {
    return new ChatMessage.Assistant(text, toolCalls);
  }

  /**
   * Tells whether the model wants tools called.
   *
   * @return true when {@link #toolCalls()} is not empty
   */
  public boolean hasToolCalls() {
    return !toolCalls.isEmpty();
  }
}
