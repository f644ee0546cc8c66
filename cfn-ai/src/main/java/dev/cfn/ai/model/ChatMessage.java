package dev.cfn.ai.model;

import java.util.List;
import java.util.Objects;

/**
 * One turn of a conversation sent to a model. The system prompt is not a message: it travels in
 * {@link ChatRequest#system()}, because the two protocols put it in different places.
 *
 * <p>A tool round trip is three messages: the {@link Assistant} turn that carries the {@link
 * ToolCall}s (append {@link ChatResponse#toMessage()}), one {@link ToolResult} per call, then the
 * next request. Each client translates them to its protocol (OpenAI: {@code tool_calls} and {@code
 * role: tool}; Anthropic: {@code tool_use} and {@code tool_result} blocks).
 */
public sealed interface ChatMessage
    permits ChatMessage.User, ChatMessage.Assistant, ChatMessage.ToolResult {

  /**
   * Creates a user message.
   *
   * @param text what the user says
   * @return the message
   */
  static User user(String text) {
    return new User(text);
  }

  /**
   * Creates an assistant message without tool calls, for replaying history.
   *
   * @param text what the model said
   * @return the message
   */
  static Assistant assistant(String text) {
    return new Assistant(text, List.of());
  }

  /**
   * Creates an assistant message with tool calls.
   *
   * @param text what the model said before calling tools (may be empty)
   * @param toolCalls the calls it made
   * @return the message
   */
  static Assistant assistant(String text, List<ToolCall> toolCalls) {
    return new Assistant(text, toolCalls);
  }

  /**
   * Creates the successful result of a tool call.
   *
   * @param toolCallId the {@link ToolCall#id()} this answers
   * @param content the tool's output, as text for the model
   * @return the message
   */
  static ToolResult toolResult(String toolCallId, String content) {
    return new ToolResult(toolCallId, content, false);
  }

  /**
   * Creates the result of a tool call that failed, so that the model can correct itself.
   *
   * @param toolCallId the {@link ToolCall#id()} this answers
   * @param error what went wrong, for the model
   * @return the message
   */
  static ToolResult toolError(String toolCallId, String error) {
    return new ToolResult(toolCallId, error, true);
  }

  /**
   * A user turn.
   *
   * @param text what the user says
   */
  record User(String text) implements ChatMessage {
    public User {
      Objects.requireNonNull(text, "text");
    }
  }

  /**
   * An assistant turn: text, tool calls, or both.
   *
   * @param text the text (empty when the model only called tools)
   * @param toolCalls the tool calls, in the order the model made them
   */
  record Assistant(String text, List<ToolCall> toolCalls) implements ChatMessage {
    public Assistant {
      text = text == null ? "" : text;
      toolCalls = List.copyOf(toolCalls);
    }
  }

  /**
   * The result of one tool call.
   *
   * @param toolCallId the {@link ToolCall#id()} this answers
   * @param content the tool's output or error, as text for the model
   * @param isError whether the tool failed (Anthropic's {@code is_error}; on OpenAI-compatible
   *     servers, which have no such flag, the content is prefixed with {@code "ERROR: "})
   */
  record ToolResult(String toolCallId, String content, boolean isError) implements ChatMessage {
    public ToolResult {
      Objects.requireNonNull(toolCallId, "toolCallId");
      Objects.requireNonNull(content, "content");
    }
  }
}
