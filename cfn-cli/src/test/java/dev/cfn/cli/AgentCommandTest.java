package dev.cfn.cli;

import static dev.cfn.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn agent list|show|validate}, run in-process on real agent files. */
class AgentCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static Path agents(String name) {
    try {
      return Path.of(AgentCommandTest.class.getResource("/agents/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static final Path GOOD = agents("good");
  static final Path BAD = agents("bad");

  @Test
  void helpListsTheAgentCommand() {
    CliRun help = run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("agent");
    CliRun agentHelp = run("agent");
    assertThat(agentHelp.code()).isEqualTo(2); // a subcommand is missing
    assertThat(agentHelp.err())
        .startsWith("cfn agent: missing a command")
        .contains("list")
        .contains("show")
        .contains("validate");
  }

  @Test
  void listPrintsATableOfTheValidAgents() {
    CliRun list = run("agent", "list", GOOD.toString());

    assertThat(list.code()).isZero();
    assertThat(list.err()).isEmpty();
    List<String> lines = list.out().lines().toList();
    assertThat(lines.get(0)).matches("NAME +TYPE +MODEL +PROVIDER +TOOLS +FILE");
    assertThat(lines.get(1))
        .matches("code-reviewer +- +sonnet +- +Read, Grep, Glob, Bash +.*code-reviewer\\.md");
    assertThat(lines.get(2))
        .matches(
            "coder +developer +glm-4\\.6 +zai +Read, Write, Edit, Bash, Grep, TodoWrite +.*coder\\.md");
    assertThat(lines.get(3)).isEqualTo("2 agents");
    // the columns line up
    assertThat(lines.get(1).indexOf("sonnet")).isEqualTo(lines.get(0).indexOf("MODEL"));
  }

  @Test
  void listAsJson() throws Exception {
    CliRun list = run("agent", "list", "--json", GOOD.toString());

    assertThat(list.code()).isZero();
    JsonNode agents = JSON.readTree(list.out());
    assertThat(agents).hasSize(2);
    JsonNode coder = agents.get(1);
    assertThat(coder.get("name").asText()).isEqualTo("coder");
    assertThat(coder.get("priority").asText()).isEqualTo("high");
    assertThat(coder.get("lifecycle").get("timeout_ms").asLong()).isEqualTo(120_000);
    assertThat(coder.get("capabilities")).hasSize(5);
    assertThat(coder.get("extra").get("acl_level").asInt()).isEqualTo(1);
    assertThat(coder.has("systemPrompt")).isFalse();
  }

  @Test
  void listSkipsInvalidFilesAndNamesThem() {
    CliRun list = run("agent", "list", BAD.toString());

    assertThat(list.code()).isEqualTo(1); // like validate: some files could not be read
    assertThat(list.out()).contains("test-writer").contains("1 agent").doesNotContain("api-docs");
    assertThat(list.err())
        .contains("skipped 2 invalid files")
        .contains("broken-yaml.md")
        .contains("reviewer.md")
        .contains("cfn agent validate");
  }

  @Test
  void showPrintsEveryFieldAndThePrompt() {
    CliRun show = run("agent", "show", "coder", "--dir", GOOD.toString());

    assertThat(show.code()).isZero();
    assertThat(show.out())
        .contains("name:         coder\n")
        .contains("description:  Implementation specialist for writing clean, efficient code\n")
        .contains("type:         developer\n")
        .contains("model:        glm-4.6\n")
        .contains("provider:     zai\n")
        .contains("tools:        Read, Write, Edit, Bash, Grep, TodoWrite\n")
        .contains("capabilities: code_generation, refactoring, optimization, api_design")
        .contains("priority:     high\n")
        .contains("color:        #FF6B35\n")
        .contains("lifecycle:    max_retries 3, timeout_ms 120000, max_turns -\n")
        .contains("hooks:\n  pre: |\n    echo \"💻 Coder agent implementing: $TASK\"\n")
        .contains("extra:\n  acl_level: 1\n")
        .contains("coder.md:16: warning: unknown field 'acl_level'")
        .contains("--- system prompt ---\n# Code Implementation Agent\n");
  }

  @Test
  void showOfAClaudeCodeAgentSaysWhatIsNotSet() {
    CliRun show = run("agent", "show", "code-reviewer", "--dir", GOOD.toString());

    assertThat(show.code()).isZero();
    assertThat(show.out())
        .contains("type:         -\n")
        .contains("lifecycle:    -\n")
        .contains("hooks:        -\n")
        .contains("You are a senior code reviewer");
  }

  @Test
  void showAsJsonIncludesThePrompt() throws Exception {
    CliRun show = run("agent", "show", "code-reviewer", "--json", "--dir", GOOD.toString());

    assertThat(show.code()).isZero();
    JsonNode agent = JSON.readTree(show.out());
    assertThat(agent.get("model").asText()).isEqualTo("sonnet");
    assertThat(agent.get("systemPrompt").asText()).startsWith("You are a senior code reviewer");
    assertThat(agent.get("warnings")).isEmpty();
  }

  @Test
  void showOfAnUnknownNameFailsAndListsTheAgentsThere() {
    CliRun show = run("agent", "show", "nobody", "--dir", BAD.toString());

    assertThat(show.code()).isEqualTo(1);
    assertThat(show.out()).isEmpty();
    assertThat(show.err())
        .contains("no valid agent named 'nobody'")
        .contains("the agents there: test-writer")
        .contains("2 files could not be read");
  }

  @Test
  void validateOfAGoodFolderPassesWithItsWarnings() {
    CliRun v = run("agent", "validate", GOOD.toString());

    assertThat(v.code()).isZero();
    List<String> lines = v.out().lines().toList();
    assertThat(lines)
        .containsExactly(
            GOOD.resolve("flow/coder.md")
                + ":16: warning: unknown field 'acl_level' is kept in extra but cfn does not use it"
                + " (fix: remove it, unless another tool reads it)",
            "2 files, 2 valid, 0 invalid, 1 warning");
  }

  @Test
  void validateOfABadFolderFailsNamingEachProblemAndInvalidFile() {
    CliRun v = run("agent", "validate", BAD.toString());

    assertThat(v.code()).isEqualTo(1);
    List<String> lines = v.out().lines().toList();
    Path broken = BAD.resolve("broken-yaml.md");
    Path reviewer = BAD.resolve("reviewer.md");
    assertThat(lines.get(0))
        .startsWith(broken + ":3: error: YAML syntax error in the frontmatter:")
        .contains("(fix: quote the value");
    assertThat(lines.get(1))
        .isEqualTo(
            reviewer
                + ":2: error: name 'Security Reviewer' is not a valid agent name (fix: use"
                + " lowercase letters and digits joined by single hyphens or dots: name:"
                + " security-reviewer)");
    assertThat(lines.get(2))
        .startsWith(reviewer + ":4: error: model 'sonet' is neither a model alias nor a model id")
        .contains("(fix: did you mean model: sonnet?");
    assertThat(lines.get(3))
        .startsWith(reviewer + ":5: error: priority 'urgent' is not one of low, medium, high");
    assertThat(lines.subList(4, lines.size()))
        .containsExactly(
            "invalid: " + broken,
            "invalid: " + reviewer,
            "3 files, 1 valid, 2 invalid, 0 warnings");
  }

  @Test
  void validateTakesFilesAndReportsMissingPaths(@TempDir Path dir) throws Exception {
    Path good = GOOD.resolve("code-reviewer.md");
    Path missing = dir.resolve("missing.md");
    Path latin1 = dir.resolve("latin1.md");
    Files.write(
        latin1,
        "---\nname: cafe\ndescription: caf\u00e9\n---\nx\n".getBytes(StandardCharsets.ISO_8859_1));

    CliRun v = run("agent", "validate", good.toString(), missing.toString(), latin1.toString());

    assertThat(v.code()).isEqualTo(1);
    assertThat(v.out())
        .contains(missing + ": error: no such file or folder")
        .contains(latin1 + ":3: error: the file is not UTF-8")
        .contains("invalid: " + missing)
        .contains("invalid: " + latin1)
        .endsWith("3 files, 1 valid, 2 invalid, 0 warnings\n");
  }

  @Test
  void validateAsJson() throws Exception {
    CliRun v = run("agent", "validate", "--json", BAD.toString());

    assertThat(v.code()).isEqualTo(1);
    JsonNode result = JSON.readTree(v.out());
    assertThat(result.get("files").asInt()).isEqualTo(3);
    assertThat(result.get("valid").asInt()).isEqualTo(1);
    assertThat(result.get("invalid").asInt()).isEqualTo(2);
    assertThat(result.get("invalidFiles")).hasSize(2);
    JsonNode first = result.get("problems").get(0);
    assertThat(first.get("line").asInt()).isEqualTo(3);
    assertThat(first.get("severity").asText()).isEqualTo("error");
    assertThat(first.get("fix").asText()).startsWith("quote the value");
  }

  @Test
  void withoutAPathOrADefaultFolderEachCommandSaysWhatToPass() {
    assumeFalse(
        Files.isDirectory(AgentCommand.DEFAULT_FOLDER),
        "the test's working folder has a .claude/agents folder");
    for (String command : List.of("list", "validate")) {
      CliRun r = run("agent", command);
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err())
          .startsWith("cfn agent " + command + ": no agents given")
          .contains(".claude/agents")
          .contains("(fix: give agent files or folders");
    }
    assertThat(run("agent", "show", "coder").code()).isEqualTo(2);
  }

  @Test
  void theDefaultFolderIsDotClaudeAgents(@TempDir Path project) throws Exception {
    Path folder = Files.createDirectories(project.resolve(".claude/agents"));
    Files.copy(GOOD.resolve("code-reviewer.md"), folder.resolve("code-reviewer.md"));

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    // absolute, since the child runs in another folder
    cmd.add(
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .map(entry -> Path.of(entry).toAbsolutePath().toString())
            .collect(Collectors.joining(File.pathSeparator)));
    cmd.add(Main.class.getName());
    cmd.add("agent");
    cmd.add("validate");
    Process p =
        new ProcessBuilder(cmd).directory(project.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("1 file, 1 valid, 0 invalid, 0 warnings");
  }
}
