package dev.cfn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;

/**
 * The conversation every system of {@code cfn bench agents} has with the loopback model server, and
 * the server's script for it. A plain task asks {@link #PROMPT} and must get {@link #ANSWER}; a
 * tool task offers the tool {@code add}, is asked to call it with 2 and 3, must send back the tool
 * result {@code 5} (the server checks it) and must then get {@link #TOOL_ANSWER}. A wrong tool
 * result is answered with {@link #WRONG_TOOL_RESULT}, which the driver counts as a failed task.
 */
final class AgentsScript {
  private AgentsScript() {}

  static final String SYSTEM = "You are a benchmark agent. Answer briefly.";
  static final String PROMPT = "Say pong.";
  static final String ANSWER = "pong";
  static final String TOOL_PROMPT = "What is 2 + 3? Use the add tool.";
  static final String TOOL_NAME = "add";
  static final String TOOL_DESCRIPTION = "Adds two integers.";
  static final String TOOL_ARGUMENTS = "{\"a\":2,\"b\":3}";
  static final String TOOL_RESULT = "5";
  static final String TOOL_ANSWER = "The sum is 5.";
  static final String WRONG_TOOL_RESULT = "wrong tool result";

  /** A server for load: no request history, this script. */
  static ModelServer startServer() {
    ModelServer server = ModelServer.builder().requestHistory(0).start();
    server
        .script()
        .on(Match.of("toolResult(\"5\")", AgentsScript::toolResultIsFive))
        .reply(Reply.text(TOOL_ANSWER))
        .on(Match.toolResultPresent())
        .reply(Reply.text(WRONG_TOOL_RESULT))
        .on(Match.toolOffered(TOOL_NAME))
        .reply(Reply.toolCall(TOOL_NAME, TOOL_ARGUMENTS))
        .on(Match.any())
        .reply(Reply.text(ANSWER));
    return server;
  }

  /** The last message is an OpenAI tool message whose content is exactly {@link #TOOL_RESULT}. */
  static boolean toolResultIsFive(RecordedRequest r) {
    if (!r.hasToolResult()) {
      return false;
    }
    JsonNode messages = r.body().path("messages");
    JsonNode last = messages.path(messages.size() - 1);
    JsonNode content = last.path("content");
    String text;
    if (content.isArray()) { // content parts: [{"type":"text","text":"5"}]
      StringBuilder b = new StringBuilder();
      content.forEach(part -> b.append(part.path("text").asText()));
      text = b.toString();
    } else {
      text = content.asText();
    }
    return TOOL_RESULT.equals(text.strip());
  }
}
