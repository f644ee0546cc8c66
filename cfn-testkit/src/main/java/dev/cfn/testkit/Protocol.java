package dev.cfn.testkit;

/**
 * The two model-provider wire protocols a {@link ModelServer} speaks.
 *
 * <p>The protocol of a request is decided by its path: {@code POST /v1/chat/completions} is {@link
 * #OPENAI}, {@code POST /v1/messages} is {@link #ANTHROPIC}. Replies, errors and validation are
 * rendered in the protocol of the request they answer.
 */
public enum Protocol {
  /** OpenAI Chat Completions: {@code POST /v1/chat/completions}, {@code Authorization: Bearer}. */
  OPENAI,
  /**
   * Anthropic Messages: {@code POST /v1/messages}, {@code x-api-key} and {@code anthropic-version}.
   */
  ANTHROPIC
}
