package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.testkit.ModelServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Builds configs and providers pointed at a loopback {@link ModelServer}, for tests. */
final class Servers {
  static final String MODEL = "test-model";

  private Servers() {}

  static ProviderConfig.Builder config(ModelServer server, ProviderConfig.Kind kind, String name) {
    return ProviderConfig.builder(name, kind)
        .baseUrl(
            kind == ProviderConfig.Kind.OPENAI ? server.openAiBaseUrl() : server.anthropicBaseUrl())
        .model(MODEL)
        .requestTimeout(Duration.ofSeconds(10))
        .connectTimeout(Duration.ofSeconds(5))
        .retry(
            new ProviderConfig.Retry(
                4, Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(30)));
  }

  static ProviderConfig.Builder config(ModelServer server, ProviderConfig.Kind kind) {
    return config(server, kind, kind.name().toLowerCase(java.util.Locale.ROOT));
  }

  /** The bare protocol client: one HTTP attempt per call. */
  static ModelProvider client(ProviderConfig config) {
    return switch (config.kind()) {
      case OPENAI -> OpenAiProvider.create(config);
      case ANTHROPIC -> AnthropicProvider.create(config);
    };
  }

  /** The client wrapped in resilience, on fake time (waits are recorded, not slept). */
  static ResilientProvider resilient(ProviderConfig config, FakeTime time) {
    return ResilientProvider.of(config, time, new SplittableRandom(42));
  }

  static JsonNode json(String text) {
    try {
      return HttpTransport.JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  static ToolSpec weatherTool() {
    return new ToolSpec(
        "get_weather",
        "Current weather in a city",
        json(
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                + "\"required\":[\"city\"]}"));
  }

  /** A listener that records every event as a line. */
  static final class Recorder implements StreamListener {
    final List<String> texts = new ArrayList<>();
    final List<String> events = new ArrayList<>();
    final List<ToolCall> calls = new ArrayList<>();
    final StringBuilder arguments = new StringBuilder();

    @Override
    public void onText(String delta) {
      texts.add(delta);
      events.add("text");
    }

    @Override
    public void onToolCallStart(String id, String name) {
      events.add("start " + name);
    }

    @Override
    public void onToolCallArguments(String id, String fragment) {
      arguments.append(fragment);
      if (events.isEmpty() || !events.getLast().equals("args")) {
        events.add("args");
      }
    }

    @Override
    public void onToolCall(ToolCall call) {
      calls.add(call);
      events.add("call " + call.name());
    }

    String text() {
      return String.join("", texts);
    }
  }
}
