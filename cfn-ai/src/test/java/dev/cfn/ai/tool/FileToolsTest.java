package dev.cfn.ai.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.core.AgentId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileToolsTest {
  @TempDir Path dir;
  private Path workspace;
  private Path outside;
  private ToolExecutor tools;

  @BeforeEach
  void setUp() throws Exception {
    workspace = Files.createDirectories(dir.resolve("workspace"));
    outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "the outside secret");
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder()
        .workspace(workspace)
        .maxReadBytes(16)
        .maxWriteBytes(64)
        .registerIn(registry);
    tools =
        ToolExecutor.builder(registry, AgentId.of("coder", "1"))
            .permissions(ToolPermissions.of(BuiltinTools.FILES))
            .build();
  }

  private ToolResult call(String tool, ObjectNode arguments) {
    return tools.execute(new ToolCall("c", tool, arguments));
  }

  private static ObjectNode path(String path) {
    return JsonNodeFactory.instance.objectNode().put("path", path);
  }

  private ToolResult read(String path) {
    return call(FileTools.READ, path(path));
  }

  private ToolResult write(String path, String content) {
    return call(FileTools.WRITE, path(path).put("content", content));
  }

  @Test
  void writeReadAndListInsideTheWorkspace() throws Exception {
    assertThat(write("notes/plan.md", "step one"))
        .isEqualTo(ToolResult.text("wrote 8 bytes to notes/plan.md"));
    assertThat(
            call(FileTools.WRITE, path("notes/plan.md").put("content", "+2").put("append", true)))
        .isEqualTo(ToolResult.text("appended 2 bytes to notes/plan.md"));
    assertThat(Files.readString(workspace.resolve("notes/plan.md"))).isEqualTo("step one+2");
    assertThat(read("notes/plan.md")).isEqualTo(ToolResult.text("step one+2"));
    assertThat(read("./notes/../notes/plan.md").isError()).as("'..' anywhere is refused").isTrue();

    Files.writeString(workspace.resolve("top.txt"), "hi");
    assertThat(call(FileTools.LIST, JsonNodeFactory.instance.objectNode()))
        .isEqualTo(ToolResult.text("notes/\ntop.txt (2 bytes)"));
    assertThat(call(FileTools.LIST, path("notes")))
        .isEqualTo(ToolResult.text("plan.md (10 bytes)"));
    Files.createDirectories(workspace.resolve("empty"));
    assertThat(call(FileTools.LIST, path("empty"))).isEqualTo(ToolResult.text("(empty directory)"));
  }

  @Test
  void readsAreLimitedAndContinueAtAnOffset() throws Exception {
    Files.writeString(workspace.resolve("long.txt"), "abcdefghijklmnopqrstuvwxyz");
    assertThat(read("long.txt"))
        .isEqualTo(
            ToolResult.text(
                "abcdefghijklmnop\n[read bytes 0 to 16 of 26; call file_read with offset 16 for more]"));
    assertThat(call(FileTools.READ, path("long.txt").put("offset", 16)))
        .isEqualTo(ToolResult.text("qrstuvwxyz"));
    assertThat(call(FileTools.READ, path("long.txt").put("offset", 2).put("length", 3)).content())
        .startsWith("cde\n[read bytes 2 to 5 of 26");
    assertThat(call(FileTools.READ, path("long.txt").put("length", 17)).content())
        .as("a length over the limit is refused by the schema")
        .contains("/length");
    assertThat(call(FileTools.READ, path("long.txt").put("offset", 99)).content())
        .contains("past the end");
  }

  @Test
  void writesOverTheLimitAreRefused() {
    ToolResult result = write("big.txt", "x".repeat(65));
    assertThat(result.isError()).isTrue();
    assertThat(result.content()).contains("65 bytes, more than the 64");
    assertThat(workspace.resolve("big.txt")).doesNotExist();
  }

  @Test
  void parentPathsAreRefused() {
    for (String escape :
        new String[] {"../outside/secret.txt", "a/../../outside/secret.txt", ".."}) {
      assertThat(read(escape).content()).contains("'..' is not allowed");
      assertThat(write(escape, "pwned").content()).contains("'..' is not allowed");
      assertThat(call(FileTools.LIST, path(escape)).content()).contains("'..' is not allowed");
    }
    assertThat(outside.resolve("secret.txt")).hasContent("the outside secret");
  }

  @Test
  void absolutePathsAreRefusedEvenInsideTheWorkspace() throws Exception {
    Files.writeString(workspace.resolve("mine.txt"), "mine");
    for (String absolute :
        new String[] {
          outside.resolve("secret.txt").toString(),
          workspace.resolve("mine.txt").toString(),
          "/etc/passwd",
          "\\etc\\passwd",
          "C:\\Windows\\win.ini"
        }) {
      assertThat(read(absolute).content()).contains("absolute paths are not allowed");
      assertThat(write(absolute, "x").content()).contains("absolute paths are not allowed");
    }
    assertThat(read("nul\0byte").content()).contains("NUL");
  }

  @Test
  void symbolicLinksAreNeverFollowed() throws Exception {
    Files.createSymbolicLink(workspace.resolve("link.txt"), outside.resolve("secret.txt"));
    Files.createSymbolicLink(workspace.resolve("out"), outside);
    Files.createSymbolicLink(
        workspace.resolve("dangling"), outside.resolve("created-by-model.txt"));
    Files.writeString(workspace.resolve("inside.txt"), "inside");
    Files.createSymbolicLink(workspace.resolve("good-link"), workspace.resolve("inside.txt"));

    assertThat(read("link.txt").content()).contains("symbolic link");
    assertThat(write("link.txt", "overwritten").isError()).isTrue();
    assertThat(read("out/secret.txt").content()).contains("symbolic link");
    assertThat(write("out/new.txt", "x").isError()).isTrue();
    assertThat(call(FileTools.LIST, path("out")).content()).contains("symbolic link");
    assertThat(write("dangling", "x").content()).contains("symbolic link");

    assertThat(outside.resolve("secret.txt")).hasContent("the outside secret");
    assertThat(outside.resolve("new.txt")).doesNotExist();
    assertThat(outside.resolve("created-by-model.txt")).doesNotExist();
    assertThat(read("good-link").content())
        .as("the kernel refuses every link, even one that stays inside")
        .contains("follow no symbolic links");
    assertThat(read("inside.txt")).isEqualTo(ToolResult.text("inside"));
    assertThat(call(FileTools.LIST, JsonNodeFactory.instance.objectNode()).content())
        .contains("link.txt (symbolic link)");
  }

  @Test
  void directoriesAndFilesAreNotMistaken() throws Exception {
    Files.createDirectories(workspace.resolve("d"));
    assertThat(read("d").content()).contains("is not a file");
    assertThat(read("missing.txt").content()).contains("does not exist");
    assertThat(write("d", "x").content()).contains("is a directory");
    Files.writeString(workspace.resolve("f"), "f");
    assertThat(call(FileTools.LIST, path("f")).content()).contains("is not a directory");
  }

  @Test
  void theWorkspaceMustExist() {
    assertThatThrownBy(() -> BuiltinTools.builder().workspace(dir.resolve("nope")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a directory");
  }

  @Test
  void readsDoNotHaveSideEffectsAndWritesDo() {
    assertThat(tools.sideEffecting(FileTools.READ)).isFalse();
    assertThat(tools.sideEffecting(FileTools.LIST)).isFalse();
    assertThat(tools.sideEffecting(FileTools.WRITE)).isTrue();
  }
}
