package dev.cfn.ai.model;

/**
 * Receives a streamed answer as it arrives, on the thread that called {@link
 * ModelProvider#stream(ChatRequest, StreamListener)}.
 *
 * <p>Only {@link #onText(String)} is required, so a lambda prints a streamed answer. Tool calls
 * arrive as a start event, argument fragments, then the complete call once its arguments are
 * assembled. Once any method has been called the resilience layer will not retry the call (the
 * listener would see the answer twice): a broken stream then ends in a {@link ModelException} of
 * kind {@link ModelException.Kind#STREAM_BROKEN}.
 */
@FunctionalInterface
public interface StreamListener {
  /** A listener that ignores every event, for callers that only want the assembled response. */
  StreamListener NONE = delta -> {};

  /**
   * A piece of the answer's text.
   *
   * @param delta the new text, never empty
   */
  void onText(String delta);

  /**
   * The model started a tool call; its arguments follow.
   *
   * @param id the call's id
   * @param name the tool's name
   */
  default void onToolCallStart(String id, String name) {}

  /**
   * A fragment of a tool call's JSON arguments, as the model produced it.
   *
   * @param id the call's id
   * @param fragment raw JSON text; fragments concatenated form the arguments
   */
  default void onToolCallArguments(String id, String fragment) {}

  /**
   * A tool call is complete.
   *
   * @param call the call with its parsed arguments (a text node when they were not valid JSON)
   */
  default void onToolCall(ToolCall call) {}
}
