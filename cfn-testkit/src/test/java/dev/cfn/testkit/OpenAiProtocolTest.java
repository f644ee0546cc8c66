package dev.cfn.testkit;

import static dev.cfn.testkit.WireClient.openAi;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.testkit.WireClient.Result;
import dev.cfn.testkit.WireClient.Sse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpenAiProtocolTest {
  private final ModelServer server = ModelServer.start();

  @AfterEach
  void close() {
    server.close();
  }

  private static String request(boolean stream, String userText) {
    return """
        {"model":"gpt-4o-mini","stream":%s,"stream_options":{"include_usage":true},
         "max_completion_tokens":256,
         "messages":[{"role":"system","content":"You are terse."},
                     {"role":"user","content":"%s"}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather",
                   "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
        """
        .formatted(stream, userText);
  }

  @Test
  void answersANonStreamingRequestWithAChatCompletion() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("Hello there, world"));

    Result result = openAi(server, request(false, "hi"));

    assertThat(result.status()).isEqualTo(200);
    assertThat(result.header("content-type")).startsWith("application/json");
    JsonNode body = result.json();
    assertThat(body.path("object").asText()).isEqualTo("chat.completion");
    assertThat(body.path("id").asText()).startsWith("chatcmpl-");
    assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(body.path("created").asLong()).isPositive();
    JsonNode choice = body.path("choices").path(0);
    assertThat(choice.path("index").asInt()).isZero();
    assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
    assertThat(choice.path("message").path("content").asText()).isEqualTo("Hello there, world");
    assertThat(choice.path("message").has("tool_calls")).isFalse();
    assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
    JsonNode usage = body.path("usage");
    assertThat(usage.path("prompt_tokens").asInt()).isPositive();
    assertThat(usage.path("completion_tokens").asInt()).isPositive();
    assertThat(usage.path("total_tokens").asInt())
        .isEqualTo(usage.path("prompt_tokens").asInt() + usage.path("completion_tokens").asInt());
    assertThat(usage.path("prompt_tokens_details").path("cached_tokens").asInt()).isZero();
  }

  @Test
  void streamsTextInSeveralChunksThenFinishUsageAndDone() throws Exception {
    String text = "The quick brown fox jumps over the lazy dog.";
    server.script().on(Match.any()).reply(Reply.text(text).withUsage(40, 11, 8));

    Result result = openAi(server, request(true, "tell me"));

    assertThat(result.status()).isEqualTo(200);
    assertThat(result.header("content-type")).startsWith("text/event-stream");
    assertThat(result.failure()).isNull();
    List<Sse> events = result.events();
    assertThat(events.get(events.size() - 1).data()).isEqualTo("[DONE]");
    List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(Sse::json).toList();
    assertThat(chunks)
        .allSatisfy(c -> assertThat(c.path("object").asText()).isEqualTo("chat.completion.chunk"));
    assertThat(chunks.get(0).path("choices").path(0).path("delta").path("role").asText())
        .isEqualTo("assistant");
    long contentChunks =
        chunks.stream()
            .filter(
                c -> !c.path("choices").path(0).path("delta").path("content").asText("").isEmpty())
            .count();
    assertThat(contentChunks).isGreaterThan(1);
    assertThat(WireClient.openAiText(events)).isEqualTo(text);

    JsonNode finish = chunks.get(chunks.size() - 2);
    assertThat(finish.path("choices").path(0).path("finish_reason").asText()).isEqualTo("stop");
    JsonNode usageChunk = chunks.get(chunks.size() - 1);
    assertThat(usageChunk.path("choices").isArray()).isTrue();
    assertThat(usageChunk.path("choices")).isEmpty();
    assertThat(usageChunk.path("usage").path("prompt_tokens").asInt()).isEqualTo(40);
    assertThat(usageChunk.path("usage").path("completion_tokens").asInt()).isEqualTo(11);
    assertThat(usageChunk.path("usage").path("total_tokens").asInt()).isEqualTo(51);
    assertThat(usageChunk.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt())
        .isEqualTo(8);
  }

  @Test
  void withoutIncludeUsageTheStreamHasNoUsageChunk() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    String body =
        """
        {"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}""";

    Result result = openAi(server, body);

    List<Sse> events = result.events();
    JsonNode last = events.get(events.size() - 2).json();
    assertThat(last.path("choices").path(0).path("finish_reason").asText()).isEqualTo("stop");
    assertThat(events)
        .noneMatch(e -> !e.data().equals("[DONE]") && e.json().path("usage").isObject());
  }

  @Test
  void rendersAToolCallWithNullContentWhenNotStreaming() throws Exception {
    server
        .script()
        .on(Match.lastUserMessageContains("weather"))
        .reply(Reply.toolCall("call_fixed1", "get_weather", "{\"city\":\"Paris\"}"));

    JsonNode body = openAi(server, request(false, "weather in Paris?")).json();

    JsonNode message = body.path("choices").path(0).path("message");
    assertThat(message.path("content").isNull()).isTrue();
    JsonNode call = message.path("tool_calls").path(0);
    assertThat(call.path("id").asText()).isEqualTo("call_fixed1");
    assertThat(call.path("type").asText()).isEqualTo("function");
    assertThat(call.path("function").path("name").asText()).isEqualTo("get_weather");
    assertThat(call.path("function").path("arguments").isTextual()).isTrue();
    assertThat(WireClient.parse(call.path("function").path("arguments").asText()))
        .isEqualTo(WireClient.parse("{\"city\":\"Paris\"}"));
    assertThat(body.path("choices").path(0).path("finish_reason").asText()).isEqualTo("tool_calls");
  }

  @Test
  void streamsTextAndTwoToolCallsWithArgumentsSplitAcrossChunks() throws Exception {
    String args1 = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";
    String args2 = "{\"city\":\"Berlin\",\"unit\":\"celsius\"}";
    server
        .script()
        .on(Match.any())
        .reply(
            Reply.text("Checking both.")
                .withToolCall("get_weather", args1)
                .withToolCall("get_weather", args2));

    List<Sse> events = openAi(server, request(true, "weather")).events();

    assertThat(WireClient.openAiText(events)).isEqualTo("Checking both.");
    List<String[]> calls = WireClient.openAiToolCalls(events);
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0)[0]).startsWith("call_");
    assertThat(calls.get(1)[0]).startsWith("call_").isNotEqualTo(calls.get(0)[0]);
    assertThat(calls.get(0)[1]).isEqualTo("get_weather");
    assertThat(WireClient.parse(calls.get(0)[2])).isEqualTo(WireClient.parse(args1));
    assertThat(WireClient.parse(calls.get(1)[2])).isEqualTo(WireClient.parse(args2));
    long argumentFragments =
        events.stream()
            .filter(e -> !e.data().equals("[DONE]"))
            .filter(
                e ->
                    !e.json()
                        .path("choices")
                        .path(0)
                        .path("delta")
                        .path("tool_calls")
                        .path(0)
                        .path("function")
                        .path("arguments")
                        .asText("")
                        .isEmpty())
            .count();
    assertThat(argumentFragments).isGreaterThan(2);
    // the id and name come only in the first fragment of each call
    long fragmentsWithId =
        events.stream()
            .filter(e -> !e.data().equals("[DONE]"))
            .filter(
                e ->
                    e.json()
                        .path("choices")
                        .path(0)
                        .path("delta")
                        .path("tool_calls")
                        .path(0)
                        .has("id"))
            .count();
    assertThat(fragmentsWithId).isEqualTo(2);
    JsonNode finish =
        events.stream()
            .filter(e -> !e.data().equals("[DONE]"))
            .map(Sse::json)
            .filter(c -> c.path("choices").path(0).path("finish_reason").isTextual())
            .findFirst()
            .orElseThrow();
    assertThat(finish.path("choices").path(0).path("finish_reason").asText())
        .isEqualTo("tool_calls");
  }

  @Test
  void maxTokensStopReasonIsRenderedAsLength() throws Exception {
    server
        .script()
        .on(Match.any())
        .reply(Reply.text("truncated answ").stopReason(Reply.StopReason.MAX_TOKENS));

    JsonNode body = openAi(server, request(false, "long")).json();

    assertThat(body.path("choices").path(0).path("finish_reason").asText()).isEqualTo("length");
  }

  @Test
  void toolResultTurnIsMatchedAndToolLoopValidates() throws Exception {
    server
        .script()
        .on(Match.toolResultPresent())
        .reply(Reply.text("It is sunny."))
        .on(Match.any())
        .reply(Reply.toolCall("get_weather", "{\"city\":\"Paris\"}"));
    String turn2 =
        """
        {"model":"gpt-4o","messages":[
          {"role":"user","content":"weather?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"sunny, 21C"}]}""";

    JsonNode first = openAi(server, request(false, "weather?")).json();
    JsonNode second = openAi(server, turn2).json();

    assertThat(first.path("choices").path(0).path("finish_reason").asText())
        .isEqualTo("tool_calls");
    assertThat(second.path("choices").path(0).path("message").path("content").asText())
        .isEqualTo("It is sunny.");
    assertThat(server.requests().get(1).hasToolResult()).isTrue();
  }

  @Test
  void rejectsAToolMessageThatAnswersNoToolCallLikeTheRealApi() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("unreachable"));
    String body =
        """
        {"model":"gpt-4o","messages":[{"role":"user","content":"x"},
          {"role":"tool","tool_call_id":"call_404","content":"orphan"}]}""";

    Result result = openAi(server, body);

    assertThat(result.status()).isEqualTo(400);
    JsonNode error = result.json().path("error");
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.path("message").asText()).contains("role 'tool'");
  }

  @Test
  void rejectsARequestWithoutModel() throws Exception {
    Result result = openAi(server, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");

    assertThat(result.status()).isEqualTo(400);
    assertThat(result.json().path("error").path("message").asText()).contains("model");
  }

  @Test
  void unknownPathGets404WithAHintAboutTheBaseUrl() throws Exception {
    Result result =
        WireClient.send(WireClient.openAiRequest(server.baseUrl().toString(), "k", "{}").build());

    assertThat(result.status()).isEqualTo(404);
    assertThat(result.json().path("error").path("message").asText()).contains("openAiBaseUrl()");
  }
}
