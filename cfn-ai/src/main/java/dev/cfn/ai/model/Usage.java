package dev.cfn.ai.model;

/**
 * Tokens one model call (or a sum of calls) consumed, as the provider reported them.
 *
 * <p>{@code inputTokens} counts every prompt token, cached ones included, so that {@code
 * cachedTokens <= inputTokens} whatever the protocol: OpenAI's {@code prompt_tokens} already
 * includes {@code prompt_tokens_details.cached_tokens}; Anthropic's {@code input_tokens} does not,
 * so its client adds {@code cache_read_input_tokens} and {@code cache_creation_input_tokens}.
 *
 * @param inputTokens prompt tokens, cached ones included
 * @param outputTokens generated tokens
 * @param cachedTokens prompt tokens served from the provider's prompt cache (billed cheaper)
 */
public record Usage(long inputTokens, long outputTokens, long cachedTokens) {
  /** No tokens: the usage of a call that reported none, and the start of a sum. */
  public static final Usage ZERO = new Usage(0, 0, 0);

  public Usage {
    if (inputTokens < 0 || outputTokens < 0 || cachedTokens < 0) {
      throw new IllegalArgumentException(
          "token counts cannot be negative: input="
              + inputTokens
              + " output="
              + outputTokens
              + " cached="
              + cachedTokens);
    }
  }

  /**
   * Adds two usages, for the total of a conversation or an agent's budget.
   *
   * @param other the usage to add
   * @return the component-wise sum
   */
  public Usage plus(Usage other) {
    return new Usage(
        inputTokens + other.inputTokens,
        outputTokens + other.outputTokens,
        cachedTokens + other.cachedTokens);
  }

  /**
   * Returns the tokens the call counted against a tokens-per-minute limit.
   *
   * @return input plus output tokens
   */
  public long totalTokens() {
    return inputTokens + outputTokens;
  }
}
