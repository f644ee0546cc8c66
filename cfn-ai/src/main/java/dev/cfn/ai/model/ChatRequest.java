package dev.cfn.ai.model;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What to send to a model: the same for every provider, translated by each client to its protocol.
 *
 * <pre>{@code
 * ChatRequest request = ChatRequest.builder()
 *     .system("You are a careful reviewer.")
 *     .user("Review this diff: ...")
 *     .tools(List.of(readFileTool))
 *     .maxTokens(2048)
 *     .build();
 * }</pre>
 *
 * @param model the model to ask; null for the provider's default model (a {@link RoutedModel}
 *     always sets the model of the route it tries)
 * @param system the system prompt, or null for none
 * @param messages the conversation so far, oldest first; not empty
 * @param tools the tools the model may call (empty for none)
 * @param maxTokens the most tokens to generate, or null for the provider's default (Anthropic
 *     requires a value, so its client then sends the configured default)
 * @param temperature the sampling temperature, or null to leave it to the server
 * @param timeout how long the caller waits for the whole call, retries, backoff and fallbacks
 *     included, counted from when the call starts; null for no limit beyond the providers' own
 *     timeouts. Every layer passes on only what is left of it, and the request in flight is
 *     cancelled when it runs out (the call fails with {@link ModelException.Kind#TIMEOUT}).
 */
public record ChatRequest(
    String model,
    String system,
    List<ChatMessage> messages,
    List<ToolSpec> tools,
    Integer maxTokens,
    Double temperature,
    Duration timeout) {
  public ChatRequest {
    messages = List.copyOf(messages);
    tools = List.copyOf(tools);
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("a chat request needs at least one message");
    }
    if (maxTokens != null && maxTokens <= 0) {
      throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
    }
    if (temperature != null && (temperature < 0 || temperature.isNaN())) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (timeout != null && timeout.isNegative()) {
      timeout = Duration.ZERO;
    }
  }

  /**
   * Starts a request.
   *
   * @return an empty builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns this request for another model, as routing and fallback need.
   *
   * @param newModel the model to ask
   * @return a copy with the model replaced
   */
  public ChatRequest withModel(String newModel) {
    return new ChatRequest(newModel, system, messages, tools, maxTokens, temperature, timeout);
  }

  /**
   * Returns this request with another time limit, as each layer passes on the time left.
   *
   * @param newTimeout the time left, or null for none
   * @return a copy with the timeout replaced
   */
  public ChatRequest withTimeout(Duration newTimeout) {
    return new ChatRequest(model, system, messages, tools, maxTokens, temperature, newTimeout);
  }

  /**
   * Returns a builder holding this request, to append messages or change a setting.
   *
   * @return a builder initialised from this request
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.model = model;
    b.system = system;
    b.messages.addAll(messages);
    b.tools.addAll(tools);
    b.maxTokens = maxTokens;
    b.temperature = temperature;
    b.timeout = timeout;
    return b;
  }

  /** Builds a {@link ChatRequest}; every setting but one message is optional. */
  public static final class Builder {
    private String model;
    private String system;
    private final List<ChatMessage> messages = new ArrayList<>();
    private final List<ToolSpec> tools = new ArrayList<>();
    private Integer maxTokens;
    private Double temperature;
    private Duration timeout;

    private Builder() {}

    /**
     * Sets the model.
     *
     * @param model the model name, or null for the provider's default
     * @return this builder
     */
    public Builder model(String model) {
      this.model = model;
      return this;
    }

    /**
     * Sets the system prompt.
     *
     * @param system the system prompt, or null for none
     * @return this builder
     */
    public Builder system(String system) {
      this.system = system;
      return this;
    }

    /**
     * Appends a user message.
     *
     * @param text what the user says
     * @return this builder
     */
    public Builder user(String text) {
      return message(ChatMessage.user(text));
    }

    /**
     * Appends a message.
     *
     * @param message the message
     * @return this builder
     */
    public Builder message(ChatMessage message) {
      messages.add(Objects.requireNonNull(message, "message"));
      return this;
    }

    /**
     * Appends messages.
     *
     * @param more the messages, oldest first
     * @return this builder
     */
    public Builder messages(List<? extends ChatMessage> more) {
      more.forEach(this::message);
      return this;
    }

    /**
     * Adds tools the model may call.
     *
     * @param specs the tools
     * @return this builder
     */
    public Builder tools(List<ToolSpec> specs) {
      specs.forEach(s -> tools.add(Objects.requireNonNull(s, "tool")));
      return this;
    }

    /**
     * Sets the most tokens to generate.
     *
     * @param maxTokens a positive limit, or null for the provider's default
     * @return this builder
     */
    public Builder maxTokens(Integer maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    /**
     * Sets the sampling temperature.
     *
     * @param temperature the temperature, or null to leave it to the server
     * @return this builder
     */
    public Builder temperature(Double temperature) {
      this.temperature = temperature;
      return this;
    }

    /**
     * Sets how long the caller waits for the whole call (see {@link ChatRequest#timeout()}).
     *
     * @param timeout the limit, or null for none
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /**
     * Builds the request.
     *
     * @return the request
     * @throws IllegalArgumentException if there is no message or a setting is out of range
     */
    public ChatRequest build() {
      return new ChatRequest(model, system, messages, tools, maxTokens, temperature, timeout);
    }
  }
}
