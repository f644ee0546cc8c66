package dev.cfn.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.model.ChatResponse;
import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.Usage;
import dev.cfn.ai.tool.ToolResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The stored form of call records: written field by field in a fixed layout (records written by an
 * earlier cfn must still replay) and read back to what was recorded.
 */
class CallRecordsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aModelAnswerIsStoredInTheVersionOneLayoutAndReadBackWhole() throws Exception {
    ChatResponse answer =
        new ChatResponse(
            "Sum: \"5\" \u00e9\n",
            List.of(
                new ToolCall("call_1", "add", JSON.readTree("{\"a\":2,\"b\":[3,{\"c\":null}]}"))),
            StopReason.TOOL_USE,
            new Usage(12, 7, 3),
            "bench-model");

    String stored = CallRecords.response(answer);

    assertThat(stored)
        .isEqualTo(
            "{\"v\":1,\"text\":\"Sum: \\\"5\\\" \u00e9\\n\",\"toolCalls\":[{\"id\":\"call_1\","
                + "\"name\":\"add\",\"arguments\":{\"a\":2,\"b\":[3,{\"c\":null}]}}],"
                + "\"stopReason\":\"TOOL_USE\",\"usage\":{\"input\":12,\"output\":7,\"cached\":3},"
                + "\"model\":\"bench-model\"}");
    assertThat(CallRecords.response(stored, "k")).isEqualTo(answer);
  }

  @Test
  void aToolResultIsStoredAndReadBack() {
    ToolResult result = ToolResult.error("no such file: \"a.txt\"");

    String stored = CallRecords.toolResult(result);

    assertThat(stored)
        .isEqualTo("{\"v\":1,\"content\":\"no such file: \\\"a.txt\\\"\",\"isError\":true}");
    assertThat(CallRecords.toolResult(stored, "k")).isEqualTo(result);
  }
}
