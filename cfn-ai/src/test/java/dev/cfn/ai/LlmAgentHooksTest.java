package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.WAIT;
import static dev.cfn.ai.AgentFixtures.definition;
import static dev.cfn.ai.AgentFixtures.eventually;
import static dev.cfn.ai.AgentFixtures.provider;
import static dev.cfn.ai.AgentFixtures.saveNote;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.hook.CommandHook;
import dev.cfn.ai.hook.HookEvent;
import dev.cfn.ai.hook.HookOutcome;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.hook.PostEditPipeline;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolAudit;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hooks in the agent loop, against the loopback model server: what a hook says reaches the model, a
 * blocked tool never runs, a blocked task never calls the model, and a definition's own hooks run
 * only when allowed.
 */
class LlmAgentHooksTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private ModelServer server;
  private AgentRuntime rt;
  private ModelProvider model;
  private final List<String> notes = new CopyOnWriteArrayList<>();
  private final ToolRegistry registry = new ToolRegistry();

  @BeforeEach
  void start() {
    server = ModelServer.start();
    rt = AgentFixtures.runtime();
    model = provider(server, ProviderConfig.Kind.OPENAI);
    registry.register(saveNote(notes));
  }

  @AfterEach
  void stop() {
    rt.close();
    model.close();
    server.close();
  }

  private Object ask(String type, String task) {
    return rt.request(AgentId.of(type, "1"), new Task(task), WAIT).join().payload();
  }

  /**
   * The text of the tool result the model was sent in {@code request} (OpenAI's form, which has no
   * error flag: an error result starts with {@code ERROR: }).
   */
  private static String toolResult(RecordedRequest request) {
    for (JsonNode m : request.body().get("messages")) {
      if (m.path("role").asText().equals("tool")) {
        return m.get("content").asText();
      }
    }
    throw new AssertionError("no tool result in " + request.body());
  }

  private void scriptOneToolCall(String tool, String arguments) {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("Understood."));
    server.script().on(Match.any()).reply(Reply.toolCall(tool, arguments));
  }

  @Test
  void aBlockingPreToolHookKeepsTheToolFromRunningAndTheModelReadsWhy() {
    scriptOneToolCall("save_note", "{\"text\":\"buy milk\"}");
    ToolAudit audit = new ToolAudit();
    Hooks hooks =
        Hooks.builder()
            .preTool(
                "save_*",
                CommandHook.shell("echo 'notes are read-only today' >&2; exit 1")
                    .name("read-only")
                    .build())
            .build();
    rt.register(
        LlmAgent.builder(definition("scribe", "[save_note]"))
            .model(model)
            .tools(registry)
            .audit(audit)
            .hooks(hooks)
            .type("scribe"));

    assertThat(ask("scribe", "Remember to buy milk")).isInstanceOf(TaskResult.class);

    assertThat(notes).as("the tool never ran").isEmpty();
    assertThat(toolResult(server.requests().get(1)))
        .isEqualTo(
            "ERROR: The tool 'save_note' was not run: the pre-tool hook read-only blocked it: the hook"
                + " read-only exited with code 1: notes are read-only today\n"
                + "Do not repeat the same call; change it as the message says, or go on without it.");
    assertThat(audit.recent(AgentId.of("scribe", "1")))
        .singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(ToolAudit.Outcome.DENIED));
  }

  @Test
  void aPreToolHookThatTimesOutBlocksTheCallAndIsKilled() throws Exception {
    scriptOneToolCall("save_note", "{\"text\":\"buy milk\"}");
    Path pid = dir.resolve("pid");
    Hooks hooks =
        Hooks.builder()
            .preTool(
                "*",
                CommandHook.shell("echo $$ > " + pid + "; exec sleep 600")
                    .name("stuck")
                    .timeout(Duration.ofSeconds(1))
                    .build())
            .build();
    rt.register(
        LlmAgent.builder(definition("scribe", "[save_note]"))
            .model(model)
            .tools(registry)
            .hooks(hooks)
            .type("scribe"));

    assertThat(ask("scribe", "Remember to buy milk")).isInstanceOf(TaskResult.class);

    assertThat(notes).isEmpty();
    assertThat(toolResult(server.requests().get(1)))
        .contains("the hook stuck did not finish within PT1S and its process tree was killed");
    long hookPid = Long.parseLong(Files.readString(pid).strip());
    eventually(
        () -> ProcessHandle.of(hookPid).map(h -> !h.isAlive()).orElse(true),
        "the hook's process " + hookPid + " is gone");
  }

  @Test
  void thePostEditReportReachesTheModelWithTheToolsResult() throws Exception {
    Path workspace = Files.createDirectory(dir.resolve("work"));
    BuiltinTools.builder().workspace(workspace).registerIn(registry);
    scriptOneToolCall("file_write", "{\"path\":\"plan.txt\",\"content\":\"TODO: write it\\n\"}");
    Hooks hooks =
        Hooks.builder()
            .postEdit(
                PostEditPipeline.builder()
                    .language(
                        PostEditPipeline.Language.builder("text", "txt")
                            .format("cfn-no-such-formatter", "{file}")
                            .lint("sh", "-c", "! grep -n TODO \"$1\"", "lint", "{file}")
                            .build())
                    .build())
            .build();
    rt.register(
        LlmAgent.builder(definition("writer", "[file_write]"))
            .model(model)
            .tools(registry)
            .hooks(hooks)
            .type("writer"));

    assertThat(ask("writer", "Write the plan")).isInstanceOf(TaskResult.class);

    String seen = toolResult(server.requests().get(1));
    assertThat(seen)
        .startsWith("wrote 15 bytes to plan.txt\n\n[post-edit hook post-edit checks]\n");
    JsonNode report = JSON.readTree(seen.substring(seen.indexOf("]\n") + 2));
    assertThat(report.get("path").asText()).isEqualTo("plan.txt");
    assertThat(report.get("ok").asBoolean()).isFalse();
    assertThat(report.at("/steps/0/status").asText()).isEqualTo("missing");
    assertThat(report.at("/steps/1/status").asText()).isEqualTo("failed");
    assertThat(report.at("/steps/1/output").asText()).isEqualTo("1:TODO: write it");
    assertThat(workspace.resolve("plan.txt")).hasContent("TODO: write it");
  }

  @Test
  void aPostToolHookAddsFeedbackTheModelReads() {
    scriptOneToolCall("save_note", "{\"text\":\"buy milk\"}");
    Hooks hooks =
        Hooks.builder()
            .postTool(
                "save_note|other",
                e ->
                    HookOutcome.feedback(
                        "note stored by "
                            + e.agent()
                            + " ("
                            + ((HookEvent.PostTool) e).result()
                            + ")"))
            .build();
    rt.register(
        LlmAgent.builder(definition("scribe", "[save_note]"))
            .model(model)
            .tools(registry)
            .hooks(hooks)
            .type("scribe"));

    ask("scribe", "Remember to buy milk");

    assertThat(toolResult(server.requests().get(1)))
        .isEqualTo(
            "saved note 1\n\n[post-tool hook (Java callback)]\nnote stored by scribe/1 (saved note 1)");
  }

  @Test
  void aBlockingPreTaskHookFailsTheTaskBeforeAnyModelCallAndPostTaskHooksSeeTheOutcome() {
    server.script().on(Match.any()).reply(Reply.text("Done."));
    List<HookEvent> after = new CopyOnWriteArrayList<>();
    Hooks hooks =
        Hooks.builder()
            .preTask(
                e ->
                    ((HookEvent.PreTask) e).task().contains("delete")
                        ? HookOutcome.block("deleting is not allowed here; ask for an archive")
                        : HookOutcome.proceed())
            .postTask(
                e -> {
                  after.add(e);
                  return HookOutcome.proceed();
                })
            .build();
    rt.register(
        LlmAgent.builder(definition("keeper", "[]"))
            .model(model)
            .tools(registry)
            .hooks(hooks)
            .type("keeper"));

    Object refused = ask("keeper", "delete the archive");
    Object answered = ask("keeper", "list the archive");

    assertThat(refused)
        .isEqualTo(
            new TaskFailed(
                TaskFailed.Kind.BLOCKED,
                "agent keeper/1 did not start the task: the pre-task hook (Java callback) blocked"
                    + " it: deleting is not allowed here; ask for an archive"));
    assertThat(answered).isInstanceOf(TaskResult.class);
    assertThat(server.requests()).hasSize(1);
    assertThat(after)
        .containsExactly(
            new HookEvent.PostTask(
                AgentId.of("keeper", "1"),
                "delete the archive",
                false,
                ((TaskFailed) refused).reason()),
            new HookEvent.PostTask(AgentId.of("keeper", "1"), "list the archive", true, "Done."));
  }

  @Test
  void aDefinitionsHooksDoNotRunWithoutTheUsersAllowAndRunWithIt() throws Exception {
    server.script().on(Match.any()).reply(Reply.text("Planned."));
    Path ran = dir.resolve("ran");
    String hooks =
        "hooks:\n  pre: printf 'pre %s\\n' \"$TASK\" >> "
            + ran
            + "\n  post: printf 'post\\n' >> "
            + ran
            + "\n";
    rt.register(
        LlmAgent.builder(definition("planner", "[]", hooks)).model(model).type("untrusted"));
    rt.register(
        LlmAgent.builder(definition("planner", "[]", hooks))
            .model(model)
            .allowDefinitionHooks()
            .type("trusted"));

    assertThat(ask("untrusted", "plan the week")).isInstanceOf(TaskResult.class);
    assertThat(ran).as("no hook of the definition ran without the allow").doesNotExist();

    assertThat(ask("trusted", "plan the day")).isInstanceOf(TaskResult.class);
    assertThat(ran).hasContent("pre plan the day\npost");
  }
}
