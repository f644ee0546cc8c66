package dev.cfn.ai.tool;

import static dev.cfn.ai.tool.ToolRegistryTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.model.ToolCall;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MessagingToolsTest {

  /** An agent that runs the tool call it receives and replies with the result. */
  private static AgentType toolUser(ToolRegistry registry) {
    return AgentType.builder(
            "ai",
            id -> {
              ToolExecutor tools =
                  ToolExecutor.builder(registry, id)
                      .permissions(ToolPermissions.of(BuiltinTools.MESSAGING))
                      .build();
              return (message, ctx) ->
                  ctx.reply(tools.execute(message.payload(ToolCall.class), ctx));
            })
        .blocking()
        .build();
  }

  /**
   * Asks agent {@code ai} (a {@link #toolUser}) to run {@code tool} with the JSON arguments {@code
   * args} as call {@code id}, and returns the result it replies with.
   */
  private static ToolResult call(AgentRuntime rt, AgentId ai, String id, String tool, String args)
      throws Exception {
    return rt.request(ai, new ToolCall(id, tool, json(args)), Duration.ofSeconds(10))
        .get(10, TimeUnit.SECONDS)
        .payload(ToolResult.class);
  }

  @Test
  void sendMessageAndPublishGoThroughTheAgentsContext() throws Exception {
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().messaging().registerIn(registry);
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    try (AgentRuntime rt = AgentRuntime.builder().build()) {
      rt.register(
          AgentType.of(
              "sink",
              id ->
                  (m, ctx) ->
                      received.add(
                          ctx.self()
                              + " got '"
                              + m.payload()
                              + "' from "
                              + m.sender()
                              + (m.topic() == null ? "" : " on " + m.topic()))));
      rt.register(toolUser(registry));
      rt.subscribe("news.#", "sink");
      AgentId ai = AgentId.of("ai", "7");

      ToolResult sent =
          call(rt, ai, "c1", "send_message", "{\"to\": \"sink/a\", \"payload\": \"hello\"}");
      assertThat(sent).isEqualTo(ToolResult.text("sent to sink/a"));
      assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("sink/a got 'hello' from ai/7");

      ToolResult published =
          call(rt, ai, "c2", "publish", "{\"topic\": \"news.today\", \"payload\": \"rain\"}");
      assertThat(published).isEqualTo(ToolResult.text("published on news.today@7"));
      assertThat(received.poll(10, TimeUnit.SECONDS))
          .isEqualTo("sink/7 got 'rain' from ai/7 on news.today@7");

      ToolResult badAddress =
          call(rt, ai, "c3", "send_message", "{\"to\": \"no-slash\", \"payload\": \"x\"}");
      assertThat(badAddress.isError()).isTrue();
      assertThat(badAddress.content()).contains("/to");
      assertThat(received).isEmpty();
    }
  }

  @Test
  void publishRefusesTheRuntimesReservedTopics() throws Exception {
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().messaging().registerIn(registry);
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    try (AgentRuntime rt = AgentRuntime.builder().build()) {
      rt.register(AgentType.of("sink", id -> (m, ctx) -> received.add(m.topic().toString())));
      rt.register(toolUser(registry));
      rt.subscribe("cfn.budget.#", "sink");
      rt.subscribe("news.#", "sink");
      AgentId ai = AgentId.of("ai", "7");

      ToolResult forged =
          call(
              rt,
              ai,
              "c1",
              "publish",
              "{\"topic\": \"cfn.budget.exhausted\", \"payload\": \"fake\"}");
      assertThat(forged.isError()).isTrue();
      assertThat(forged.content())
          .contains("'cfn.budget.exhausted' is reserved")
          .contains("runtime's own events");

      ToolResult allowed =
          call(rt, ai, "c2", "publish", "{\"topic\": \"news.cfn\", \"payload\": \"ok\"}");
      assertThat(allowed.isError()).isFalse();
      assertThat(received.poll(10, TimeUnit.SECONDS))
          .as("the first message the sink gets is the allowed one")
          .isEqualTo("news.cfn@7");
    }
  }

  @Test
  void aToolThatOutlivesItsCallCanNoLongerActAsTheAgent() throws Exception {
    ToolRegistry registry = new ToolRegistry();
    BlockingQueue<String> lateAttempt = new LinkedBlockingQueue<>();
    registry.register(
        Tool.of(
            "late_sender",
            "Waits, then sends.",
            json("{\"type\": \"object\"}"),
            (args, ctx) -> {
              try {
                new java.util.concurrent.CountDownLatch(1).await();
              } catch (InterruptedException e) {
                try {
                  ctx.requireAgentContext("late_sender").send(AgentId.of("sink", "late"), "late");
                  lateAttempt.add("sent");
                } catch (IllegalStateException refused) {
                  lateAttempt.add(refused.getMessage());
                }
              }
              return ToolResult.text("never seen");
            }));
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    try (AgentRuntime rt = AgentRuntime.builder().build()) {
      rt.register(AgentType.of("sink", id -> (m, ctx) -> received.add(m.payload().toString())));
      rt.register(
          AgentType.builder(
                  "ai",
                  id -> {
                    ToolExecutor tools =
                        ToolExecutor.builder(registry, id)
                            .permissions(ToolPermissions.of("late_sender"))
                            .timeout(Duration.ofMillis(100))
                            .build();
                    return (message, ctx) ->
                        ctx.reply(tools.execute(message.payload(ToolCall.class), ctx));
                  })
              .blocking()
              .build());
      ToolResult result = call(rt, AgentId.of("ai", "1"), "c", "late_sender", "{}");
      assertThat(result.content()).contains("did not finish within");
      assertThat(lateAttempt.poll(10, TimeUnit.SECONDS))
          .contains("used the agent's context after its call ended");
      assertThat(received).isEmpty();
    }
  }

  @Test
  void outsideAHandlerTheMessagingToolsSayTheyNeedTheAgentsContext() {
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().messaging().registerIn(registry);
    ToolExecutor tools =
        ToolExecutor.builder(registry, AgentId.of("ai", "1"))
            .permissions(ToolPermissions.of("send_message"))
            .build();
    ToolResult result =
        tools.execute(
            new ToolCall("c", "send_message", json("{\"to\": \"sink/a\", \"payload\": \"x\"}")));
    assertThat(result.isError()).isTrue();
    assertThat(result.content()).contains("outside a message handler");
  }
}
