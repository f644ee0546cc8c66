package dev.cfn.ai.model;

import java.util.random.RandomGenerator;

/**
 * A language model behind some protocol: the one interface agents call, whatever the vendor.
 *
 * <p>Implementations: {@link OpenAiProvider} (OpenAI-compatible Chat Completions), {@link
 * AnthropicProvider} (Anthropic Messages), and the wrappers that {@link #create(ProviderConfig)}
 * and {@link ModelRouter} put around them (retries, rate limits, circuit breaker, fallback). Calls
 * block the calling thread until the answer is complete, so call them from a virtual thread (an
 * agent type marked blocking), never from a dispatcher carrier. Implementations are thread-safe.
 *
 * <pre>{@code
 * try (ModelProvider model = ModelProvider.create(config)) {
 *   ChatResponse r = model.stream(ChatRequest.builder().user("Hello").build(), System.out::print);
 * }
 * }</pre>
 */
public interface ModelProvider extends AutoCloseable {
  /**
   * Creates the client a config asks for ({@link ProviderConfig#kind()}), wrapped with the config's
   * retries, client-side rate limits and circuit breaker.
   *
   * @param config the provider's settings
   * @return a resilient provider; close it to release its HTTP client
   */
  static ModelProvider create(ProviderConfig config) {
    return ResilientProvider.of(config, TimeSource.SYSTEM, RandomGenerator.getDefault());
  }

  /**
   * Returns the provider's configured name, as routes, logs and errors show it.
   *
   * @return the name
   */
  String name();

  /**
   * Sends a request and waits for the whole answer.
   *
   * @param request what to ask
   * @return the answer
   * @throws ModelException when the call fails; its kind says why
   */
  ChatResponse chat(ChatRequest request);

  /**
   * Sends a request and delivers the answer to {@code listener} as it is generated, text deltas and
   * tool-call events, on the calling thread; then returns the assembled answer.
   *
   * @param request what to ask
   * @param listener receives the answer as it arrives
   * @return the whole answer, as {@link #chat(ChatRequest)} would have returned it
   * @throws ModelException when the call fails; when part of the answer was already delivered its
   *     kind is usually {@link ModelException.Kind#STREAM_BROKEN} and it was not retried
   */
  ChatResponse stream(ChatRequest request, StreamListener listener);

  /** Releases the HTTP client. Calls in flight may fail. */
  @Override
  default void close() {}
}
