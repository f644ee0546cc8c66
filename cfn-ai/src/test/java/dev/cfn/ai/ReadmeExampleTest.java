package dev.cfn.ai;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.store.memory.SqliteMemoryStore;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's AI-agent example, as written there, against the loopback model server: the provider
 * comes from the environment ({@code OPENAI_BASE_URL}), the definition from a Claude Code style
 * agent file, and the model's tool call writes a file in the workspace.
 */
class ReadmeExampleTest {
  @TempDir Path project;

  @Test
  void theReadmeExampleRunsAsWritten() throws Exception {
    Path agents = Files.createDirectories(project.resolve(".claude/agents"));
    Files.writeString(
        agents.resolve("code-reviewer.md"),
        """
        ---
        name: code-reviewer
        description: Reviews a pull request and writes its findings to review.md
        tools: file_write, memory_search
        model: gpt-4o-mini
        ---
        You are a careful code reviewer. Write your findings to review.md.
        """);
    Path work = Files.createDirectories(project.resolve("work"));
    try (ModelServer server = ModelServer.start()) {
      server
          .script()
          .on(Match.toolResultPresent())
          .reply(Reply.text("Reviewed: one finding, written to review.md."))
          .on(Match.lastUserMessageContains("Review PR 42"))
          .reply(
              Reply.toolCall(
                  "file_write", "{\"path\":\"review.md\",\"content\":\"- null check missing\"}"));
      Map<String, String> env =
          Map.of("OPENAI_BASE_URL", server.openAiBaseUrl(), "OPENAI_API_KEY", "test-key");

      // --- as in the README (project dir and environment injected) ---
      LoadResult defs = DefinitionLoader.load(project.resolve(".claude/agents"));
      try (ModelRouter router = ModelRouter.create(ModelConfig.discover(project, env));
          SqliteMemoryStore memory = SqliteMemoryStore.open(project.resolve(".cfn/memory.db"));
          AgentRuntime rt = AgentRuntime.builder().build()) {
        ToolRegistry tools = new ToolRegistry();
        BuiltinTools.builder().memory(memory).messaging().workspace(work).registerIn(tools);
        Budget swarm = Budget.builder("swarm review").maxCostUsd("2.00").build();
        rt.register(
            LlmAgent.builder(defs.find("code-reviewer").orElseThrow())
                .router(router)
                .tools(tools)
                .budgetPerAgent(
                    id -> Budget.builder("agent " + id).maxCalls(40).parent(swarm).build())
                .type("reviewer"));
        Object result =
            rt.request(AgentId.of("reviewer", "1"), new Task("Review PR 42"), Duration.ofMinutes(1))
                .join()
                .payload();
        // --- end of the README's code ---

        assertThat(result).isInstanceOf(TaskResult.class);
        TaskResult done = (TaskResult) result;
        assertThat(done.text()).isEqualTo("Reviewed: one finding, written to review.md.");
        assertThat(done.turns()).isEqualTo(2);
      }
      assertThat(Files.readString(work.resolve("review.md"))).isEqualTo("- null check missing");
      assertThat(server.requests()).hasSize(2);
      assertThat(server.requests().getFirst().toolNames())
          .as("only the tools the definition lists are offered")
          .containsExactlyInAnyOrder("file_write", "memory_search");
    }
  }
}
