package dev.cfn.ai.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ValueTypesTest {
  @Test
  void usageAddsUpForBudgets() {
    Usage total = Usage.ZERO.plus(new Usage(100, 20, 80)).plus(new Usage(50, 5, 0));
    assertThat(total).isEqualTo(new Usage(150, 25, 80));
    assertThat(total.totalTokens()).isEqualTo(175);
    assertThatThrownBy(() -> new Usage(-1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aRequestNeedsAMessageAndSaneSettings() {
    assertThatThrownBy(() -> ChatRequest.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one message");
    assertThatThrownBy(() -> ChatRequest.builder().user("x").maxTokens(0).build())
        .hasMessageContaining("maxTokens must be positive");
    assertThatThrownBy(() -> ChatRequest.builder().user("x").temperature(-0.5).build())
        .hasMessageContaining("temperature");
  }

  @Test
  void aResponseBecomesTheAssistantTurnOfTheConversation() {
    ToolCall call = new ToolCall("c1", "get_weather", Servers.json("{\"city\":\"Rome\"}"));
    ChatResponse r = new ChatResponse(null, List.of(call), StopReason.TOOL_USE, null, null);
    assertThat(r.text()).isEmpty();
    assertThat(r.usage()).isEqualTo(Usage.ZERO);
    assertThat(r.hasToolCalls()).isTrue();
    assertThat(r.toMessage()).isEqualTo(ChatMessage.assistant("", List.of(call)));

    ChatRequest next =
        ChatRequest.builder().user("weather?").build().toBuilder()
            .message(r.toMessage())
            .message(ChatMessage.toolResult("c1", "sunny"))
            .build();
    assertThat(next.messages())
        .containsExactly(
            ChatMessage.user("weather?"),
            r.toMessage(),
            new ChatMessage.ToolResult("c1", "sunny", false));
    assertThat(next.withModel("m2").model()).isEqualTo("m2");
  }

  @Test
  void toolArgumentsKeepMalformedTextForTheModelToFix() {
    assertThat(ToolArguments.parse("{\"a\":1}").isObject()).isTrue();
    assertThat(ToolArguments.parse("").isObject()).isTrue();
    assertThat(ToolArguments.parse("[1,2]").isTextual()).isTrue();
    assertThat(ToolArguments.parse("{oops").asText()).isEqualTo("{oops");
  }
}
