package dev.cfn.testkit;

import dev.cfn.testkit.WireClient.Result;
import dev.cfn.testkit.WireClient.Sse;
import java.io.IOException;
import java.util.List;

/** One simple request per protocol, for tests that run the same scenario on both. */
final class Calls {
  private Calls() {}

  static String body(Protocol protocol, boolean stream, String userText) {
    return switch (protocol) {
      case OPENAI ->
          """
          {"model":"gpt-4o","stream":%s,"messages":[{"role":"user","content":"%s"}]}"""
              .formatted(stream, userText);
      case ANTHROPIC ->
          """
          {"model":"claude-x","max_tokens":100,"stream":%s,
           "messages":[{"role":"user","content":"%s"}]}"""
              .formatted(stream, userText);
    };
  }

  static Result call(ModelServer server, Protocol protocol, boolean stream, String userText)
      throws IOException {
    return call(server, protocol, keyFor(protocol), stream, userText);
  }

  static Result call(
      ModelServer server, Protocol protocol, String key, boolean stream, String userText)
      throws IOException {
    String body = body(protocol, stream, userText);
    return WireClient.send(
        switch (protocol) {
          case OPENAI -> WireClient.openAiRequest(server.openAiBaseUrl(), key, body).build();
          case ANTHROPIC ->
              WireClient.anthropicRequest(server.anthropicBaseUrl(), key, body).build();
        });
  }

  static String keyFor(Protocol protocol) {
    return protocol == Protocol.OPENAI ? "sk-test" : "sk-ant-test";
  }

  /** The answer text of a response in either protocol and mode. */
  static String text(Protocol protocol, Result result) {
    if (result.events() != null) {
      List<Sse> events = result.events();
      return protocol == Protocol.OPENAI
          ? WireClient.openAiText(events)
          : WireClient.anthropicText(events);
    }
    return protocol == Protocol.OPENAI
        ? result.json().path("choices").path(0).path("message").path("content").asText()
        : result.json().path("content").path(0).path("text").asText();
  }

  /** The error message of an error response in either protocol. */
  static String errorMessage(Result result) {
    return result.json().path("error").path("message").asText();
  }

  /** The error type of an error response in either protocol. */
  static String errorType(Result result) {
    return result.json().path("error").path("type").asText();
  }
}
