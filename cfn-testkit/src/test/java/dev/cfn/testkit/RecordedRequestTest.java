package dev.cfn.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RecordedRequestTest {
  private final ModelServer server = ModelServer.start();

  @AfterEach
  void close() {
    server.close();
  }

  @Test
  void recordsOpenAiRequestsInOrderWithTheirFacts() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    String body =
        """
        {"model":"gpt-4o","stream":true,"messages":[
          {"role":"system","content":"Be brief."},
          {"role":"user","content":"first question"},
          {"role":"assistant","content":"answer"},
          {"role":"user","content":[{"type":"text","text":"second"},{"type":"text","text":"part"}]}],
         "tools":[{"type":"function","function":{"name":"search","parameters":{}}},
                  {"type":"function","function":{"name":"fetch","parameters":{}}}]}""";

    WireClient.send(
        WireClient.openAiRequest(server.openAiBaseUrl(), "sk-secret-value-1", body).build());
    Calls.call(server, Protocol.ANTHROPIC, false, "later");

    assertThat(server.requests()).hasSize(2);
    RecordedRequest r = server.requests().get(0);
    assertThat(r.protocol()).isEqualTo(Protocol.OPENAI);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.path()).isEqualTo("/v1/chat/completions");
    assertThat(r.model()).isEqualTo("gpt-4o");
    assertThat(r.stream()).isTrue();
    assertThat(r.system()).isEqualTo("Be brief.");
    assertThat(r.userMessages()).containsExactly("first question", "second\npart");
    assertThat(r.lastUserMessage()).isEqualTo("second\npart");
    assertThat(r.toolNames()).containsExactly("search", "fetch");
    assertThat(r.hasToolResult()).isFalse();
    assertThat(r.body().path("messages")).hasSize(4);
    assertThat(server.requests().get(1).protocol()).isEqualTo(Protocol.ANTHROPIC);
  }

  @Test
  void headersAreCaseInsensitiveAndToStringRedactsCredentials() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    HttpRequest anthropic =
        HttpRequest.newBuilder(URI.create(server.anthropicBaseUrl() + "/v1/messages"))
            .header("X-Api-Key", "sk-ant-very-secret")
            .header("Anthropic-Version", "2023-06-01")
            .POST(HttpRequest.BodyPublishers.ofString(Calls.body(Protocol.ANTHROPIC, false, "x")))
            .build();

    WireClient.send(anthropic);
    Calls.call(server, Protocol.OPENAI, "sk-openai-very-secret", false, "x");

    RecordedRequest a = server.requests().get(0);
    assertThat(a.headers().get("x-api-key")).isEqualTo("sk-ant-very-secret");
    assertThat(a.headers().get("ANTHROPIC-VERSION")).isEqualTo("2023-06-01");
    assertThat(a.toString()).doesNotContain("sk-ant-very-secret").contains("[REDACTED]");
    assertThat(a.headers().toString()).doesNotContain("sk-ant-very-secret").contains("2023-06-01");
    RecordedRequest o = server.requests().get(1);
    assertThat(o.headers().get("authorization")).isEqualTo("Bearer sk-openai-very-secret");
    assertThat(o.toString()).doesNotContain("sk-openai-very-secret");
  }

  @Test
  void readsAnthropicSystemBlocksAndSkipsToolResultOnlyUserMessages() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("ok"));
    String body =
        """
        {"model":"claude-x","max_tokens":10,
         "system":[{"type":"text","text":"Rule one."},{"type":"text","text":"Rule two."}],
         "tools":[{"name":"calc","input_schema":{"type":"object"}}],
         "messages":[
          {"role":"user","content":[{"type":"text","text":"compute"}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"calc","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"42"}]}]}""";

    WireClient.anthropic(server, body);

    RecordedRequest r = server.requests().get(0);
    assertThat(r.system()).isEqualTo("Rule one.\nRule two.");
    assertThat(r.userMessages()).containsExactly("compute");
    assertThat(r.toolNames()).containsExactly("calc");
    assertThat(r.hasToolResult()).isTrue();
    assertThat(Match.systemContains("Rule two").and(Match.toolOffered("calc")).test(r)).isTrue();
    assertThat(Match.toolOffered("other").or(Match.model("claude-x")).test(r)).isTrue();
    assertThat(Match.model("claude-x").negate().test(r)).isFalse();
  }
}
