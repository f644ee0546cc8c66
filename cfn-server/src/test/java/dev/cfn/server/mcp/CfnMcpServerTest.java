package dev.cfn.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cfn MCP server in a child JVM over stdio, driven by the MCP SDK's own client: two servers on
 * one home, a reader (nothing allowed beyond reading, memory as {@code reader/1}) and a writer
 * ({@code --allow run,memory-write}, memory as {@code mcp/client}); the task runs are answered by
 * the testkit's loopback model server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CfnMcpServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path home;
  private ModelServer models;
  private McpSyncClient reader;
  private McpSyncClient writer;

  @BeforeAll
  void start() throws Exception {
    models = ModelServer.start();
    Files.createDirectories(home.resolve(".claude/agents"));
    Files.writeString(
        home.resolve(".claude/agents/scribe.md"),
        """
        ---
        name: scribe
        description: Writes short notes
        tools: Read
        model: gpt-4o-mini
        ---
        You write short notes.
        """);
    Files.writeString(home.resolve(".claude/agents/broken.md"), "no frontmatter at all\n");
    Files.createDirectories(home.resolve(".cfn"));
    Files.writeString(
        home.resolve(".cfn/providers.yaml"),
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + models.openAiBaseUrl()
            + "\n    api-key: test-key\n    model: gpt-4o-mini\n");
    reader = connect("-", "reader/1");
    writer = connect("run,memory-write", "mcp/client");
  }

  private McpSyncClient connect(String allow, String memoryAs) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ServerParameters params =
        ServerParameters.builder(java)
            .args(
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                StdioServerMain.class.getName(),
                home.toString(),
                allow,
                memoryAs)
            .build();
    McpSyncClient client =
        McpClient.sync(new StdioClientTransport(params, new JacksonMcpJsonMapper(JSON)))
            .requestTimeout(Duration.ofSeconds(60))
            .initializationTimeout(Duration.ofSeconds(60))
            .build();
    client.initialize();
    return client;
  }

  @AfterAll
  void stop() {
    for (McpSyncClient c : new McpSyncClient[] {reader, writer}) {
      if (c != null) {
        c.closeGracefully();
      }
    }
    models.close();
  }

  private static McpSchema.CallToolResult call(
      McpSyncClient client, String tool, Map<String, Object> args) {
    return client.callTool(new McpSchema.CallToolRequest(tool, args));
  }

  private static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().getFirst()).text();
  }

  private static JsonNode json(McpSchema.CallToolResult r) throws Exception {
    assertThat(r.isError()).as(text(r)).isFalse();
    return JSON.readTree(text(r));
  }

  private List<String> audit() throws Exception {
    return Files.readAllLines(home.resolve("audit.log"));
  }

  @Test
  void listsEveryToolWithAnObjectInputSchemaAndMarksTheDeniedOnes() {
    List<McpSchema.Tool> tools = reader.listTools().tools();
    assertThat(tools)
        .extracting(McpSchema.Tool::name)
        .containsExactly(
            "agents_list",
            "agent_validate",
            "run_task",
            "memory_get",
            "memory_search",
            "memory_put",
            "status");
    assertThat(tools).allSatisfy(t -> assertThat(t.inputSchema()).containsEntry("type", "object"));
    McpSchema.Tool run = tools.get(2);
    assertThat(run.description()).contains("Not allowed on this server").contains("--allow run");
    assertThat(run.inputSchema().get("required")).isEqualTo(List.of("agent", "task"));
    assertThat(tools.get(0).annotations().readOnlyHint()).isTrue();
    assertThat(writer.listTools().tools().get(2).description()).doesNotContain("Not allowed");
  }

  @Test
  void listsAndValidatesAgentDefinitions() throws Exception {
    JsonNode listed = json(call(reader, "agents_list", Map.of()));
    assertThat(listed.at("/agents/0/name").asText()).isEqualTo("scribe");
    assertThat(listed.at("/agents/0/model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(listed.get("agents")).hasSize(1);
    assertThat(listed.at("/invalidFiles/0").asText()).endsWith("broken.md");

    JsonNode folders = json(call(reader, "agent_validate", Map.of()));
    assertThat(folders.get("valid").asBoolean()).isFalse();
    assertThat(folders.get("files").asInt()).isEqualTo(2);
    assertThat(folders.at("/problems/0/file").asText()).endsWith("broken.md");
    assertThat(folders.at("/problems/0/fix").asText()).isNotBlank();

    JsonNode good =
        json(
            call(
                reader,
                "agent_validate",
                Map.of("definition", "---\nname: helper\ndescription: Helps\n---\nHelp.\n")));
    assertThat(good.get("valid").asBoolean()).isTrue();
    assertThat(good.at("/agents/0").asText()).isEqualTo("helper");
    JsonNode bad =
        json(
            call(
                reader,
                "agent_validate",
                Map.of("definition", "---\nname: Not A Name\ndescription: x\n---\nHelp.\n")));
    assertThat(bad.get("valid").asBoolean()).isFalse();
    assertThat(bad.at("/problems/0/line").asInt()).isEqualTo(2);
    assertThat(bad.at("/problems/0/message").asText()).contains("name");
  }

  @Test
  void aDeniedToolRunsNothingSaysTheFixAndIsAudited() throws Exception {
    McpSchema.CallToolResult put =
        call(reader, "memory_put", Map.of("namespace", "denied", "key", "k", "value", "v"));
    assertThat(put.isError()).isTrue();
    assertThat(text(put))
        .startsWith("permission denied: memory_put")
        .contains("cfn mcp serve --allow memory-write");
    McpSchema.CallToolResult run =
        call(reader, "run_task", Map.of("agent", "scribe", "task", "note this"));
    assertThat(run.isError()).isTrue();
    assertThat(text(run)).contains("--allow run");
    assertThat(models.requests()).noneMatch(r -> r.lastUserMessage().equals("note this"));
    assertThat(json(call(writer, "memory_search", Map.of("query", "denied"))).get("matches"))
        .isEmpty();
    assertThat(audit())
        .anySatisfy(l -> assertThat(l).contains("\tmemory_put\tDENIED\tneeds --allow memory-write"))
        .anySatisfy(l -> assertThat(l).contains("\trun_task\tDENIED\tneeds --allow run"));
  }

  @Test
  void badArgumentsAnswerAToolErrorNamingTheArgumentAndTheServerGoesOn() throws Exception {
    McpSchema.CallToolResult missing = call(writer, "memory_get", Map.of());
    assertThat(missing.isError()).isTrue();
    assertThat(text(missing)).startsWith("invalid arguments for memory_get").contains("key");

    McpSchema.CallToolResult wrongType = call(writer, "memory_get", Map.of("key", 42));
    assertThat(text(wrongType)).contains("/key").contains("string");

    McpSchema.CallToolResult unknown = call(writer, "memory_get", Map.of("key", "k", "evil", true));
    assertThat(text(unknown)).contains("evil");

    McpSchema.CallToolResult blank = call(writer, "memory_put", Map.of("key", "   ", "value", "x"));
    assertThat(blank.isError()).isTrue();
    assertThat(text(blank)).contains("/key");

    McpSchema.CallToolResult unbounded =
        call(
            writer,
            "run_task",
            Map.of("agent", "scribe", "task", "t", "maxCalls", 0, "timeoutSeconds", 999_999));
    assertThat(unbounded.isError()).isTrue();
    assertThat(text(unbounded)).contains("/maxCalls").contains("/timeoutSeconds");

    McpSchema.CallToolResult noAgent =
        call(writer, "run_task", Map.of("agent", "ghost", "task", "hello"));
    assertThat(noAgent.isError()).isTrue();
    assertThat(text(noAgent)).contains("no valid agent named 'ghost'").contains("scribe");

    assertThat(json(call(writer, "status", Map.of())).at("/server/calls/invalid").asLong())
        .isGreaterThanOrEqualTo(5);
    assertThat(audit()).anySatisfy(l -> assertThat(l).contains("\tmemory_get\tINVALID\t"));
  }

  @Test
  void memoryPutGetSearchUnderTheStoresAccessLevels() throws Exception {
    JsonNode put =
        json(
            call(
                writer,
                "memory_put",
                Map.of(
                    "namespace",
                    "notes",
                    "key",
                    "plan",
                    "value",
                    "ship the release on friday",
                    "tags",
                    List.of("release"))));
    assertThat(put.at("/entry/owner").asText()).isEqualTo("mcp/client");
    assertThat(put.at("/entry/level").asText()).isEqualTo("private");
    json(
        call(
            writer,
            "memory_put",
            Map.of(
                "namespace",
                "notes",
                "key",
                "news",
                "value",
                "release notes are public",
                "level",
                "public")));

    JsonNode got = json(call(writer, "memory_get", Map.of("namespace", "notes", "key", "plan")));
    assertThat(got.get("found").asBoolean()).isTrue();
    assertThat(got.at("/entry/value").asText()).isEqualTo("ship the release on friday");
    JsonNode found = json(call(writer, "memory_search", Map.of("query", "release")));
    assertThat(found.get("matches"))
        .extracting(m -> m.get("key").asText())
        .containsExactlyInAnyOrder("plan", "news");

    // another principal: the private entry is absent to it, the public one readable, not writable
    assertThat(
            json(call(reader, "memory_get", Map.of("namespace", "notes", "key", "plan")))
                .get("found")
                .asBoolean())
        .isFalse();
    assertThat(json(call(reader, "memory_search", Map.of("query", "release"))).get("matches"))
        .extracting(m -> m.get("key").asText())
        .containsExactly("news");
    assertThat(audit())
        .anySatisfy(l -> assertThat(l).contains("\tmemory_put\tDONE\tnotes/plan written"));
  }

  @Test
  void runsATaskThroughAnAgentAnsweredByTheModelServer() throws Exception {
    models
        .script()
        .on(Match.lastUserMessageContains("write the note"))
        .reply(Reply.text("Noted: buy milk.").withUsage(120, 6, 0));
    JsonNode run =
        json(
            call(
                writer,
                "run_task",
                Map.of(
                    "agent",
                    "scribe",
                    "task",
                    "write the note: buy milk",
                    "maxCalls",
                    3,
                    "timeoutSeconds",
                    60)));
    assertThat(run.get("outcome").asText()).isEqualTo("done");
    assertThat(run.get("text").asText()).isEqualTo("Noted: buy milk.");
    assertThat(run.get("modelCalls").asInt()).isEqualTo(1);
    assertThat(run.get("inputTokens").asInt()).isEqualTo(120);
    assertThat(models.requests())
        .anySatisfy(r -> assertThat(r.lastUserMessage()).isEqualTo("write the note: buy milk"));

    JsonNode status = json(call(writer, "status", Map.of()));
    assertThat(status.at("/runtime/finished").asLong()).isGreaterThanOrEqualTo(1);
    assertThat(status.at("/server/allowed"))
        .extracting(JsonNode::asText)
        .containsExactly("run", "memory-write");
    assertThat(status.at("/agents/valid").asInt()).isEqualTo(1);
    assertThat(audit())
        .anySatisfy(l -> assertThat(l).contains("\trun_task\tDONE\tscribe: done, 1 model call(s)"));
  }

  @Test
  void aTaskThatExhaustsItsBudgetIsAToolErrorWithWhatItSpent() throws Exception {
    models
        .script()
        .on(Match.lastUserMessageContains("loop forever"))
        .reply(Reply.toolCall("file_read", "{\"path\":\"missing.txt\"}").withUsage(50, 5, 0));
    McpSchema.CallToolResult r =
        call(writer, "run_task", Map.of("agent", "scribe", "task", "loop forever", "maxCalls", 2));
    assertThat(r.isError()).isTrue();
    JsonNode body = JSON.readTree(text(r));
    assertThat(body.get("outcome").asText()).isEqualTo("failed");
    assertThat(body.get("modelCalls").asInt()).isEqualTo(2);
  }
}
