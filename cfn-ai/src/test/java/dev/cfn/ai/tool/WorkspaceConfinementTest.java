package dev.cfn.ai.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.internal.os.Linux;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.core.AgentId;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of issue 10 items 1, 6 and 12 against the real file tools on real files: cfn's own
 * files, a concurrent directory-for-symlink swap, hard links, SQLite files under innocent names and
 * file names that would forge listing lines.
 */
class WorkspaceConfinementTest {
  @TempDir Path dir;
  private Path workspace;
  private Path outside;
  private ToolAudit audit;
  private ToolExecutor tools;

  @BeforeEach
  void setUp() throws Exception {
    workspace = Files.createDirectories(dir.resolve("workspace"));
    outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "the outside secret");
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().workspace(workspace).registerIn(registry);
    audit = new ToolAudit();
    tools =
        ToolExecutor.builder(registry, AgentId.of("coder", "1"))
            .permissions(ToolPermissions.of(BuiltinTools.FILES))
            .audit(audit)
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

  private ToolResult list(String path) {
    return call(FileTools.LIST, path(path));
  }

  @Test
  void projectLockFilesAreOrdinaryFilesButALiveStoresFilesAreNot() throws Exception {
    List<String> projectFiles =
        List.of("Cargo.lock", "yarn.lock", "package-lock.json", "flake.lock", "web/Gemfile.lock");
    for (String name : projectFiles) {
      assertThat(write(name, "locked " + name).content()).as(name).doesNotContain("own files");
      assertThat(read(name).content()).as(name).contains("locked " + name);
    }
    assertThat(list(".").content()).contains("Cargo.lock").contains("package-lock.json");

    // a real store opened in the workspace: cfn-store names its lock file, the rules must match
    try (SqliteJournal journal = SqliteJournal.builder(workspace.resolve("journal.db")).open()) {
      List<String> storeFiles;
      try (Stream<Path> files = Files.list(workspace)) {
        storeFiles =
            files
                .filter(Files::isRegularFile)
                .map(p -> p.getFileName().toString())
                .filter(n -> !projectFiles.contains(n))
                .toList();
      }
      assertThat(storeFiles).contains("journal.db", "journal.db.lock");
      for (String name : storeFiles) {
        assertThat(read(name).content()).as(name).contains("cfn's own files");
        assertThat(write(name, "1").content()).as(name).contains("cfn's own files");
      }
      assertThat(Files.readString(workspace.resolve("journal.db.lock")).strip())
          .as("the owner's pid, untouched")
          .isEqualTo(Long.toString(ProcessHandle.current().pid()));
    }
  }

  @Test
  void noPathCrossesAMountPointBelowTheWorkspace() throws Exception {
    assumeTrue(Linux.available(), "needs Linux");
    Object rootDevice = Files.getAttribute(Path.of("/"), "unix:dev");
    assumeTrue(
        Files.isRegularFile(Path.of("/proc/version"))
            && !rootDevice.equals(Files.getAttribute(Path.of("/proc"), "unix:dev")),
        "needs /proc mounted below /");
    // the whole root file system as the workspace: /proc is a mount point inside it
    ToolRegistry registry = new ToolRegistry();
    BuiltinTools.builder().workspace(Path.of("/")).registerIn(registry);
    ToolExecutor rootTools =
        ToolExecutor.builder(registry, AgentId.of("coder", "2"))
            .permissions(ToolPermissions.of(BuiltinTools.FILES))
            .build();

    ToolResult status = rootTools.execute(new ToolCall("c", FileTools.READ, path("proc/version")));
    ToolResult listing = rootTools.execute(new ToolCall("c", FileTools.LIST, path("proc")));

    assertThat(status.isError()).isTrue();
    assertThat(status.content()).contains("another mount point").doesNotContain("Linux version");
    assertThat(listing.content()).contains("another mount point");
    // control: the same workspace still reads a file on its own file system
    Path sameMount = workspace.resolve("same.txt");
    Files.writeString(sameMount, "same mount");
    if (rootDevice.equals(Files.getAttribute(sameMount, "unix:dev"))) {
      String relative = sameMount.toRealPath().toString().substring(1);
      assertThat(rootTools.execute(new ToolCall("c", FileTools.READ, path(relative))).content())
          .contains("same mount");
    }
  }

  @Test
  void cfnsOwnFilesAreRefusedWhateverTheWorkspace() throws Exception {
    Path agents = Files.createDirectories(workspace.resolve(".claude/agents"));
    Files.writeString(agents.resolve("writer.md"), "---\nname: writer\ntools: file_write\n---\n");
    Path cfn = Files.createDirectories(workspace.resolve(".cfn"));
    Files.writeString(cfn.resolve("providers.yaml"), "providers: {}\n");
    Files.createDirectories(workspace.resolve(".git"));
    Files.writeString(workspace.resolve(".git/config"), "[core]\n");
    Files.writeString(workspace.resolve("memory.db"), "store");
    Files.writeString(workspace.resolve("plain.txt"), "plain");

    for (String target :
        List.of(
            ".claude/agents/writer.md",
            ".cfn/providers.yaml",
            ".git/config",
            ".git/hooks/pre-commit",
            "./.CFN/providers.yaml",
            "sub/.claude/settings.json",
            "memory.db",
            "memory.db-wal",
            "memory.db-shm",
            "memory.db.lock",
            "other.sqlite")) {
      assertThat(read(target).content()).as(target).contains("cfn's own files");
      assertThat(write(target, "tools: \"*\"").content()).as(target).contains("cfn's own files");
    }
    for (String folder : List.of(".claude", ".cfn/", ".git", ".claude/agents")) {
      assertThat(list(folder).content()).as(folder).contains("cfn's own files");
    }

    assertThat(agents.resolve("writer.md"))
        .hasContent("---\nname: writer\ntools: file_write\n---\n");
    assertThat(cfn.resolve("providers.yaml")).hasContent("providers: {}\n");
    assertThat(workspace.resolve("memory.db")).hasContent("store");
    assertThat(workspace.resolve("memory.db-wal")).doesNotExist();
    assertThat(workspace.resolve(".git/hooks")).doesNotExist();
    assertThat(workspace.resolve("sub")).doesNotExist();
    assertThat(list(".").content())
        .isEqualTo("plain.txt (5 bytes)\n[4 of cfn's own files not shown]");
    assertThat(audit.recent())
        .filteredOn(e -> e.outcome() == ToolAudit.Outcome.DENIED)
        .hasSize(26)
        .allSatisfy(
            e -> {
              assertThat(e.detail()).isEqualTo("path refused: cfn's own file");
              assertThat(e.detail()).doesNotContain(".cfn", "writer");
            });
  }

  @Test
  void aSqliteFileUnderAnyNameIsNeitherReadNorOverwritten() throws Exception {
    byte[] store = new byte[4096];
    byte[] magic = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, store, 0, magic.length);
    store[100] = 'P';
    Files.write(workspace.resolve("notes.txt"), store);

    assertThat(read("notes.txt").content()).contains("SQLite database");
    assertThat(call(FileTools.READ, path("notes.txt").put("offset", 100)).content())
        .contains("SQLite database");
    assertThat(write("notes.txt", "x").content()).contains("SQLite database");
    assertThat(
            call(FileTools.WRITE, path("notes.txt").put("content", "x").put("append", true))
                .content())
        .contains("SQLite database");
    assertThat(Files.readAllBytes(workspace.resolve("notes.txt"))).isEqualTo(store);
    assertThat(audit.recent()).allSatisfy(e -> assertThat(e.detail()).contains("SQLite store"));
  }

  @Test
  void aHardLinkToAnOutsideFileIsRefusedForReadAndWrite() throws Exception {
    Path link = workspace.resolve("innocent.txt");
    Files.createLink(link, outside.resolve("secret.txt"));

    ToolResult r = read("innocent.txt");
    ToolResult w = write("innocent.txt", "overwritten");
    ToolResult a =
        call(FileTools.WRITE, path("innocent.txt").put("content", "appended").put("append", true));

    assertThat(r.isError()).isTrue();
    assertThat(r.content()).contains("2 hard links").doesNotContain("the outside secret");
    assertThat(w.content()).contains("hard links");
    assertThat(a.content()).contains("hard links");
    assertThat(outside.resolve("secret.txt")).hasContent("the outside secret");
  }

  @Test
  void aDirectorySwappedForASymlinkInALoopNeverLeadsOutside() throws Exception {
    Path d = Files.createDirectories(workspace.resolve("d"));
    Files.writeString(d.resolve("secret.txt"), "inside");
    Path s = Files.createSymbolicLink(workspace.resolve("s"), outside);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong swaps = new AtomicLong();
    Thread swapper =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!stop.get()) {
                    try {
                      Linux.renameat2(
                          Linux.AT_FDCWD,
                          d.toString(),
                          Linux.AT_FDCWD,
                          s.toString(),
                          Linux.RENAME_EXCHANGE);
                      swaps.incrementAndGet();
                    } catch (Linux.ErrnoException e) {
                      throw new AssertionError("renameat2 failed", e);
                    }
                  }
                });
    int outsideReads = 0;
    int insideReads = 0;
    int refused = 0;
    int written = 0;
    try {
      for (int i = 0; i < 3000; i++) {
        ToolResult r = read("d/secret.txt");
        if (r.content().contains("the outside secret")) {
          outsideReads++;
        } else if (r.content().equals("inside")) {
          insideReads++;
        } else {
          refused++;
        }
        if (i % 3 == 0) {
          if (!write("d/new-" + i + ".txt", "x").isError()) {
            written++;
          }
        }
      }
    } finally {
      stop.set(true);
      swapper.join();
    }

    assertThat(swaps.get()).as("the swap ran meanwhile").isGreaterThan(100);
    assertThat(outsideReads).as("reads of the outside secret").isZero();
    assertThat(insideReads + refused).isEqualTo(3000);
    try (Stream<Path> files = Files.list(outside)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .as("files written outside")
          .containsExactly("secret.txt");
    }
    assertThat(outside.resolve("secret.txt")).hasContent("the outside secret");
    // Whatever the final state of the swap, every write that succeeded is inside
    Path real = Files.isSymbolicLink(d) ? s : d;
    try (Stream<Path> files = Files.list(real)) {
      assertThat(files.filter(f -> f.getFileName().toString().startsWith("new-")).count())
          .isEqualTo(written);
    }
  }

  @Test
  void fileNamesWithLineBreaksCannotForgeListingLines() throws Exception {
    Files.writeString(workspace.resolve("a\nevil.txt (999 bytes)"), "abc");
    Files.writeString(workspace.resolve("tab\there\\"), "");

    String listing = list(".").content();

    assertThat(listing.lines())
        .containsExactly("a\\nevil.txt (999 bytes) (3 bytes)", "tab\\there\\\\ (0 bytes)");
  }

  @Test
  void aWorkspaceInsideCfnsOwnDirectoryIsRefused() throws Exception {
    Path inside = Files.createDirectories(dir.resolve("project/.cfn/work"));
    assertThatThrownBy(() -> BuiltinTools.builder().workspace(inside).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lies inside .cfn")
        .hasMessageContaining("fix:");
  }
}
