package dev.cfn.testkit;

import static dev.cfn.testkit.WireClient.anthropic;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.testkit.WireClient.Result;
import dev.cfn.testkit.WireClient.Sse;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AnthropicProtocolTest {
  private final ModelServer server = ModelServer.start();

  @AfterEach
  void close() {
    server.close();
  }

  private static String request(boolean stream, String userText) {
    return """
        {"model":"claude-sonnet-4-5","max_tokens":1024,"stream":%s,
         "system":[{"type":"text","text":"You are terse."}],
         "messages":[{"role":"user","content":"%s"}],
         "tools":[{"name":"get_weather","description":"Weather",
                   "input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]}
        """
        .formatted(stream, userText);
  }

  @Test
  void answersANonStreamingRequestWithAMessage() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("Hello there, world"));

    Result result = anthropic(server, request(false, "hi"));

    assertThat(result.status()).isEqualTo(200);
    JsonNode body = result.json();
    assertThat(body.path("type").asText()).isEqualTo("message");
    assertThat(body.path("id").asText()).startsWith("msg_");
    assertThat(body.path("role").asText()).isEqualTo("assistant");
    assertThat(body.path("model").asText()).isEqualTo("claude-sonnet-4-5");
    assertThat(body.path("content")).hasSize(1);
    assertThat(body.path("content").path(0).path("type").asText()).isEqualTo("text");
    assertThat(body.path("content").path(0).path("text").asText()).isEqualTo("Hello there, world");
    assertThat(body.path("stop_reason").asText()).isEqualTo("end_turn");
    JsonNode usage = body.path("usage");
    assertThat(usage.path("input_tokens").asInt()).isPositive();
    assertThat(usage.path("output_tokens").asInt()).isPositive();
    assertThat(usage.path("cache_read_input_tokens").asInt()).isZero();
    assertThat(usage.path("cache_creation_input_tokens").asInt()).isZero();
  }

  @Test
  void streamsTheDocumentedEventSequence() throws Exception {
    String text = "The quick brown fox jumps over the lazy dog.";
    server.script().on(Match.any()).reply(Reply.text(text).withUsage(40, 11, 0));

    Result result = anthropic(server, request(true, "tell me"));

    assertThat(result.status()).isEqualTo(200);
    assertThat(result.header("content-type")).startsWith("text/event-stream");
    List<Sse> events = result.events();
    List<String> names = WireClient.names(events);
    assertThat(names.get(0)).isEqualTo("message_start");
    assertThat(names.subList(1, 3)).containsExactly("content_block_start", "ping");
    assertThat(names.subList(names.size() - 3, names.size()))
        .containsExactly("content_block_stop", "message_delta", "message_stop");
    assertThat(names.stream().filter("content_block_delta"::equals).count()).isGreaterThan(1);
    assertThat(events)
        .allSatisfy(e -> assertThat(e.json().path("type").asText()).isEqualTo(e.event()));

    JsonNode start = events.get(0).json().path("message");
    assertThat(start.path("content")).isEmpty();
    assertThat(start.path("usage").path("input_tokens").asInt()).isEqualTo(40);
    assertThat(WireClient.anthropicText(events)).isEqualTo(text);
    JsonNode delta = events.get(events.size() - 2).json();
    assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("end_turn");
    assertThat(delta.path("usage").path("output_tokens").asInt()).isEqualTo(11);
  }

  @Test
  void rendersTextAndToolUseBlocksWhenNotStreaming() throws Exception {
    server
        .script()
        .on(Match.any())
        .reply(
            Reply.text("Let me check.")
                .withToolCall("toolu_fixed", "get_weather", "{\"city\":\"Paris\"}"));

    JsonNode body = anthropic(server, request(false, "weather")).json();

    assertThat(body.path("content")).hasSize(2);
    assertThat(body.path("content").path(0).path("text").asText()).isEqualTo("Let me check.");
    JsonNode tool = body.path("content").path(1);
    assertThat(tool.path("type").asText()).isEqualTo("tool_use");
    assertThat(tool.path("id").asText()).isEqualTo("toolu_fixed");
    assertThat(tool.path("name").asText()).isEqualTo("get_weather");
    assertThat(tool.path("input")).isEqualTo(WireClient.parse("{\"city\":\"Paris\"}"));
    assertThat(body.path("stop_reason").asText()).isEqualTo("tool_use");
  }

  @Test
  void streamsToolInputAsPartialJsonFragments() throws Exception {
    String args = "{\"city\":\"Paris\",\"unit\":\"celsius\",\"days\":3}";
    server.script().on(Match.any()).reply(Reply.toolCall("get_weather", args));

    List<Sse> events = anthropic(server, request(true, "weather")).events();

    JsonNode blockStart =
        events.stream()
            .filter(e -> "content_block_start".equals(e.event()))
            .findFirst()
            .orElseThrow()
            .json();
    assertThat(blockStart.path("index").asInt()).isZero();
    JsonNode block = blockStart.path("content_block");
    assertThat(block.path("type").asText()).isEqualTo("tool_use");
    assertThat(block.path("id").asText()).startsWith("toolu_");
    assertThat(block.path("name").asText()).isEqualTo("get_weather");
    assertThat(block.path("input")).isEmpty();
    long fragments =
        events.stream()
            .filter(e -> "input_json_delta".equals(e.json().path("delta").path("type").asText()))
            .count();
    assertThat(fragments).isGreaterThan(1);
    assertThat(WireClient.parse(WireClient.anthropicToolInput(events, 0)))
        .isEqualTo(WireClient.parse(args));
    JsonNode delta =
        events.stream()
            .filter(e -> "message_delta".equals(e.event()))
            .findFirst()
            .orElseThrow()
            .json();
    assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("tool_use");
    assertThat(WireClient.names(events)).endsWith("message_stop");
  }

  @Test
  void usageSplitsCachedTokensOutOfInputTokens() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("ok").withUsage(120, 30, 100));

    JsonNode usage = anthropic(server, request(false, "x")).json().path("usage");

    assertThat(usage.path("input_tokens").asInt()).isEqualTo(20);
    assertThat(usage.path("cache_read_input_tokens").asInt()).isEqualTo(100);
    assertThat(usage.path("output_tokens").asInt()).isEqualTo(30);
  }

  @Test
  void maxTokensStopReason() throws Exception {
    server
        .script()
        .on(Match.any())
        .reply(Reply.text("cut").stopReason(Reply.StopReason.MAX_TOKENS));

    assertThat(anthropic(server, request(false, "x")).json().path("stop_reason").asText())
        .isEqualTo("max_tokens");
  }

  @Test
  void rejectsARequestWithoutAnthropicVersion() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("unreachable"));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(server.anthropicBaseUrl() + "/v1/messages"))
            .header("x-api-key", "k")
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(request(false, "x")))
            .build();

    Result result = WireClient.send(request);

    assertThat(result.status()).isEqualTo(400);
    assertThat(result.json().path("type").asText()).isEqualTo("error");
    assertThat(result.json().path("error").path("type").asText())
        .isEqualTo("invalid_request_error");
    assertThat(result.json().path("error").path("message").asText()).contains("anthropic-version");
  }

  @Test
  void rejectsARequestWithoutMaxTokens() throws Exception {
    Result result =
        anthropic(
            server,
            "{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");

    assertThat(result.status()).isEqualTo(400);
    assertThat(result.json().path("error").path("message").asText())
        .isEqualTo("max_tokens: Field required");
  }

  @Test
  void rejectsAToolResultWithoutAMatchingToolUse() throws Exception {
    String body =
        """
        {"model":"claude-x","max_tokens":10,"messages":[
          {"role":"user","content":"x"},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_2","content":"r"}]}]}""";

    Result result = anthropic(server, body);

    assertThat(result.status()).isEqualTo(400);
    assertThat(result.json().path("error").path("message").asText()).contains("tool_use_id");
  }

  @Test
  void toolResultTurnIsMatched() throws Exception {
    server
        .script()
        .on(Match.toolResultPresent().and(Match.protocol(Protocol.ANTHROPIC)))
        .reply(Reply.text("It is sunny."));
    String body =
        """
        {"model":"claude-x","max_tokens":10,"messages":[
          {"role":"user","content":"weather?"},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather",
            "input":{"city":"Paris"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
            "content":[{"type":"text","text":"sunny"}],"is_error":false}]}]}""";

    JsonNode answer = anthropic(server, body).json();

    assertThat(answer.path("content").path(0).path("text").asText()).isEqualTo("It is sunny.");
    RecordedRequest recorded = server.requests().get(0);
    assertThat(recorded.hasToolResult()).isTrue();
    assertThat(recorded.lastUserMessage()).isEqualTo("weather?");
  }

  @Test
  void rejectsToolIdsOutsideTheApisPatternLikeTheRealApi() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("unreachable"));
    String body =
        """
        {"model":"claude-x","max_tokens":10,"messages":[
          {"role":"user","content":"x"},
          {"role":"assistant","content":[{"type":"tool_use","id":"%s","name":"f","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"%s","content":"r"}]}]}""";

    Result badUse = anthropic(server, body.formatted("functions.f:0", "functions.f:0"));
    Result badResult = anthropic(server, body.formatted("toolu_1", "toolu 1"));
    Result fine = anthropic(server, body.formatted("call_A-9", "call_A-9"));

    assertThat(badUse.status()).isEqualTo(400);
    assertThat(badUse.json().path("error").path("type").asText())
        .isEqualTo("invalid_request_error");
    assertThat(badUse.json().path("error").path("message").asText())
        .isEqualTo(
            "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'");
    assertThat(badResult.status()).isEqualTo(400);
    assertThat(badResult.json().path("error").path("message").asText())
        .isEqualTo(
            "messages.2.content.0.tool_result.tool_use_id: String should match pattern"
                + " '^[a-zA-Z0-9_-]+$'");
    assertThat(fine.status()).isEqualTo(200);
    assertThat(server.requests()).as("rejected requests are recorded too").hasSize(3);
  }
}
