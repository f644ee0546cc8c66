package dev.cfn.ai.model;

/**
 * Why the model stopped generating, mapped from each protocol's own words so that an agent loop can
 * decide what to do next without knowing the protocol.
 */
public enum StopReason {
  /** The model finished its answer ({@code stop}, {@code end_turn}, {@code stop_sequence}). */
  END,
  /**
   * The model wants tools called and their results sent back ({@code tool_calls}, {@code
   * tool_use}).
   */
  TOOL_USE,
  /**
   * The answer was cut at the token limit ({@code length}, {@code max_tokens}): raise it or
   * continue.
   */
  MAX_TOKENS,
  /** Anything else (content filter, refusal, pause, an unknown reason). */
  OTHER
}
