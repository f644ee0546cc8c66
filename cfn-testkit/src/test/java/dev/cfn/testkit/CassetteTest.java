package dev.cfn.testkit;

import static dev.cfn.testkit.Calls.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.testkit.WireClient.Result;
import dev.cfn.testkit.WireClient.Sse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CassetteTest {
  private static final String SECRET = "sk-upstream-secret-12345";

  @TempDir Path dir;

  private static ModelServer upstream() {
    ModelServer upstream = ModelServer.start();
    upstream.requireApiKey(SECRET);
    upstream
        .script()
        .on(Match.lastUserMessageContains("hello"))
        .reply(Reply.text("Hello from upstream, nice to meet you."))
        .on(Match.lastUserMessageContains("weather"))
        .reply(Reply.text("Checking.").withToolCall("get_weather", "{\"city\":\"Paris\"}"))
        .on(Match.lastUserMessageContains("repeat"))
        .reply(Reply.text("first"), Reply.text("second"))
        .on(Match.lastUserMessageContains("limit"))
        .reply(Reply.rateLimited(Duration.ofSeconds(3)))
        .on(Match.lastUserMessageContains("cut"))
        .reply(Reply.text("one two three four five").cutStreamAfter(2));
    return upstream;
  }

  @Test
  void recordsThroughAProxyThenReplaysTheSameResponsesFromTheFile() throws Exception {
    Path file = dir.resolve("cassettes/weather.json");
    Result openAiText;
    Result openAiToolStream;
    Result anthropicTool;
    Result anthropicTextStream;
    Result limited;
    try (ModelServer upstream = upstream();
        ModelServer proxy = ModelServer.recording(upstream.baseUrl(), file)) {
      openAiText = call(proxy, Protocol.OPENAI, SECRET, false, "hello");
      openAiToolStream = call(proxy, Protocol.OPENAI, SECRET, true, "weather?");
      anthropicTool = call(proxy, Protocol.ANTHROPIC, SECRET, false, "weather?");
      anthropicTextStream = call(proxy, Protocol.ANTHROPIC, SECRET, true, "hello");
      limited = call(proxy, Protocol.ANTHROPIC, SECRET, false, "limit");

      // the proxy passed the real key through and streamed the answers back
      assertThat(upstream.requests()).hasSize(5);
      assertThat(upstream.requests().get(0).headers().get("authorization"))
          .isEqualTo("Bearer " + SECRET);
      assertThat(upstream.requests().get(2).headers().get("x-api-key")).isEqualTo(SECRET);
      assertThat(proxy.requests()).hasSize(5);
    }
    assertThat(openAiText.status()).isEqualTo(200);
    assertThat(Calls.text(Protocol.OPENAI, openAiText))
        .isEqualTo("Hello from upstream, nice to meet you.");
    assertThat(WireClient.openAiToolCalls(openAiToolStream.events())).hasSize(1);
    assertThat(limited.status()).isEqualTo(429);

    String fileText = Files.readString(file);
    assertThat(fileText).doesNotContain(SECRET).doesNotContainIgnoringCase("authorization");
    Cassette cassette = Cassette.load(file);
    assertThat(cassette.size()).isEqualTo(5);
    assertThat(cassette.interactions().get(1).streamed()).isTrue();
    assertThat(cassette.interactions().get(0).streamed()).isFalse();

    try (ModelServer replay = ModelServer.start(cassette)) {
      Result openAiTextAgain = call(replay, Protocol.OPENAI, "any-key", false, "hello");
      Result openAiToolStreamAgain = call(replay, Protocol.OPENAI, "any-key", true, "weather?");
      Result anthropicToolAgain = call(replay, Protocol.ANTHROPIC, "any-key", false, "weather?");
      Result anthropicTextStreamAgain = call(replay, Protocol.ANTHROPIC, "any-key", true, "hello");
      Result limitedAgain = call(replay, Protocol.ANTHROPIC, "any-key", false, "limit");

      assertThat(openAiTextAgain.json()).isEqualTo(openAiText.json());
      assertSameEvents(openAiToolStreamAgain.events(), openAiToolStream.events());
      assertThat(anthropicToolAgain.json()).isEqualTo(anthropicTool.json());
      assertSameEvents(anthropicTextStreamAgain.events(), anthropicTextStream.events());
      assertThat(anthropicTextStreamAgain.header("content-type")).startsWith("text/event-stream");
      assertThat(limitedAgain.status()).isEqualTo(429);
      assertThat(limitedAgain.header("retry-after")).isEqualTo("3");
      assertThat(limitedAgain.json()).isEqualTo(limited.json());
    }
  }

  private static void assertSameEvents(List<Sse> replayed, List<Sse> original) {
    assertThat(replayed).hasSameSizeAs(original);
    for (int i = 0; i < original.size(); i++) {
      assertThat(replayed.get(i).event()).isEqualTo(original.get(i).event());
      if (original.get(i).data().equals("[DONE]")) {
        assertThat(replayed.get(i).data()).isEqualTo("[DONE]");
      } else {
        assertThat(replayed.get(i).json()).isEqualTo(original.get(i).json());
      }
    }
  }

  @Test
  void repeatedIdenticalRequestsReplayInRecordedOrderThenTheLastRepeats() throws Exception {
    Path file = dir.resolve("repeat.json");
    try (ModelServer upstream = upstream();
        ModelServer proxy = ModelServer.recording(upstream.baseUrl(), file)) {
      call(proxy, Protocol.OPENAI, SECRET, false, "repeat");
      call(proxy, Protocol.OPENAI, SECRET, false, "repeat");
    }

    try (ModelServer replay = ModelServer.start(Cassette.load(file))) {
      List<String> answers =
          List.of(
              Calls.text(Protocol.OPENAI, call(replay, Protocol.OPENAI, false, "repeat")),
              Calls.text(Protocol.OPENAI, call(replay, Protocol.OPENAI, false, "repeat")),
              Calls.text(Protocol.OPENAI, call(replay, Protocol.OPENAI, false, "repeat")));
      assertThat(answers).containsExactly("first", "second", "second");
    }
  }

  @Test
  void replayRendersAStreamedRecordingForANonStreamingRequestAndReverse() throws Exception {
    Path file = dir.resolve("modes.json");
    try (ModelServer upstream = upstream();
        ModelServer proxy = ModelServer.recording(upstream.baseUrl(), file)) {
      call(proxy, Protocol.ANTHROPIC, SECRET, true, "weather?");
      call(proxy, Protocol.OPENAI, SECRET, false, "weather?");
    }

    try (ModelServer replay = ModelServer.start(Cassette.load(file))) {
      Result anthropic = call(replay, Protocol.ANTHROPIC, false, "weather?");
      Result openAi = call(replay, Protocol.OPENAI, true, "weather?");

      assertThat(anthropic.json().path("content").path(0).path("text").asText())
          .isEqualTo("Checking.");
      assertThat(anthropic.json().path("content").path(1).path("input"))
          .isEqualTo(WireClient.parse("{\"city\":\"Paris\"}"));
      assertThat(anthropic.json().path("stop_reason").asText()).isEqualTo("tool_use");
      assertThat(WireClient.openAiText(openAi.events())).isEqualTo("Checking.");
      List<String[]> calls = WireClient.openAiToolCalls(openAi.events());
      assertThat(calls).hasSize(1);
      assertThat(WireClient.parse(calls.get(0)[2]))
          .isEqualTo(WireClient.parse("{\"city\":\"Paris\"}"));
    }
  }

  @Test
  void aStreamCutUpstreamIsRecordedAndReplayedAsACut() throws Exception {
    Path file = dir.resolve("cut.json");
    Result recorded;
    try (ModelServer upstream = upstream();
        ModelServer proxy = ModelServer.recording(upstream.baseUrl(), file)) {
      recorded = call(proxy, Protocol.OPENAI, SECRET, true, "cut");
    }
    assertThat(recorded.failure()).isNotNull();
    assertThat(recorded.events()).hasSize(2);
    assertThat(Cassette.load(file).interactions().get(0).truncated()).isTrue();

    try (ModelServer replay = ModelServer.start(Cassette.load(file))) {
      Result replayed = call(replay, Protocol.OPENAI, true, "cut");
      assertThat(replayed.failure()).isNotNull();
      assertThat(replayed.events()).hasSize(2);
    }
  }

  @Test
  void aRequestMatchingNoInteractionGets500() throws Exception {
    Path file = dir.resolve("one.json");
    try (ModelServer upstream = upstream();
        ModelServer proxy = ModelServer.recording(upstream.baseUrl(), file)) {
      call(proxy, Protocol.OPENAI, SECRET, false, "hello");
    }

    try (ModelServer replay = ModelServer.start(Cassette.load(file))) {
      Result result = call(replay, Protocol.OPENAI, false, "hello, but different");

      assertThat(result.status()).as("a 400, which clients do not retry").isEqualTo(400);
      assertThat(Calls.errorMessage(result))
          .contains("no cassette interaction matches")
          .contains("hello, but different");
    }
  }

  @Test
  void scriptRulesTakePrecedenceOverTheCassette() throws Exception {
    Path file = dir.resolve("override.json");
    try (ModelServer upstream = upstream();
        ModelServer proxy = ModelServer.recording(upstream.baseUrl(), file)) {
      call(proxy, Protocol.ANTHROPIC, SECRET, false, "hello");
    }

    try (ModelServer replay = ModelServer.start(Cassette.load(file))) {
      replay.script().enqueue(Reply.overloaded());
      assertThat(call(replay, Protocol.ANTHROPIC, false, "hello").status()).isEqualTo(529);
      assertThat(call(replay, Protocol.ANTHROPIC, false, "hello").status()).isEqualTo(200);
    }
  }

  @Test
  void loadingSomethingElseFailsWithAClearMessage() throws Exception {
    Path notACassette = dir.resolve("other.json");
    Files.writeString(notACassette, "{\"hello\":1}");

    assertThatThrownBy(() -> Cassette.load(notACassette))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a cfn-testkit cassette");
    assertThatThrownBy(() -> Cassette.load(dir.resolve("missing.json")))
        .hasMessageContaining("does not exist")
        .hasMessageContaining("cfn testkit record --cassette");
    Path garbage = dir.resolve("garbage.json");
    Files.writeString(garbage, "not json at all");
    assertThatThrownBy(() -> Cassette.load(garbage))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a cfn-testkit cassette: it is not JSON")
        .hasMessageContaining("line 1");
  }

  /**
   * A recording proxy adds each interaction and saves from the thread that served it. The save that
   * writes last must hold every interaction added before it started: a snapshot taken outside the
   * write lock could be older than one already written, and overwrite it. Each round starts several
   * add-and-save threads together and then reads the file back.
   */
  @Test
  void concurrentSavesNeverLeaveAnOlderSnapshotOnDisk() throws Exception {
    Path file = dir.resolve("concurrent.json");
    Cassette cassette = new Cassette();
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 60; round++) {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int n = round * threads + t;
          done.add(
              pool.submit(
                  () -> {
                    start.await();
                    cassette.add(
                        new Cassette.Interaction(
                            Protocol.OPENAI,
                            "/v1/chat/completions",
                            Json.object().put("n", n),
                            200,
                            Map.of(),
                            Json.object().put("ok", true),
                            null,
                            false));
                    cassette.save(file, Set.of());
                    return null;
                  }));
        }
        start.countDown();
        for (Future<?> f : done) {
          f.get();
        }
        assertThat(Cassette.load(file).size())
            .as("round %d: the file written last holds every interaction", round)
            .isEqualTo(cassette.size());
      }
    } finally {
      pool.shutdown();
    }
  }
}
