package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn init}: what it writes is valid as written, and it never overwrites. */
class InitCommandTest {
  @TempDir Path dir;

  @Test
  void scaffoldsAProjectThatLoadsWithoutAKey() throws Exception {
    Path project = dir.resolve("new/project");

    CliRun r = CliRun.run("init", "--dir", project.toString());

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("initialised").contains("providers.yaml");
    for (InitCommand.Template t : InitCommand.TEMPLATES) {
      assertThat(project.resolve(t.path())).isRegularFile();
    }
    // the providers file loads as written, with an empty environment: no key is needed
    ModelConfig config = ModelConfig.load(project.resolve(".cfn/providers.yaml"), Map.of());
    assertThat(config.providers()).containsOnlyKeys("local");
    assertThat(config.defaultRoute().target().provider()).isEqualTo("local");
    assertThat(Files.getPosixFilePermissions(project.resolve(".cfn/providers.yaml")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    // both agents load without errors, with the fields the CFN Loop and swarms read
    LoadResult agents = DefinitionLoader.load(project.resolve(".claude/agents"));
    assertThat(agents.errors()).isEmpty();
    assertThat(agents.definitions())
        .extracting(d -> d.name())
        .containsExactlyInAnyOrder("implementer", "reviewer");
    assertThat(agents.definitions()).allSatisfy(d -> assertThat(d.capabilities()).isNotEmpty());
    assertThat(Files.readString(project.resolve(".cfn/.gitignore"))).contains("*.db");
    try (var files = Files.walk(project)) {
      assertThat(files.filter(p -> p.getFileName().toString().endsWith(".tmp")))
          .as("no temporary file left")
          .isEmpty();
    }
  }

  @Test
  void refusesToOverwriteAndWritesNothing() throws Exception {
    Path mine = dir.resolve(".claude/agents/reviewer.md");
    Files.createDirectories(mine.getParent());
    Files.writeString(mine, "my own reviewer\n");

    CliRun r = CliRun.run("init", "--dir", dir.toString());

    assertThat(r.code()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err()).contains("reviewer.md").contains("already there").contains("nothing");
    assertThat(Files.readString(mine)).isEqualTo("my own reviewer\n");
    assertThat(dir.resolve(".cfn")).doesNotExist();
    assertThat(dir.resolve(".claude/agents/implementer.md")).doesNotExist();
  }

  @Test
  void aSecondInitChangesNothing() throws Exception {
    assertThat(CliRun.run("init", "--dir", dir.toString()).code()).isZero();
    Path providers = dir.resolve(".cfn/providers.yaml");
    Files.writeString(providers, "# edited\n", java.nio.file.StandardOpenOption.APPEND);
    String before = Files.readString(providers);

    CliRun again = CliRun.run("init", "--dir", dir.toString(), "--json");

    assertThat(again.code()).isEqualTo(ExitCode.USAGE);
    assertThat(again.err()).contains("4 files").doesNotContain("Exception");
    assertThat(Files.readString(providers)).isEqualTo(before);
  }

  @Test
  void jsonListsTheFilesWritten() {
    CliRun r = CliRun.run("init", "--dir", dir.toString(), "--json");

    assertThat(r.code()).isZero();
    assertThat(r.out())
        .startsWith("{\"project\":")
        .contains("\"written\":[")
        .contains("reviewer.md");
  }
}
