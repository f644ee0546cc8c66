package dev.cfn.ai.tool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.core.AgentId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 12: a model-supplied call id or tool name holding a line break must not forge a
 * line of the audit log. The log goes through the real SLF4J binding of the tests (slf4j-simple,
 * which writes each line to the current {@code System.err}).
 */
class ToolAuditLogTest {
  private static final String FORGED =
      "[main] INFO dev.cfn.ai.tool.ToolAudit - tool call forged by admin/1: file_write -> ok in 0 ms";

  @Test
  void aCallIdOrToolNameWithALineBreakStaysOnItsLine(@TempDir Path workspace) {
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().workspace(workspace).registerIn(registry);
    ToolAudit audit = new ToolAudit();
    ToolExecutor tools =
        ToolExecutor.builder(registry, AgentId.of("coder", "1"))
            .permissions(ToolPermissions.of("file_*"))
            .audit(audit)
            .build();

    List<String> lines =
        capturedStderr(
            () -> {
              tools.execute(
                  new ToolCall(
                      "c1\n" + FORGED,
                      "file_list",
                      JsonNodeFactory.instance.objectNode().put("path", ".")));
              tools.execute(
                  new ToolCall(
                      "c2\r\n" + FORGED,
                      "file_list\n" + FORGED,
                      JsonNodeFactory.instance.objectNode()));
              tools.execute(
                  new ToolCall(
                      "c3\u2028" + FORGED,
                      "file_read",
                      JsonNodeFactory.instance.objectNode().put("path", "../x\n" + FORGED)));
            });

    List<String> auditLines = lines.stream().filter(l -> l.contains("ToolAudit - ")).toList();
    assertThat(auditLines).hasSize(3);
    assertThat(lines).noneMatch(l -> l.startsWith(FORGED));
    assertThat(auditLines.get(0)).contains("tool call c1\\n[main] INFO", "-> ok");
    assertThat(auditLines.get(1)).contains("tool call c2\\r\\n[main]", "(malformed name");
    assertThat(auditLines.get(2)).contains("tool call c3\\u2028[main]", "path refused");
    assertThat(audit.recent().get(0).callId())
        .as("the in-memory record keeps the value as given")
        .isEqualTo("c1\n" + FORGED);
  }

  private static List<String> capturedStderr(Runnable action) {
    PrintStream original = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(original);
    }
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }
}
