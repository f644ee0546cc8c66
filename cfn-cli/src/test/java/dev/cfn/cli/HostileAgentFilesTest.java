package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, items 3 and 4, through the commands: an alias bomb, 2,000-deep nesting and a sparse 3
 * GiB file sit in the agents folder beside a good agent; each command reports the bad files and
 * still serves the good agent.
 */
class HostileAgentFilesTest {
  @TempDir Path project;

  private Path agentsWithHostileFiles() throws Exception {
    Path agents = Files.createDirectories(project.resolve(".claude/agents"));
    Files.writeString(
        agents.resolve("scribe.md"),
        "---\nname: scribe\ndescription: Writes notes\ntools: Read\nmodel: gpt-4o-mini\n---\n"
            + "You write short notes.\n");
    StringBuilder bomb = new StringBuilder("---\nname: bomb\ndescription: boom\n");
    bomb.append("b0: &b0 [").append("x,".repeat(1999)).append("x]\n");
    for (int n = 1; n <= 24; n++) {
      bomb.append("b%d: &b%d [*b%d, *b%d]\n".formatted(n, n, n - 1, n - 1));
    }
    Files.writeString(agents.resolve("bomb.md"), bomb.append("---\nx\n"));
    Files.writeString(
        agents.resolve("deep.md"),
        "---\nname: deep\ndescription: d\nx: "
            + "[".repeat(2000)
            + "]".repeat(2000)
            + "\n---\nx\n");
    try (RandomAccessFile f = new RandomAccessFile(agents.resolve("huge.md").toFile(), "rw")) {
      f.setLength(3L << 30);
    }
    return agents;
  }

  @Test
  void listValidateAndShowReportTheBadFilesAndServeTheGoodOne() throws Exception {
    Path agents = agentsWithHostileFiles();

    CliRun list = CliRun.run("agent", "list", agents.toString());
    CliRun validate = CliRun.run("agent", "validate", agents.toString());
    CliRun show = CliRun.run("agent", "show", "scribe", "--dir", agents.toString());

    assertThat(list.code()).isEqualTo(1); // it skipped files, as validate reports them
    assertThat(list.out()).contains("scribe").endsWith("1 agent\n");
    assertThat(list.err()).contains("skipped 3 invalid files");
    assertThat(validate.code()).isEqualTo(1);
    assertThat(validate.out())
        .contains(agents.resolve("bomb.md") + ":5: error: the frontmatter uses a YAML alias (*b0)")
        .contains(agents.resolve("deep.md") + ":4: error: the frontmatter is nested more than 64")
        .contains(agents.resolve("huge.md") + ": error: the file is 3221225472 bytes")
        .endsWith("4 files, 1 valid, 3 invalid, 0 warnings\n");
    assertThat(validate.out() + validate.err()).doesNotContain("\tat ");
    assertThat(show.code()).isZero();
    assertThat(show.out()).contains("You write short notes.");
  }

  @Test
  void runServesTheGoodAgent() throws Exception {
    Path agents = agentsWithHostileFiles();
    Map<String, String> saved = RunCommand.environment;
    try (ModelServer server = ModelServer.start()) {
      RunCommand.environment = Map.of();
      Files.createDirectories(project.resolve(".cfn"));
      Files.writeString(
          project.resolve(".cfn/providers.yaml"),
          "providers:\n  local:\n    kind: openai\n    base-url: "
              + server.openAiBaseUrl()
              + "\n    api-key: test-key\n    model: gpt-4o-mini\n");
      server.script().on(Match.any()).reply(Reply.text("Noted."));

      CliRun r =
          CliRun.run(
              "run",
              "--agents",
              agents.toString(),
              "--project",
              project.toString(),
              "--workspace",
              Files.createDirectories(project.resolve("work")).toString(),
              "--memory",
              project.resolve(".cfn/memory.db").toString(),
              "scribe",
              "hello");

      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out().strip()).isEqualTo("Noted.");
    } finally {
      RunCommand.environment = saved;
    }
  }
}
