package dev.cfn.testkit;

import static dev.cfn.testkit.Calls.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.testkit.WireClient.Result;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FaultsTest {
  private final ModelServer server = ModelServer.start();

  @AfterEach
  void close() {
    server.close();
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void rateLimitedIs429WithRetryAfterInSeconds(Protocol protocol) throws Exception {
    server.script().on(Match.any()).reply(Reply.rateLimited(Duration.ofMillis(1500)));

    Result result = call(server, protocol, false, "x");

    assertThat(result.status()).isEqualTo(429);
    assertThat(result.header("retry-after")).isEqualTo("2");
    if (protocol == Protocol.ANTHROPIC) {
      assertThat(result.json().path("type").asText()).isEqualTo("error");
      assertThat(Calls.errorType(result)).isEqualTo("rate_limit_error");
    } else {
      assertThat(result.json().path("error").path("code").asText())
          .isEqualTo("rate_limit_exceeded");
    }
  }

  @Test
  void overloadedIs529ForAnthropicAnd503ForOpenAi() throws Exception {
    server.script().on(Match.any()).reply(Reply.overloaded());

    Result anthropic = call(server, Protocol.ANTHROPIC, false, "x");
    Result openAi = call(server, Protocol.OPENAI, false, "x");

    assertThat(anthropic.status()).isEqualTo(529);
    assertThat(Calls.errorType(anthropic)).isEqualTo("overloaded_error");
    assertThat(openAi.status()).isEqualTo(503);
    assertThat(Calls.errorType(openAi)).isEqualTo("server_error");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void statusRendersTheProtocolsErrorJson(Protocol protocol) throws Exception {
    server.script().on(Match.any()).reply(Reply.status(500, "upstream exploded"));

    Result result = call(server, protocol, true, "x");

    assertThat(result.status()).isEqualTo(500);
    assertThat(result.header("content-type")).startsWith("application/json");
    assertThat(Calls.errorMessage(result)).isEqualTo("upstream exploded");
    assertThat(Calls.errorType(result))
        .isEqualTo(protocol == Protocol.OPENAI ? "server_error" : "api_error");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void delayedReplyStillArrivesAndNotBeforeTheDelay(Protocol protocol) throws Exception {
    Duration delay = Duration.ofMillis(150);
    server.script().on(Match.any()).reply(Reply.text("slow").after(delay));

    long start = System.nanoTime();
    Result result = call(server, protocol, false, "x");
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

    assertThat(result.status()).isEqualTo(200);
    assertThat(Calls.text(protocol, result)).isEqualTo("slow");
    assertThat(elapsed).isGreaterThanOrEqualTo(delay);
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void connectionResetGivesTheClientAnIoException(Protocol protocol) {
    server.script().on(Match.any()).reply(Reply.connectionReset());

    assertThatThrownBy(() -> call(server, protocol, false, "x")).isInstanceOf(IOException.class);
    assertThat(server.requests()).isNotEmpty();
  }

  @Test
  void cutOpenAiStreamEndsWithoutDone() throws Exception {
    server
        .script()
        .on(Match.any())
        .reply(Reply.text("one two three four five six").cutStreamAfter(3));

    Result result = call(server, Protocol.OPENAI, true, "x");

    assertThat(result.status()).isEqualTo(200);
    assertThat(result.failure()).isInstanceOf(IOException.class);
    assertThat(result.events()).hasSize(3);
    assertThat(result.events()).noneMatch(e -> e.data().equals("[DONE]"));
  }

  @Test
  void cutAnthropicStreamEndsWithoutMessageStop() throws Exception {
    server
        .script()
        .on(Match.any())
        .reply(Reply.text("one two three four five six").cutStreamAfter(4));

    Result result = call(server, Protocol.ANTHROPIC, true, "x");

    assertThat(result.failure()).isInstanceOf(IOException.class);
    assertThat(WireClient.names(result.events()))
        .containsExactly("message_start", "content_block_start", "ping", "content_block_delta");
  }

  @Test
  void cutStreamAfterDoesNotAffectNonStreamingRequests() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("whole").cutStreamAfter(1));

    Result result = call(server, Protocol.OPENAI, false, "x");

    assertThat(Calls.text(Protocol.OPENAI, result)).isEqualTo("whole");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void requireApiKeyRejectsMissingAndWrongKeysWith401(Protocol protocol) throws Exception {
    server.script().on(Match.any()).reply(Reply.text("welcome"));
    server.requireApiKey("right-key");

    Result missing = call(server, protocol, null, false, "x");
    Result wrong = call(server, protocol, "wrong-key", false, "x");
    Result right = call(server, protocol, "right-key", false, "x");

    assertThat(missing.status()).isEqualTo(401);
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.body()).doesNotContain("wrong-key").doesNotContain("right-key");
    if (protocol == Protocol.ANTHROPIC) {
      assertThat(Calls.errorType(wrong)).isEqualTo("authentication_error");
    } else {
      assertThat(wrong.json().path("error").path("code").asText()).isEqualTo("invalid_api_key");
    }
    assertThat(right.status()).isEqualTo(200);
    assertThat(Calls.text(protocol, right)).isEqualTo("welcome");
  }

  @ParameterizedTest
  @EnumSource(Protocol.class)
  void unmatchedRequestGets400SayingNoScriptRuleMatched(Protocol protocol) throws Exception {
    server.script().on(Match.model("some-other-model")).reply(Reply.text("never"));

    Result result = call(server, protocol, false, "what is the meaning of life");

    assertThat(result.status()).as("a 400, which clients do not retry").isEqualTo(400);
    assertThat(Calls.errorMessage(result))
        .contains("no script rule matched")
        .contains("what is the meaning of life")
        .contains("model(\"some-other-model\")");
  }

  @Test
  void replyStepsAreConsumedInOrderAndTheLastRepeats() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("first"), Reply.text("second"));

    List<String> answers =
        List.of(
            Calls.text(Protocol.OPENAI, call(server, Protocol.OPENAI, false, "a")),
            Calls.text(Protocol.ANTHROPIC, call(server, Protocol.ANTHROPIC, false, "b")),
            Calls.text(Protocol.OPENAI, call(server, Protocol.OPENAI, true, "c")));

    assertThat(answers).containsExactly("first", "second", "second");
  }

  @Test
  void queuedRepliesComeFirstInFifoOrderThenRulesAndClearRemovesAll() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("rule"));
    server.script().enqueue(Reply.text("q1")).enqueue(Reply.status(503, "busy"));

    Result first = call(server, Protocol.OPENAI, false, "a");
    Result second = call(server, Protocol.OPENAI, false, "a");
    Result third = call(server, Protocol.OPENAI, false, "a");
    server.script().clear();
    Result fourth = call(server, Protocol.OPENAI, false, "a");

    assertThat(Calls.text(Protocol.OPENAI, first)).isEqualTo("q1");
    assertThat(second.status()).isEqualTo(503);
    assertThat(Calls.text(Protocol.OPENAI, third)).isEqualTo("rule");
    assertThat(fourth.status()).as("nothing answers: the testkit's own 400").isEqualTo(400);
  }

  @Test
  void rulesAreCheckedInOrder() throws Exception {
    server
        .script()
        .on(Match.lastUserMessageContains("weather").and(Match.protocol(Protocol.ANTHROPIC)))
        .reply(Reply.text("anthropic weather"))
        .on(Match.lastUserMessageContains("weather"))
        .reply(Reply.text("any weather"))
        .on(Match.any())
        .reply(Reply.text("fallback"));

    assertThat(Calls.text(Protocol.ANTHROPIC, call(server, Protocol.ANTHROPIC, false, "weather?")))
        .isEqualTo("anthropic weather");
    assertThat(Calls.text(Protocol.OPENAI, call(server, Protocol.OPENAI, false, "weather?")))
        .isEqualTo("any weather");
    assertThat(Calls.text(Protocol.OPENAI, call(server, Protocol.OPENAI, false, "hello")))
        .isEqualTo("fallback");
  }

  @Test
  void invalidReplyArgumentsFailFastWithAClearMessage() {
    assertThatThrownBy(() -> Reply.toolCall("f", "not json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JSON object");
    assertThatThrownBy(() -> Reply.status(200, "ok")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Reply.overloaded().withUsage(1, 1, 0))
        .isInstanceOf(IllegalStateException.class);
  }
}
