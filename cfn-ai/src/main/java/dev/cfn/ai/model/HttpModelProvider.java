package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What the two protocol clients share: one {@link HttpTransport} to one endpoint, the model a
 * request resolves to, and the shape of a plain and of a streamed call. Each protocol supplies its
 * headers, its request body, how it reads an answer and how it assembles a stream.
 *
 * <p>A streamed call whose server ignored {@code "stream": true} and answered with one JSON
 * document is read like a plain answer and then replayed to the listener, so the listener sees the
 * same events either way.
 */
abstract sealed class HttpModelProvider implements ModelProvider
    permits AnthropicProvider, OpenAiProvider {
  final ProviderConfig config;
  final HttpTransport transport;
  private final URI endpoint;
  private final String modelVariable;

  /**
   * @param kind the kind the config must be of
   * @param path the endpoint, relative to the config's base URL
   * @param modelVariable the environment variable that names a default model, quoted in the error
   *     when a request resolves to no model
   */
  HttpModelProvider(
      ProviderConfig config,
      Clock clock,
      ProviderConfig.Kind kind,
      String path,
      String modelVariable) {
    if (config.kind() != kind) {
      throw new IllegalArgumentException(
          "provider '"
              + config.name()
              + "' is of kind "
              + config.kind()
              + ", not "
              + kind.name().toLowerCase(Locale.ROOT));
    }
    this.config = config;
    this.transport = new HttpTransport(config, clock);
    this.endpoint = URI.create(config.baseUrl() + path);
    this.modelVariable = modelVariable;
  }

  /** The protocol's request headers, the configured ones first. */
  abstract Map<String, String> headers();

  /** The protocol's request body. */
  abstract ObjectNode body(ChatRequest request, String model, boolean stream);

  /**
   * Reads a whole JSON answer, throwing the error it reports.
   *
   * @param streamed whether the answer came to a streamed call whose server ignored {@code stream}
   */
  abstract ChatResponse answer(JsonNode json, String model, boolean streamed);

  /** Reads a server-sent event stream to its end, telling the listener as it goes. */
  abstract ChatResponse assemble(SseStream stream, StreamListener listener, String model);

  @Override
  public final String name() {
    return config.name();
  }

  @Override
  public final ChatResponse chat(ChatRequest request) {
    String model = model(request);
    return answer(
        transport.post(endpoint, headers(), body(request, model, false), request.timeout()),
        model,
        false);
  }

  @Override
  public final ChatResponse stream(ChatRequest request, StreamListener listener) {
    Objects.requireNonNull(listener, "listener");
    String model = model(request);
    try (SseStream stream =
        transport.postStream(endpoint, headers(), body(request, model, true), request.timeout())) {
      if (stream.wholeBody() != null) {
        ChatResponse r = answer(stream.wholeBody(), model, true);
        replay(r, listener);
        return r;
      }
      return assemble(stream, listener, model);
    }
  }

  private static void replay(ChatResponse r, StreamListener listener) {
    if (!r.text().isEmpty()) {
      listener.onText(r.text());
    }
    for (ToolCall call : r.toolCalls()) {
      listener.onToolCallStart(call.id(), call.name());
      listener.onToolCallArguments(call.id(), ToolArguments.toText(call.arguments()));
      listener.onToolCall(call);
    }
  }

  private String model(ChatRequest request) {
    String model = config.resolveModel(request.model());
    if (model == null) {
      throw new ModelException(
          ModelException.Kind.BAD_REQUEST,
          name(),
          0,
          null,
          "no model for provider '"
              + name()
              + "': set ChatRequest.model, the route's model, or the provider's model"
              + " (model: in the providers file, or "
              + modelVariable
              + ")",
          null);
    }
    return model;
  }

  @Override
  public final void close() {
    transport.close();
  }

  /** Names the client, the provider and its base URL; never the key. */
  @Override
  public final String toString() {
    return getClass().getSimpleName() + "[" + config.name() + " " + config.baseUrl() + "]";
  }
}
