package dev.cfn.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpSchema;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The call path itself, in process: each stage refuses before the next, nothing escapes. */
class ToolCatalogTest {
  @TempDir Path home;

  private final AtomicInteger ran = new AtomicInteger();

  private List<ToolDef> defs() {
    return List.of(
        new ToolDef(
            "boom",
            "Always throws.",
            AgentTools.schema("{\"type\":\"object\"}"),
            null,
            true,
            args -> {
              ran.incrementAndGet();
              throw new IllegalStateException("the handler broke");
            }),
        new ToolDef(
            "spend",
            "Needs run.",
            AgentTools.schema(
                "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},"
                    + "\"required\":[\"n\"]}"),
            McpPermission.RUN,
            false,
            args -> {
              ran.incrementAndGet();
              return ToolDef.Answer.done(
                  ToolCatalog.object().put("n", args.get("n").asInt()), "ok");
            }));
  }

  private static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().getFirst()).text();
  }

  @Test
  void aThrowingHandlerIsAToolErrorAndAThrowingAuditDoesNotFailTheCall() {
    ToolCatalog catalog =
        new ToolCatalog(
            defs(),
            McpSettings.of(home),
            new McpPrincipal("alice", "stdio"),
            call -> {
              throw new IllegalStateException("audit down");
            });
    McpSchema.CallToolResult r = catalog.call("boom", null);
    assertThat(r.isError()).isTrue();
    assertThat(text(r)).startsWith("boom failed: IllegalStateException: the handler broke");
    assertThat(catalog.counts().get(McpAudit.Outcome.FAILED)).isEqualTo(1);
  }

  @Test
  void deniedBeforeValidatedBeforeRunAndEachCallAuditedOnce() {
    List<McpAudit.Call> calls = new ArrayList<>();
    McpPrincipal alice = new McpPrincipal("alice", "stdio");
    ToolCatalog denied = new ToolCatalog(defs(), McpSettings.of(home), alice, calls::add);
    assertThat(text(denied.call("spend", Map.of("n", "not a number"))))
        .startsWith("permission denied: spend");
    ToolCatalog allowed =
        new ToolCatalog(
            defs(), McpSettings.of(home).allow(Set.of(McpPermission.RUN)), alice, calls::add);
    assertThat(text(allowed.call("spend", Map.of("n", "not a number"))))
        .startsWith("invalid arguments for spend: /n:");
    assertThat(text(allowed.call("nosuch", Map.of()))).contains("the tools are boom, spend");
    assertThat(ran).hasValue(0);
    assertThat(allowed.call("spend", Map.of("n", 7)).isError()).isFalse();
    assertThat(ran).hasValue(1);
    assertThat(calls)
        .extracting(McpAudit.Call::outcome)
        .containsExactly(
            McpAudit.Outcome.DENIED,
            McpAudit.Outcome.INVALID,
            McpAudit.Outcome.INVALID,
            McpAudit.Outcome.DONE);
    assertThat(calls).allSatisfy(c -> assertThat(c.principal()).isEqualTo(alice));
  }
}
