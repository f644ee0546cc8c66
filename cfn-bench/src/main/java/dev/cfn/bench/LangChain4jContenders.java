package dev.cfn.bench;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import java.util.concurrent.atomic.AtomicLong;

/**
 * LangChain4j 1.x's side of {@code cfn bench agents}, as its documentation shows it: an {@link
 * OpenAiChatModel} (its default JDK HTTP client, default retries) called directly, and an {@link
 * AiServices} assistant with the same system prompt, with and without a {@link Tool}. LangChain4j
 * is a dependency of cfn-bench only.
 */
final class LangChain4jContenders {
  private LangChain4jContenders() {}

  static ChatModel model(String baseUrl) {
    return OpenAiChatModel.builder()
        .baseUrl(baseUrl)
        .apiKey("bench-key")
        .modelName("bench-model")
        .timeout(CfnContenders.TIMEOUT)
        .build();
  }

  /** The assistant AiServices implements; the system message is {@link AgentsScript#SYSTEM}. */
  interface Assistant {
    @dev.langchain4j.service.SystemMessage(AgentsScript.SYSTEM)
    String chat(String message);
  }

  /** The tool of the tool round trip; counts its calls. */
  static final class Calculator {
    final AtomicLong calls = new AtomicLong();

    @Tool(AgentsScript.TOOL_DESCRIPTION)
    public long add(
        @P(name = "a", value = "first") long a, @P(name = "b", value = "second") long b) {
      calls.incrementAndGet();
      return a + b;
    }
  }

  /** {@code ChatModel.chat(ChatRequest)} directly. */
  static final class Model implements AgentsContender {
    private final ChatModel model;
    private final ChatRequest request;

    Model(String baseUrl) {
      model = model(baseUrl);
      request =
          ChatRequest.builder()
              .messages(
                  SystemMessage.from(AgentsScript.SYSTEM), UserMessage.from(AgentsScript.PROMPT))
              .build();
    }

    @Override
    public String task(int slot) {
      return model.chat(request).aiMessage().text();
    }

    @Override
    public String expected() {
      return AgentsScript.ANSWER;
    }

    @Override
    public int modelCallsPerTask() {
      return 1;
    }

    @Override
    public void close() {}
  }

  /** An {@link AiServices} assistant, with or without the {@code add} tool. */
  static final class Service implements AgentsContender {
    private final Assistant assistant;
    private final boolean tools;
    private final Calculator calculator = new Calculator();

    Service(String baseUrl, boolean tools) {
      this.tools = tools;
      var builder = AiServices.builder(Assistant.class).chatModel(model(baseUrl));
      if (tools) {
        builder.tools(calculator);
      }
      assistant = builder.build();
    }

    @Override
    public String task(int slot) {
      return assistant.chat(tools ? AgentsScript.TOOL_PROMPT : AgentsScript.PROMPT);
    }

    @Override
    public String expected() {
      return tools ? AgentsScript.TOOL_ANSWER : AgentsScript.ANSWER;
    }

    @Override
    public int modelCallsPerTask() {
      return tools ? 2 : 1;
    }

    @Override
    public long toolCalls() {
      return calculator.calls.get();
    }

    @Override
    public void close() {}
  }
}
