package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.model.ProviderConfig.Kind;
import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Both protocol clients against the real loopback model server, streamed and not. */
class ProviderProtocolTest {
  private final ModelServer server = ModelServer.start();

  @AfterEach
  void stop() {
    server.close();
  }

  static Stream<Arguments> kindsAndModes() {
    List<Arguments> all = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      all.add(Arguments.of(kind, false));
      all.add(Arguments.of(kind, true));
    }
    return all.stream();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void chatReturnsTextUsageWithCachedTokensAndTheModel(Kind kind) {
    server.script().on(Match.any()).reply(Reply.text("Hi there.").withUsage(10, 2, 3));
    try (ModelProvider p = Servers.client(Servers.config(server, kind).build())) {
      ChatResponse r = p.chat(ChatRequest.builder().system("Be brief.").user("hello").build());

      assertThat(r.text()).isEqualTo("Hi there.");
      assertThat(r.toolCalls()).isEmpty();
      assertThat(r.stopReason()).isEqualTo(StopReason.END);
      assertThat(r.usage()).isEqualTo(new Usage(10, 2, 3));
      assertThat(r.model()).isEqualTo(Servers.MODEL);
    }
    RecordedRequest req = server.requests().getFirst();
    assertThat(req.model()).isEqualTo(Servers.MODEL);
    assertThat(req.system()).isEqualTo("Be brief.");
    assertThat(req.lastUserMessage()).isEqualTo("hello");
    assertThat(req.stream()).isFalse();
    if (kind == Kind.ANTHROPIC) {
      assertThat(req.path()).isEqualTo("/v1/messages");
      assertThat(req.headers().get("anthropic-version")).isEqualTo("2023-06-01");
      assertThat(req.body().path("max_tokens").asInt())
          .as("max_tokens is always sent to Anthropic")
          .isEqualTo(ProviderConfig.DEFAULT_ANTHROPIC_MAX_TOKENS);
    } else {
      assertThat(req.path()).isEqualTo("/v1/chat/completions");
      assertThat(req.body().has("max_tokens")).isFalse();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void streamDeliversDeltasAsTheyArriveAndReturnsTheAssembledAnswer(Kind kind) {
    String text = "The quick brown fox jumps over the lazy dog. ".repeat(4).strip();
    server.script().on(Match.any()).reply(Reply.text(text).withUsage(40, 12, 30));
    Servers.Recorder recorder = new Servers.Recorder();
    ChatResponse r;
    try (ModelProvider p = Servers.client(Servers.config(server, kind).build())) {
      r = p.stream(ChatRequest.builder().user("tell me").build(), recorder);
    }

    assertThat(recorder.texts).hasSizeGreaterThan(1);
    assertThat(recorder.text()).isEqualTo(text);
    assertThat(r.text()).isEqualTo(text);
    assertThat(r.stopReason()).isEqualTo(StopReason.END);
    assertThat(r.usage()).isEqualTo(new Usage(40, 12, 30));
    RecordedRequest req = server.requests().getFirst();
    assertThat(req.stream()).isTrue();
    if (kind == Kind.OPENAI) {
      assertThat(req.body().path("stream_options").path("include_usage").asBoolean()).isTrue();
    }
  }

  @ParameterizedTest
  @MethodSource("kindsAndModes")
  void toolCallRoundTrip(Kind kind, boolean stream) {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("It is sunny in Paris."));
    server
        .script()
        .on(Match.any())
        .reply(Reply.text("Let me check.").withToolCall("get_weather", "{\"city\":\"Paris\"}"));
    try (ModelProvider p = Servers.client(Servers.config(server, kind).build())) {
      ChatRequest first =
          ChatRequest.builder()
              .user("Weather in Paris?")
              .tools(List.of(Servers.weatherTool()))
              .build();
      Servers.Recorder recorder = new Servers.Recorder();
      ChatResponse asked = stream ? p.stream(first, recorder) : p.chat(first);

      assertThat(asked.stopReason()).isEqualTo(StopReason.TOOL_USE);
      assertThat(asked.text()).isEqualTo("Let me check.");
      assertThat(asked.toolCalls()).hasSize(1);
      ToolCall call = asked.toolCalls().getFirst();
      assertThat(call.name()).isEqualTo("get_weather");
      assertThat(call.arguments()).isEqualTo(Servers.json("{\"city\":\"Paris\"}"));
      if (stream) {
        assertThat(recorder.events)
            .containsSubsequence("text", "start get_weather", "args", "call get_weather");
        assertThat(Servers.json(recorder.arguments.toString())).isEqualTo(call.arguments());
        assertThat(recorder.calls).containsExactly(call);
      }

      ChatRequest second =
          first.toBuilder()
              .message(asked.toMessage())
              .message(ChatMessage.toolResult(call.id(), "sunny, 24 C"))
              .build();
      ChatResponse answered = stream ? p.stream(second, new Servers.Recorder()) : p.chat(second);
      assertThat(answered.text()).isEqualTo("It is sunny in Paris.");
      assertThat(answered.stopReason()).isEqualTo(StopReason.END);

      RecordedRequest req = server.requests().get(1);
      assertThat(req.hasToolResult()).isTrue();
      assertThat(req.toolNames()).containsExactly("get_weather");
      JsonNode messages = req.body().path("messages");
      JsonNode last = messages.get(messages.size() - 1);
      JsonNode assistant = messages.get(messages.size() - 2);
      if (kind == Kind.OPENAI) {
        assertThat(assistant.path("tool_calls").get(0).path("id").asText()).isEqualTo(call.id());
        assertThat(last.path("role").asText()).isEqualTo("tool");
        assertThat(last.path("tool_call_id").asText()).isEqualTo(call.id());
        assertThat(last.path("content").asText()).isEqualTo("sunny, 24 C");
      } else {
        JsonNode use = assistant.path("content").get(1);
        assertThat(use.path("type").asText()).isEqualTo("tool_use");
        assertThat(use.path("input")).isEqualTo(call.arguments());
        JsonNode result = last.path("content").get(0);
        assertThat(result.path("type").asText()).isEqualTo("tool_result");
        assertThat(result.path("tool_use_id").asText()).isEqualTo(call.id());
        assertThat(result.has("is_error")).isFalse();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void failedToolResultsAreMarkedAndSeveralResultsShareOneAnthropicTurn(Kind kind) {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("Sorry."));
    server
        .script()
        .on(Match.any())
        .reply(
            Reply.toolCall("get_weather", "{\"city\":\"Paris\"}")
                .withToolCall("get_weather", "{\"city\":\"Rome\"}"));
    try (ModelProvider p = Servers.client(Servers.config(server, kind).build())) {
      ChatRequest first =
          ChatRequest.builder()
              .user("Paris and Rome?")
              .tools(List.of(Servers.weatherTool()))
              .build();
      ChatResponse asked = p.chat(first);
      assertThat(asked.toolCalls())
          .extracting(ToolCall::name)
          .containsExactly("get_weather", "get_weather");
      assertThat(asked.text()).isEmpty();

      ChatResponse answered =
          p.chat(
              first.toBuilder()
                  .message(asked.toMessage())
                  .message(ChatMessage.toolResult(asked.toolCalls().get(0).id(), "sunny"))
                  .message(ChatMessage.toolError(asked.toolCalls().get(1).id(), "service down"))
                  .build());
      assertThat(answered.text()).isEqualTo("Sorry.");
    }
    JsonNode messages = server.requests().get(1).body().path("messages");
    JsonNode last = messages.get(messages.size() - 1);
    if (kind == Kind.ANTHROPIC) {
      assertThat(messages).hasSize(3);
      assertThat(last.path("content")).hasSize(2);
      assertThat(last.path("content").get(1).path("is_error").asBoolean()).isTrue();
      assertThat(last.path("content").get(1).path("content").asText()).isEqualTo("service down");
    } else {
      assertThat(last.path("role").asText()).isEqualTo("tool");
      assertThat(last.path("content").asText()).isEqualTo("ERROR: service down");
    }
  }

  /**
   * Models do produce malformed arguments; {@code Reply.toolCall} refuses to script them, so the
   * answers come from a hand-written cassette replayed by the same loopback server.
   */
  @ParameterizedTest
  @EnumSource(Kind.class)
  void argumentsThatAreNotJsonBecomeATextNode(Kind kind, @TempDir Path dir) {
    String raw = "{\"q\": \"cats";
    String head = raw.substring(0, 6);
    String tail = raw.substring(6);
    Cassette cassette =
        kind == Kind.OPENAI
            ? Cassettes.write(
                dir,
                Cassettes.plain(
                    kind,
                    "{\"model\":\"test-model\",\"choices\":[{\"index\":0,\"message\":"
                        + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
                        + "\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"search\","
                        + "\"arguments\":"
                        + HttpTransport.JSON.getNodeFactory().textNode(raw)
                        + "}}]},\"finish_reason\":\"tool_calls\"}]}"),
                Cassettes.streamed(
                    kind,
                    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                        + "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
                        + "\"search\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}",
                    openAiArguments(head),
                    openAiArguments(tail),
                    "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
                    "[DONE]"))
            : Cassettes.write(
                dir,
                Cassettes.streamed(
                    kind,
                    "message_start|{\"type\":\"message_start\",\"message\":{\"model\":"
                        + "\"test-model\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}",
                    "content_block_start|{\"type\":\"content_block_start\",\"index\":0,"
                        + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\","
                        + "\"name\":\"search\",\"input\":{}}}",
                    anthropicArguments(head),
                    anthropicArguments(tail),
                    "content_block_stop|{\"type\":\"content_block_stop\",\"index\":0}",
                    "message_delta|{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                        + "\"tool_use\"},\"usage\":{\"output_tokens\":9}}",
                    "message_stop|{\"type\":\"message_stop\"}"));
    try (ModelServer replay = ModelServer.start(cassette);
        ModelProvider p = Servers.client(Servers.config(replay, kind).build())) {
      ChatRequest request = ChatRequest.builder().user(Cassettes.PROMPT).build();
      if (kind == Kind.OPENAI) {
        JsonNode args = p.chat(request).toolCalls().getFirst().arguments();
        assertThat(args.isTextual()).isTrue();
        assertThat(args.asText()).isEqualTo(raw);
      }
      Servers.Recorder recorder = new Servers.Recorder();
      ChatResponse streamed = p.stream(request, recorder);
      JsonNode args = streamed.toolCalls().getFirst().arguments();
      assertThat(args.isTextual()).isTrue();
      assertThat(args.asText()).isEqualTo(raw);
      assertThat(recorder.arguments.toString()).isEqualTo(raw);
      assertThat(streamed.stopReason()).isEqualTo(StopReason.TOOL_USE);
    }
  }

  /**
   * Some OpenAI-compatible servers stream tool calls without {@code index} or {@code id}: a
   * fragment with a name while the current call already has one is the next call.
   */
  @Test
  void streamedToolCallsWithoutIndexOrIdAreSplitByTheirNames(@TempDir Path dir) {
    Cassette cassette =
        Cassettes.write(
            dir,
            Cassettes.streamed(
                Kind.OPENAI,
                openAiFragment("search", "{\"q\": "),
                openAiFragment(null, "\"cats\"}"),
                openAiFragment("search", "{\"q\": \"dogs\"}"),
                openAiFragment("count", ""),
                openAiFragment(null, "{}"),
                "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
                "[DONE]"));
    try (ModelServer replay = ModelServer.start(cassette);
        ModelProvider p = Servers.client(Servers.config(replay, Kind.OPENAI).build())) {
      Servers.Recorder recorder = new Servers.Recorder();
      ChatResponse streamed =
          p.stream(ChatRequest.builder().user(Cassettes.PROMPT).build(), recorder);

      assertThat(streamed.toolCalls())
          .extracting(ToolCall::name)
          .containsExactly("search", "search", "count");
      assertThat(streamed.toolCalls())
          .extracting(c -> c.arguments().toString())
          .containsExactly("{\"q\":\"cats\"}", "{\"q\":\"dogs\"}", "{}");
      assertThat(streamed.toolCalls()).extracting(ToolCall::id).doesNotHaveDuplicates();
      assertThat(recorder.events)
          .filteredOn(e -> e.startsWith("start"))
          .containsExactly("start search", "start search", "start count");
      assertThat(streamed.stopReason()).isEqualTo(StopReason.TOOL_USE);
    }
  }

  /** An OpenAI chunk with one tool-call fragment that has neither {@code index} nor {@code id}. */
  private static String openAiFragment(String name, String arguments) {
    ObjectNode chunk = HttpTransport.JSON.createObjectNode();
    ObjectNode function =
        chunk
            .putArray("choices")
            .addObject()
            .put("index", 0)
            .putObject("delta")
            .putArray("tool_calls")
            .addObject()
            .put("type", "function")
            .putObject("function");
    if (name != null) {
      function.put("name", name);
    }
    function.put("arguments", arguments);
    return chunk.toString();
  }

  /**
   * After a fallback from an OpenAI-compatible provider the conversation holds tool call ids such
   * as {@code functions.get_weather:0}, which Anthropic refuses; they are rewritten, the same way
   * in the tool_use and its tool_result, and two ids never become one.
   */
  @Test
  void foreignToolCallIdsAreRewrittenForAnthropic() {
    Kind kind = Kind.ANTHROPIC;
    server.script().on(Match.toolResultPresent()).reply(Reply.text("Sunny in both."));
    ToolCall paris =
        new ToolCall(
            "functions.get_weather:0", "get_weather", Servers.json("{\"city\":\"Paris\"}"));
    ToolCall rome =
        new ToolCall("functions_get_weather_0", "get_weather", Servers.json("{\"city\":\"Rome\"}"));
    try (ModelProvider p = Servers.client(Servers.config(server, kind).build())) {
      ChatResponse answered =
          p.chat(
              ChatRequest.builder()
                  .user("Paris and Rome?")
                  .tools(List.of(Servers.weatherTool()))
                  .message(ChatMessage.assistant("", List.of(paris, rome)))
                  .message(ChatMessage.toolResult(paris.id(), "sunny"))
                  .message(ChatMessage.toolResult(rome.id(), "sunny too"))
                  .build());
      assertThat(answered.text()).isEqualTo("Sunny in both.");
    }
    JsonNode messages = server.requests().getFirst().body().path("messages");
    JsonNode uses = messages.get(1).path("content");
    JsonNode results = messages.get(2).path("content");
    String parisId = uses.get(0).path("id").asText();
    String romeId = uses.get(1).path("id").asText();
    assertThat(parisId).matches("[a-zA-Z0-9_-]+").startsWith("functions_get_weather_0");
    assertThat(romeId).as("a valid id is sent as it is").isEqualTo("functions_get_weather_0");
    assertThat(parisId).as("the rewritten id does not take another's").isNotEqualTo(romeId);
    assertThat(results.get(0).path("tool_use_id").asText()).isEqualTo(parisId);
    assertThat(results.get(1).path("tool_use_id").asText()).isEqualTo(romeId);
    assertThat(AnthropicProvider.toolId("toolu_01AbC-9")).isEqualTo("toolu_01AbC-9");
  }

  private static String openAiArguments(String piece) {
    ObjectNode chunk = HttpTransport.JSON.createObjectNode();
    chunk
        .putArray("choices")
        .addObject()
        .put("index", 0)
        .putObject("delta")
        .putArray("tool_calls")
        .addObject()
        .put("index", 0)
        .putObject("function")
        .put("arguments", piece);
    return chunk.toString();
  }

  private static String anthropicArguments(String piece) {
    ObjectNode delta =
        HttpTransport.JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
    delta.putObject("delta").put("type", "input_json_delta").put("partial_json", piece);
    return "content_block_delta|" + delta;
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void anErrorInsideTheStreamBecomesAModelException(Kind kind, @TempDir Path dir) {
    Cassette cassette =
        Cassettes.write(
            dir,
            kind == Kind.OPENAI
                ? Cassettes.streamed(
                    kind,
                    "{\"error\":{\"message\":\"The server is overloaded\",\"type\":"
                        + "\"server_overloaded\"}}")
                : Cassettes.streamed(
                    kind,
                    "message_start|{\"type\":\"message_start\",\"message\":{\"model\":"
                        + "\"test-model\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}",
                    "ping|{\"type\":\"ping\"}",
                    "error|{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                        + "\"message\":\"Overloaded\"}}"));
    try (ModelServer replay = ModelServer.start(cassette);
        ModelProvider p = Servers.client(Servers.config(replay, kind).build())) {
      assertThatThrownBy(
              () -> p.stream(ChatRequest.builder().user(Cassettes.PROMPT).build(), d -> {}))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.OVERLOADED);
                assertThat(e.retryable()).isTrue();
              })
          .hasMessageContaining("verloaded");
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void requestSettingsReachTheServer(Kind kind) {
    server.script().on(Match.any()).reply(Reply.text("ok").stopReason(Reply.StopReason.MAX_TOKENS));
    try (ModelProvider p =
        Servers.client(Servers.config(server, kind).modelAlias("small", "tiny-1").build())) {
      ChatResponse r =
          p.chat(
              ChatRequest.builder()
                  .model("small")
                  .user("hi")
                  .maxTokens(77)
                  .temperature(0.25)
                  .build());
      assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
    }
    RecordedRequest req = server.requests().getFirst();
    assertThat(req.model()).isEqualTo("tiny-1");
    assertThat(req.body().path("max_tokens").asInt()).isEqualTo(77);
    assertThat(req.body().path("temperature").asDouble()).isEqualTo(0.25);
  }

  @Test
  void openAiReasoningModelsGetMaxCompletionTokens() {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider p = Servers.client(Servers.config(server, Kind.OPENAI).build())) {
      p.chat(ChatRequest.builder().model("o3-mini").user("hi").maxTokens(50).build());
      p.chat(ChatRequest.builder().model("llama3.2").user("hi").maxTokens(60).build());
    }
    RecordedRequest reasoning = server.requests().get(0);
    assertThat(reasoning.body().path("max_completion_tokens").asInt()).isEqualTo(50);
    assertThat(reasoning.body().has("max_tokens")).isFalse();
    RecordedRequest other = server.requests().get(1);
    assertThat(other.body().path("max_tokens").asInt()).isEqualTo(60);
    assertThat(other.body().has("max_completion_tokens")).isFalse();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aStreamCutShortIsReportedAsBroken(Kind kind) {
    server
        .script()
        .on(Match.any())
        .reply(Reply.text("a fairly long answer that gets cut").cutStreamAfter(3));
    try (ModelProvider p = Servers.client(Servers.config(server, kind).build())) {
      assertThatThrownBy(() -> p.stream(ChatRequest.builder().user("hi").build(), d -> {}))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.STREAM_BROKEN);
                assertThat(e.retryable()).isTrue();
              })
          .hasMessageContaining("stream broke off");
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void theApiKeyTravelsInTheProtocolsHeader(Kind kind) {
    server.requireApiKey("key-123");
    server.script().on(Match.any()).reply(Reply.text("ok"));
    try (ModelProvider good =
            Servers.client(Servers.config(server, kind).apiKey("key-123").build());
        ModelProvider bad =
            Servers.client(Servers.config(server, kind).apiKey("key-999").build())) {
      assertThat(good.chat(ChatRequest.builder().user("hi").build()).text()).isEqualTo("ok");
      assertThatThrownBy(() -> bad.chat(ChatRequest.builder().user("hi").build()))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(ModelException.Kind.AUTH);
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.retryable()).isFalse();
              })
          .hasMessageContaining(
              "check the API key of provider '"
                  + kind.name().toLowerCase(java.util.Locale.ROOT)
                  + "'");
    }
    RecordedRequest req = server.requests().getFirst();
    if (kind == Kind.OPENAI) {
      assertThat(req.headers().get("authorization")).isEqualTo("Bearer key-123");
    } else {
      assertThat(req.headers().get("x-api-key")).isEqualTo("key-123");
    }
  }

  @Test
  void aRequestWithoutAnyModelFailsBeforeSending() {
    try (ModelProvider p =
        Servers.client(Servers.config(server, Kind.OPENAI).model(null).build())) {
      assertThatThrownBy(() -> p.chat(ChatRequest.builder().user("hi").build()))
          .isInstanceOfSatisfying(
              ModelException.class,
              e -> assertThat(e.kind()).isEqualTo(ModelException.Kind.BAD_REQUEST))
          .hasMessageContaining("no model for provider 'openai'");
    }
    assertThat(server.requests()).isEmpty();
  }
}
