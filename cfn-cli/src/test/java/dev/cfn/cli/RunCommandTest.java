package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn run} end to end against the loopback model server. */
class RunCommandTest {
  @TempDir Path project;
  private ModelServer server;
  private Map<String, String> savedEnvironment;

  @BeforeEach
  void start() throws Exception {
    server = ModelServer.start();
    savedEnvironment = RunCommand.environment;
    RunCommand.environment = Map.of(); // no real keys from the machine running the tests
    Files.createDirectories(project.resolve(".claude/agents"));
    Files.writeString(
        project.resolve(".claude/agents/scribe.md"),
        """
        ---
        name: scribe
        description: Writes notes into the workspace
        tools: Write
        model: gpt-4o-mini
        ---
        You write short notes.
        """);
    Files.createDirectories(project.resolve(".cfn"));
    Files.writeString(
        project.resolve(".cfn/providers.yaml"),
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + server.openAiBaseUrl()
            + "\n    api-key: test-key\n    model: gpt-4o-mini\n");
  }

  @AfterEach
  void stop() {
    RunCommand.environment = savedEnvironment;
    server.close();
  }

  private CliRun run(String... args) {
    return CliRun.run(args);
  }

  private String[] args(String... more) {
    String[] base = {
      "run",
      "--agents",
      project.resolve(".claude/agents").toString(),
      "--project",
      project.toString(),
      "--workspace",
      project.toString(),
      "--memory",
      project.resolve(".cfn/memory.db").toString()
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void runsATaskWithAToolAndPrintsTheAnswerAndTheCost() throws Exception {
    server
        .script()
        .on(Match.toolResultPresent())
        .reply(Reply.text("Noted.").withUsage(100, 5, 0))
        .on(Match.any())
        .reply(
            Reply.toolCall("file_write", "{\"path\":\"note.txt\",\"content\":\"buy milk\"}")
                .withUsage(80, 10, 0));
    CliRun r = run(args("scribe", "note:", "buy", "milk"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("Noted.");
    assertThat(r.err()).contains("2 model calls").contains("1 tool calls, 0 denied");
    assertThat(Files.readString(project.resolve("note.txt"))).isEqualTo("buy milk");
    assertThat(server.requests().getFirst().lastUserMessage()).isEqualTo("note: buy milk");
    assertThat(server.requests().getFirst().toolNames()).containsExactly("file_write");
  }

  @Test
  void withoutWorkspaceTheFileToolsGetAFolderOfTheirOwnAndNeverTheProjectsConfig()
      throws Exception {
    String agentFile = Files.readString(project.resolve(".claude/agents/scribe.md"));
    server
        .script()
        .on(Match.toolResultPresent())
        .reply(Reply.text("Noted."))
        .on(Match.any())
        .reply(
            Reply.toolCall("file_write", "{\"path\":\"note.txt\",\"content\":\"buy milk\"}")
                .withToolCall(
                    "file_write",
                    "{\"path\":\".claude/agents/scribe.md\",\"content\":\"tools: \\\"*\\\"\"}"));
    CliRun r =
        run(
            "run",
            "--agents",
            project.resolve(".claude/agents").toString(),
            "--project",
            project.toString(),
            "--memory",
            project.resolve(".cfn/memory.db").toString(),
            "scribe",
            "note");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(project.resolve(RunCommand.DEFAULT_WORKSPACE).resolve("note.txt"))
        .hasContent("buy milk");
    assertThat(project.resolve("note.txt")).doesNotExist();
    assertThat(project.resolve(".claude/agents/scribe.md")).hasContent(agentFile);
    assertThat(project.resolve("workspace/.claude")).doesNotExist();
  }

  @Test
  void aBudgetOfOneCallStopsTheTaskWithExitOne() {
    server
        .script()
        .on(Match.any())
        .reply(Reply.toolCall("file_write", "{\"path\":\"a.txt\",\"content\":\"x\"}"));
    CliRun r = run(args("--max-calls", "1", "--json", "scribe", "loop"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("\"outcome\" : \"failed\"").contains("BUDGET_EXHAUSTED");
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  void streamPrintsTheAnswerAsItArrives() {
    server.script().on(Match.any()).reply(Reply.text("a streamed answer"));
    CliRun r = run(args("--stream", "scribe", "say", "something"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("a streamed answer");
    assertThat(server.requests().getFirst().stream()).isTrue();
    assertThat(run(args("--stream", "--json", "scribe", "x")).code()).isEqualTo(2);
  }

  @Test
  void anUnknownAgentIsExitTwoAndNamesTheAgentsThere() {
    CliRun r = run(args("nobody", "hello"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("no valid agent named 'nobody'")
        .contains("the agents there: scribe");
    assertThat(server.requests()).isEmpty();
  }
}
