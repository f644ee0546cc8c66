package dev.cfn.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.AnthropicProvider;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.Tool;
import dev.cfn.ai.tool.ToolResult;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.testkit.ModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Definitions, providers on the loopback model server, real tools and waiting, for the tests. */
final class AgentFixtures {
  static final String MODEL = "test-model";
  static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  private AgentFixtures() {}

  /** A definition as an agent file would say it, with {@code tools} as its tool list. */
  static AgentDefinition definition(String name, String tools, String extraFrontmatter) {
    String text =
        "---\nname: "
            + name
            + "\ndescription: A test agent that answers briefly\ntools: "
            + tools
            + "\n"
            + extraFrontmatter
            + "---\nYou are "
            + name
            + ". Answer briefly.\n";
    LoadResult result = DefinitionLoader.parse(text, Path.of(name + ".md"));
    if (result.hasErrors()) {
      throw new IllegalArgumentException("bad test definition: " + result.errors());
    }
    return result.definitions().getFirst();
  }

  static AgentDefinition definition(String name, String tools) {
    return definition(name, tools, "");
  }

  /** The bare protocol client pointed at {@code server}: one HTTP attempt per call. */
  static ModelProvider provider(ModelServer server, ProviderConfig.Kind kind) {
    ProviderConfig config = config(server, kind);
    return switch (kind) {
      case OPENAI -> OpenAiProvider.create(config);
      case ANTHROPIC -> AnthropicProvider.create(config);
    };
  }

  /** The settings {@link #provider} uses, for a test that wants them wrapped differently. */
  static ProviderConfig config(ModelServer server, ProviderConfig.Kind kind) {
    return ProviderConfig.builder(kind.name().toLowerCase(java.util.Locale.ROOT), kind)
        .baseUrl(
            kind == ProviderConfig.Kind.OPENAI ? server.openAiBaseUrl() : server.anthropicBaseUrl())
        .apiKey("test-key")
        .model(MODEL)
        .requestTimeout(Duration.ofSeconds(10))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** A real side-effecting tool that appends each note it is given to {@code saved}. */
  static Tool saveNote(List<String> saved) {
    return Tool.of(
        "save_note",
        "Saves a note for later",
        json(
            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
                + "\"required\":[\"text\"]}"),
        (args, ctx) -> {
          saved.add(args.get("text").asText());
          return ToolResult.text("saved note " + saved.size());
        });
  }

  /** A real read-only tool that adds two numbers. */
  static Tool add() {
    return Tool.readOnly(
        "add",
        "Adds two integers",
        json(
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},"
                + "\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}"),
        (args, ctx) ->
            ToolResult.text(Long.toString(args.get("a").asLong() + args.get("b").asLong())));
  }

  /** Collects the payloads an agent type receives, for published events. */
  static final class Inbox {
    final BlockingQueue<Object> payloads = new LinkedBlockingQueue<>();
    final List<Object> all = new CopyOnWriteArrayList<>();

    AgentType type(String name) {
      return AgentType.of(
          name,
          id ->
              (m, ctx) -> {
                all.add(m.payload());
                payloads.add(m.payload());
              });
    }

    Object next() throws InterruptedException {
      Object p = payloads.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      if (p == null) {
        throw new AssertionError("nothing arrived within " + WAIT);
      }
      return p;
    }
  }

  static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what);
      }
      Thread.sleep(5);
    }
  }

  static AgentRuntime runtime() {
    return AgentRuntime.builder().jvmMetrics(false).build();
  }
}
