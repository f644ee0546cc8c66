package dev.cfn.ai.tool;

import static dev.cfn.ai.tool.ToolRegistryTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.ToolSpec;
import dev.cfn.core.AgentId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ToolExecutorTest {
  private static final AgentId CODER = AgentId.of("coder", "1");
  private static final String SECRET = "sk-live-0123456789abcdef";

  private final AtomicInteger calls = new AtomicInteger();
  private final ToolRegistry registry = new ToolRegistry();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ToolAudit audit = new ToolAudit(100, meters);

  @BeforeEach
  void registerTools() {
    Tool counted =
        Tool.of(
            "store_secret",
            "Stores a secret.",
            json(
                """
                {"type": "object", "properties": {
                  "name": {"type": "string", "minLength": 1},
                  "secret": {"type": "string"},
                  "copies": {"type": "integer", "minimum": 1, "maximum": 3}},
                 "required": ["name", "secret"], "additionalProperties": false}
                """),
            (args, ctx) -> {
              calls.incrementAndGet();
              return ToolResult.text("stored " + args.get("name").asText());
            });
    registry.register(counted);
    for (String name : new String[] {"mcp__github__issue", "mcp__github__pr", "mcp__jira__issue"}) {
      registry.register(
          Tool.readOnly(
              name,
              "A tool.",
              json("{\"type\":\"object\"}"),
              (args, ctx) -> {
                calls.incrementAndGet();
                return ToolResult.text(name);
              }));
    }
  }

  private ToolExecutor executor(ToolPermissions permissions) {
    return ToolExecutor.builder(registry, CODER).permissions(permissions).audit(audit).build();
  }

  private double counted(String tool, String outcome) {
    var counter =
        meters
            .find(ToolAudit.CALLS)
            .tag("agent-type", "coder")
            .tag("tool", tool)
            .tag("outcome", outcome)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void invalidArgumentsAreListedAndTheToolNeverRuns() {
    ToolExecutor tools = executor(ToolPermissions.of("store_secret"));
    ToolResult result =
        tools.execute(
            new ToolCall(
                "c1",
                "store_secret",
                json("{\"name\": \"\", \"copies\": 9, \"colour\": \"" + SECRET + "\"}")));

    assertThat(result.isError()).isTrue();
    assertThat(result.content())
        .startsWith("The arguments for tool 'store_secret' do not match its input schema")
        .contains("- /name: must be at least 1 characters long")
        .contains("- /copies: must have a maximum value of 3")
        .contains("required property 'secret' not found")
        .contains("property 'colour' is not defined");
    assertThat(calls).hasValue(0);
    ToolAudit.Entry entry = audit.recent().getFirst();
    assertThat(entry.outcome()).isEqualTo(ToolAudit.Outcome.INVALID);
    assertThat(entry.detail()).contains("minLength at /name").doesNotContain(SECRET);
    assertThat(counted("store_secret", "invalid")).isEqualTo(1);
  }

  @Test
  void brokenJsonIsReturnedToTheModelAndTheToolNeverRuns() {
    ToolExecutor tools = executor(ToolPermissions.of("store_secret"));
    ToolResult result =
        tools.execute(
            new ToolCall(
                "c2",
                "store_secret",
                JsonNodeFactory.instance.textNode("{\"name\": \"a\", \"secret\": \"" + SECRET)));

    assertThat(result.isError()).isTrue();
    assertThat(result.content())
        .startsWith("The arguments for tool 'store_secret' are not a JSON object")
        .contains("not valid JSON");
    ToolResult array =
        tools.execute(new ToolCall("c3", "store_secret", JsonNodeFactory.instance.textNode("[1]")));
    assertThat(array.content()).contains("they are JSON ARRAY");
    assertThat(calls).hasValue(0);
    assertThat(audit.recent())
        .allSatisfy(
            e -> {
              assertThat(e.outcome()).isEqualTo(ToolAudit.Outcome.INVALID);
              assertThat(e.detail()).doesNotContain(SECRET);
            });
  }

  @Test
  void validArgumentsRunTheTool() {
    ToolExecutor tools = executor(ToolPermissions.of("store_secret"));
    ToolResult result =
        tools.execute(
            new ToolCall(
                "c4", "store_secret", json("{\"name\":\"db\",\"secret\":\"" + SECRET + "\"}")));
    assertThat(result).isEqualTo(ToolResult.text("stored db"));
    assertThat(calls).hasValue(1);
    ToolAudit.Entry entry = audit.recent().getFirst();
    assertThat(entry.outcome()).isEqualTo(ToolAudit.Outcome.OK);
    assertThat(entry.agent()).isEqualTo(CODER);
    assertThat(entry.callId()).isEqualTo("c4");
    assertThat(entry.detail()).isEmpty();
    assertThat(counted("store_secret", "ok")).isEqualTo(1);
    assertThat(tools.sideEffecting("store_secret")).isTrue();
    assertThat(tools.sideEffecting("mcp__github__pr")).isFalse();
    assertThat(tools.sideEffecting("never_registered")).isTrue();
  }

  @Test
  void aDeniedCallIsRefusedRecordedAndCounted() {
    ToolExecutor tools = executor(ToolPermissions.of("mcp__github__issue"));
    ToolResult result =
        tools.execute(
            new ToolCall("c5", "store_secret", json("{\"name\":\"x\",\"secret\":\"y\"}")));

    assertThat(result.isError()).isTrue();
    assertThat(result.content())
        .isEqualTo(
            "Permission denied: agent coder/1 may not use the tool 'store_secret'. The tool was not"
                + " run. Use only the tools you were offered.");
    assertThat(calls).hasValue(0);
    assertThat(audit.recent(CODER))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.tool()).isEqualTo("store_secret");
              assertThat(e.outcome()).isEqualTo(ToolAudit.Outcome.DENIED);
            });
    assertThat(counted("store_secret", "denied")).isEqualTo(1);

    tools.execute(new ToolCall("c6", "rm_rf", json("{}")));
    assertThat(counted(ToolAudit.UNKNOWN_TOOL, "denied"))
        .as("names the model invents are not tags")
        .isEqualTo(1);
  }

  @Test
  void noPermissionsMeansNoToolsAtAll() {
    ToolExecutor tools = ToolExecutor.builder(registry, CODER).audit(audit).build();
    assertThat(tools.specs()).isEmpty();
    assertThat(tools.execute(new ToolCall("c7", "mcp__github__pr", json("{}"))).isError()).isTrue();
    assertThat(calls).hasValue(0);
  }

  @Test
  void onlyPermittedSpecsAreOfferedAndGlobsWork() {
    ToolExecutor github = executor(ToolPermissions.of("mcp__github__*", "store_secret"));
    assertThat(github.specs())
        .extracting(ToolSpec::name)
        .containsExactly("mcp__github__issue", "mcp__github__pr", "store_secret");
    assertThat(github.execute(new ToolCall("c8", "mcp__github__pr", json("{}"))))
        .isEqualTo(ToolResult.text("mcp__github__pr"));
    assertThat(github.execute(new ToolCall("c9", "mcp__jira__issue", json("{}"))).isError())
        .isTrue();

    ToolExecutor everything = executor(ToolPermissions.of("*"));
    assertThat(everything.specs()).hasSize(4);
  }

  @Test
  void anEmptyRegistryOffersNothingUntilAToolIsRegistered() {
    ToolRegistry empty = new ToolRegistry();
    ToolExecutor tools =
        ToolExecutor.builder(empty, CODER)
            .permissions(ToolPermissions.of("*"))
            .audit(audit)
            .build();
    assertThat(tools.specs()).isEmpty();

    empty.register(
        Tool.readOnly(
            "late", "A tool.", json("{\"type\":\"object\"}"), (args, ctx) -> ToolResult.text("")));

    assertThat(tools.specs()).extracting(ToolSpec::name).containsExactly("late");
  }

  @Test
  void aPermittedButUnknownToolIsInvalidAndNamesTheOffer() {
    ToolExecutor tools = executor(ToolPermissions.of("mcp__*"));
    ToolResult result = tools.execute(new ToolCall("c10", "mcp__github__merge", json("{}")));
    assertThat(result.isError()).isTrue();
    assertThat(result.content())
        .isEqualTo(
            "There is no tool named 'mcp__github__merge'. The tools you may use are:"
                + " mcp__github__issue, mcp__github__pr, mcp__jira__issue.");
    assertThat(audit.recent().getFirst().outcome()).isEqualTo(ToolAudit.Outcome.INVALID);
  }

  @Test
  void aToolThatOverrunsItsTimeoutIsInterruptedAndReported() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    registry.register(
        Tool.of(
            "slow",
            "Waits forever.",
            json("{\"type\":\"object\"}"),
            (args, ctx) -> {
              try {
                new CountDownLatch(1).await();
              } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
              }
              return ToolResult.text("never");
            }));
    ToolExecutor tools =
        ToolExecutor.builder(registry, CODER)
            .permissions(ToolPermissions.of("slow"))
            .audit(audit)
            .timeout(Duration.ofMillis(200))
            .build();

    ToolResult result = tools.execute(new ToolCall("c11", "slow", json("{}")));
    assertThat(result.isError()).isTrue();
    assertThat(result.content())
        .isEqualTo(
            "The tool 'slow' did not finish within PT0.2S and was interrupted; it may have done"
                + " part of its work.");
    assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(audit.recent().getFirst().detail()).startsWith("timed out");
  }

  @Test
  void theContextCarriesTheAgentAndTheDeadline() {
    registry.register(
        Tool.readOnly(
            "whoami",
            "Says who calls.",
            json("{\"type\":\"object\"}"),
            (args, ctx) ->
                ToolResult.text(
                    ctx.agent()
                        + " "
                        + ctx.swarm()
                        + " "
                        + ctx.project()
                        + " "
                        + (ctx.agentContext() == null)
                        + " "
                        + (ctx.remaining().compareTo(Duration.ofSeconds(5)) <= 0))));
    ToolExecutor tools =
        ToolExecutor.builder(registry, CODER)
            .swarm("alpha")
            .project("shop")
            .permissions(ToolPermissions.of("whoami"))
            .timeout(Duration.ofSeconds(5))
            .build();
    assertThat(tools.execute(new ToolCall("c12", "whoami", json("{}"))))
        .isEqualTo(ToolResult.text("coder/1 alpha shop true true"));
  }

  @Test
  void longResultsAreCutWithANote() {
    registry.register(
        Tool.readOnly(
            "big",
            "Returns a lot.",
            json("{\"type\":\"object\"}"),
            (args, ctx) -> ToolResult.text("x".repeat(150))));
    ToolExecutor tools =
        ToolExecutor.builder(registry, CODER)
            .permissions(ToolPermissions.of("big"))
            .maxResultChars(100)
            .build();
    assertThat(tools.execute(new ToolCall("c13", "big", json("{}"))).content())
        .isEqualTo("x".repeat(100) + "\n[truncated: 50 more characters]");
  }

  @Test
  void aNullResultIsAnError() {
    registry.register(
        Tool.readOnly("nothing", "Returns null.", json("{\"type\":\"object\"}"), (a, c) -> null));
    ToolResult result =
        executor(ToolPermissions.of("nothing")).execute(new ToolCall("c14", "nothing", json("{}")));
    assertThat(result).isEqualTo(ToolResult.error("The tool 'nothing' returned no result."));
  }

  @Test
  void theAuditKeepsOnlyTheMostRecentCalls() {
    ToolAudit small = new ToolAudit(2, null);
    ToolExecutor tools =
        ToolExecutor.builder(registry, CODER)
            .permissions(ToolPermissions.of("mcp__github__pr"))
            .audit(small)
            .build();
    for (int i = 0; i < 3; i++) {
      tools.execute(new ToolCall("call" + i, "mcp__github__pr", json("{}")));
    }
    assertThat(small.recent())
        .extracting(ToolAudit.Entry::callId)
        .containsExactly("call1", "call2");
    assertThatThrownBy(() -> new ToolAudit(0, null)).isInstanceOf(IllegalArgumentException.class);
  }
}
