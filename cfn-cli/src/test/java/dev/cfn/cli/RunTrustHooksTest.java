package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn run} with an agent definition that carries its own {@code hooks:}: they never run
 * unless the user passes {@code --trust-hooks}, and then a failing pre-task hook blocks the task
 * before any model call.
 */
class RunTrustHooksTest {
  @TempDir Path project;
  private ModelServer model;
  private Map<String, String> savedEnvironment;
  private Path marker;

  @BeforeEach
  void start() throws Exception {
    model = ModelServer.start();
    model.script().on(Match.any()).reply(Reply.text("answered"));
    savedEnvironment = RunCommand.environment;
    RunCommand.environment = Map.of("CFN_CONFIG_DIR", project.resolve("config").toString());
    marker = project.resolve("hook-ran");
    Files.createDirectories(project.resolve(".claude/agents"));
    Files.writeString(
        project.resolve(".claude/agents/guarded.md"),
        "---\nname: guarded\ndescription: Guarded\nmodel: gpt-4o-mini\nhooks:\n  pre: \"touch '"
            + marker
            + "'; echo refused by the project hook >&2; exit 1\"\n---\nAnswer.\n");
    Files.createDirectories(project.resolve(".cfn"));
    Files.writeString(
        project.resolve(".cfn/providers.yaml"),
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + model.openAiBaseUrl()
            + "\n    api-key: local\n");
    Files.createDirectories(project.resolve("work"));
  }

  @AfterEach
  void stop() {
    RunCommand.environment = savedEnvironment;
    model.close();
  }

  private CliRun run(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "--agents",
                project.resolve(".claude/agents").toString(),
                "--project",
                project.toString(),
                "--workspace",
                project.resolve("work").toString(),
                "--memory",
                project.resolve(".cfn/memory.db").toString()));
    args.addAll(List.of(more));
    return CliRun.run(args.toArray(String[]::new));
  }

  @Test
  void withoutTrustTheDefinitionsHooksNeverRun() {
    CliRun r = run("guarded", "x");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("answered");
    assertThat(marker).as("the hook's command never ran").doesNotExist();
    assertThat(model.requests()).hasSize(1);
  }

  @Test
  void withTrustAFailingPreTaskHookBlocksBeforeAnyModelCall() {
    CliRun r = run("--trust-hooks", "guarded", "x");

    assertThat(r.code()).as(r.out() + r.err()).isNotZero();
    assertThat(marker).as("the hook's command ran").exists();
    assertThat(r.out() + r.err()).contains("refused by the project hook");
    assertThat(model.requests()).as("no model call").isEmpty();
  }

  @Test
  void theProjectsHooksFileRunsOnlyWithTrustHooksAndThenBlocksTheTask() throws Exception {
    Path fileMarker = project.resolve("project-hook-ran");
    Files.writeString(
        project.resolve(".claude/agents/plain.md"),
        "---\nname: plain\ndescription: Plain\nmodel: gpt-4o-mini\n---\nAnswer.\n");
    Files.writeString(
        project.resolve(".cfn/hooks.yaml"),
        "pre-task:\n"
            + "  - shell: \"touch '"
            + fileMarker
            + "'; echo refused by the hooks file >&2; exit 1\"\n"
            + "    name: the freeze\n");

    CliRun untrusted = run("plain", "x");
    assertThat(untrusted.code()).as(untrusted.err()).isZero();
    assertThat(untrusted.out()).contains("answered");
    assertThat(fileMarker).as("the file's hook never ran without --trust-hooks").doesNotExist();
    assertThat(untrusted.err())
        .contains("cfn run: warning: the 1 hook of ")
        .contains("hooks.yaml will not run: a project's commands run only with --trust-hooks");
    assertThat(model.requests()).hasSize(1);

    CliRun trusted = run("--trust-hooks", "plain", "x");
    assertThat(trusted.code()).as(trusted.out() + trusted.err()).isNotZero();
    assertThat(fileMarker).as("the file's hook ran").exists();
    assertThat(trusted.out() + trusted.err()).contains("refused by the hooks file");
    assertThat(model.requests()).as("no model call for the blocked task").hasSize(1);
  }

  @Test
  void aMalformedHooksFileIsRefusedBeforeAnythingRuns() throws Exception {
    Files.writeString(project.resolve(".cfn/hooks.yaml"), "pre-task:\n  - frobnicate: [x]\n");

    CliRun r = run("--trust-hooks", "guarded", "x");

    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("frobnicate");
    assertThat(marker).as("the definition's hook never ran").doesNotExist();
    assertThat(model.requests()).isEmpty();
  }

  @Test
  void aHooksFileGivenWithHooksIsUsed() throws Exception {
    Path other = project.resolve("other-hooks.yaml");
    Path fileMarker = project.resolve("other-hook-ran");
    Files.writeString(
        project.resolve(".claude/agents/plain.md"),
        "---\nname: plain\ndescription: Plain\nmodel: gpt-4o-mini\n---\nAnswer.\n");
    Files.writeString(other, "post-task:\n  - shell: \"touch '" + fileMarker + "'\"\n");

    CliRun r = run("--trust-hooks", "--hooks", other.toString(), "plain", "x");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(fileMarker).as("the post-task hook of --hooks ran").exists();
  }
}
