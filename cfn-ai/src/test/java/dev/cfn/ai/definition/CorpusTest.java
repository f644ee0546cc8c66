package dev.cfn.ai.definition;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionRepair.Outcome;
import dev.cfn.ai.definition.DefinitionRepair.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thirty agent files in the shapes of two public collections (issue 9, item 11), written for this
 * test: Claude Code subagents (comma and list tools, double-quoted descriptions with {@code \n}
 * examples, dotted names, {@code model: fable}, Claude Code-only fields, structured hooks, CRLF
 * with a byte order mark) and claude-flow-novice agents (type, capabilities, priority, shell hooks,
 * lifecycle, provider, unknown fields), with the mistakes such collections hold. The test pins
 * exactly which load, which warn and which fail with which message, then repairs a copy with {@link
 * DefinitionRepair} and pins which it fixed and that they load.
 */
class CorpusTest {
  static final Path CORPUS = DefinitionLoaderTest.resource("corpus");

  static final List<String> LOADED =
      List.of(
          "code-reviewer",
          "data-engineer",
          "debugger",
          "docs-writer",
          "generalist",
          "github-triager",
          "hook-guard",
          "powershell-5.1-expert",
          "python-pro",
          "safe-editor",
          "search-specialist",
          "story-writer",
          "windows-helper",
          "api-docs.v2",
          "coder",
          "memory-coordinator",
          "planner",
          "reviewer",
          "swarm-coordinator");

  static final String COLON =
      "YAML syntax error in the frontmatter: mapping values are not allowed here";

  /** Every problem, as relative-file:line: severity: message. */
  static final List<String> PROBLEMS =
      List.of(
          "claude-code/architect-review.md:3: error: " + COLON,
          "claude-code/frontend-developer.md:2: error: name 'Frontend Developer' is not a valid"
              + " agent name",
          "claude-code/generalist.md:1: warning: there is no tools line, so the agent may use no"
              + " tools: cfn denies by default (Claude Code would give it every tool)",
          "claude-code/late-frontmatter.md:1: error: the frontmatter must start on the first line,"
              + " but the --- is on line 2",
          "claude-code/no-description.md:1: error: the frontmatter has no description",
          "claude-code/safe-editor.md:5: warning: field 'disallowedTools' is a Claude Code setting"
              + " that cfn keeps but does not use",
          "claude-code/safe-editor.md:6: warning: field 'permissionMode' is a Claude Code setting"
              + " that cfn keeps but does not use",
          "claude-code/sql-expert.md:3: error: " + COLON,
          "claude-code/story-writer.md:5: warning: model 'fable' is not an alias cfn knows (sonnet,"
              + " opus, haiku, inherit), so it is sent unchanged to an Anthropic provider; any other"
              + " provider refuses it",
          "claude-code/tab-indented.md:5: error: YAML syntax error in the frontmatter: while"
              + " scanning for the next token: found character '\\t(TAB)' that cannot start any"
              + " token. (Do not use \\t(TAB) for indentation)",
          "claude-code/test-automator.md:4: error: " + COLON,
          "claude-code/typo-model.md:5: error: model 'sonet' is neither a model alias nor a model"
              + " id",
          "flow/optimizer.md:5: error: capabilities must be a list, but it is the text"
              + " 'performance_tuning'",
          "flow/researcher.md:5: error: priority 'urgent' is not one of low, medium, high,"
              + " critical",
          // flow/reviewer.md:5 says version: 1.0.0, which canary rollouts read: no warning
          "flow/reviewer.md:6: warning: unknown field 'author' is kept in extra but cfn does not"
              + " use it",
          "flow/reviewer.md:7: warning: unknown field 'metadata' is kept in extra but cfn does not"
              + " use it",
          "flow/swarm-coordinator.md:11: warning: unknown field 'lifecycle.pre_task' is kept in"
              + " extra but cfn does not use it",
          "flow/tester.md:8: error: " + COLON);

  /** The failing files {@code cfn agent fix} repairs. */
  static final List<String> FIXABLE =
      List.of(
          "claude-code/architect-review.md",
          "claude-code/late-frontmatter.md",
          "claude-code/sql-expert.md",
          "claude-code/tab-indented.md",
          "claude-code/test-automator.md",
          "flow/tester.md");

  /** The failing files whose mistakes need a person. */
  static final List<String> NOT_FIXABLE =
      List.of(
          "claude-code/frontend-developer.md",
          "claude-code/no-description.md",
          "claude-code/typo-model.md",
          "flow/optimizer.md",
          "flow/researcher.md");

  static String printed(Path root, Problem p) {
    return root.relativize(p.file()).toString().replace('\\', '/')
        + ":"
        + p.line()
        + ": "
        + p.severity().label()
        + ": "
        + p.message();
  }

  @Test
  void theCorpusHoldsThirtyFiles() throws Exception {
    try (Stream<Path> files = Files.walk(CORPUS)) {
      assertThat(files.filter(f -> f.toString().endsWith(".md")).count()).isEqualTo(30);
    }
  }

  @Test
  void exactlyTheseLoadWarnAndFail() {
    LoadResult r = DefinitionLoader.load(CORPUS);

    assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactlyElementsOf(LOADED);
    assertThat(r.problems())
        .extracting(p -> printed(CORPUS, p))
        .containsExactlyElementsOf(PROBLEMS);
    assertThat(r.invalidFiles())
        .extracting(f -> CORPUS.relativize(f).toString().replace('\\', '/'))
        .containsExactlyInAnyOrderElementsOf(
            Stream.concat(FIXABLE.stream(), NOT_FIXABLE.stream()).toList());
    // every fixable error says which command fixes it
    for (Problem p : r.errors()) {
      String file = CORPUS.relativize(p.file()).toString().replace('\\', '/');
      if (FIXABLE.contains(file)) {
        assertThat(p.fix()).as(file).contains("cfn agent fix " + p.file());
      } else {
        assertThat(p.fix()).as(file).doesNotContain("cfn agent fix");
      }
    }
  }

  @Test
  void realWorldShapesReadAsTheirAuthorsMeant() {
    LoadResult r = DefinitionLoader.load(CORPUS);

    AgentDefinition python = r.find("python-pro").orElseThrow();
    assertThat(python.description()).contains("Examples:\n\n<example>\nContext:");
    AgentDefinition ps = r.find("powershell-5.1-expert").orElseThrow();
    assertThat(ps.model()).isEqualTo("sonnet");
    assertThat(r.find("story-writer").orElseThrow().model()).isEqualTo("fable");
    assertThat(r.find("search-specialist").orElseThrow().tools())
        .containsExactly("Read", "Grep", "Glob", "WebSearch");
    assertThat(r.find("docs-writer").orElseThrow().tools())
        .containsExactly("Read", "Write", "Edit");
    assertThat(r.find("github-triager").orElseThrow().tools())
        .containsExactly(
            "Read",
            "mcp__github__list_issues",
            "mcp__github__create_comment",
            "Task(coder, reviewer)");
    assertThat(r.find("windows-helper").orElseThrow().description())
        .isEqualTo("Written on Windows, with CRLF line ends and a byte order mark.");
    assertThat(r.find("data-engineer").orElseThrow().description())
        .startsWith("Builds data pipelines. Use when: an ETL job fails,\n");
    AgentDefinition coder = r.find("coder").orElseThrow();
    assertThat(coder.provider()).isEqualTo("zai");
    assertThat(coder.capabilities()).hasSize(5);
    assertThat(coder.hooks().get("pre").toString()).contains("Remember: Write tests first");
    assertThat(coder.lifecycle().maxRetries()).isEqualTo(3);
    assertThat(r.find("swarm-coordinator").orElseThrow().allowsAllTools()).isTrue();
    assertThat(r.find("api-docs.v2").orElseThrow().lifecycle().maxTurns()).isEqualTo(12);
    assertThat(r.find("hook-guard").orElseThrow().hooks()).containsKey("PreToolUse");
  }

  @Test
  void fixRepairsTheFixableFilesAndThenTheyLoad(@TempDir Path copy) throws Exception {
    try (Stream<Path> files = Files.walk(CORPUS)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path to = copy.resolve(CORPUS.relativize(f).toString());
        Files.createDirectories(to.getParent());
        Files.copy(f, to);
      }
    }

    List<Outcome> outcomes = DefinitionRepair.repair(false, copy);

    Map<String, Status> byFile = new TreeMap<>();
    for (Outcome o : outcomes) {
      byFile.put(copy.relativize(o.file()).toString().replace('\\', '/'), o.status());
    }
    assertThat(byFile).hasSize(30);
    byFile.forEach(
        (file, status) -> {
          Status expected =
              FIXABLE.contains(file)
                  ? Status.FIXED
                  : NOT_FIXABLE.contains(file) ? Status.STILL_INVALID : Status.ALREADY_LOADS;
          assertThat(status).as(file).isEqualTo(expected);
        });
    for (Outcome o : outcomes) {
      String file = copy.relativize(o.file()).toString().replace('\\', '/');
      assertThat(o.written()).as(file).isEqualTo(FIXABLE.contains(file));
      assertThat(Files.exists(o.file().resolveSibling(o.file().getFileName() + ".bak")))
          .as(file)
          .isEqualTo(FIXABLE.contains(file));
    }

    LoadResult after = DefinitionLoader.load(copy);
    assertThat(after.definitions()).hasSize(LOADED.size() + FIXABLE.size());
    assertThat(after.invalidFiles())
        .extracting(f -> copy.relativize(f).toString().replace('\\', '/'))
        .containsExactlyInAnyOrderElementsOf(NOT_FIXABLE);
    assertThat(after.find("test-automator").orElseThrow().description())
        .isEqualTo(
            "Creates comprehensive test suites with unit, integration and e2e tests. Use"
                + " PROACTIVELY for test coverage. Examples: adding tests for a new endpoint;"
                + " raising coverage before a release.");
    assertThat(after.find("sql-expert").orElseThrow().description())
        .isEqualTo("Use this agent for the following:");
    assertThat(after.find("tester").orElseThrow().hooks())
        .containsEntry("pre", "echo \"Starting task: $TASK\"")
        .containsEntry("post", "echo \"Tests done\"");
    assertThat(after.find("tab-indented").orElseThrow().tools()).containsExactly("Read", "Grep");
    assertThat(after.find("late-frontmatter")).isPresent();

    // a second run finds nothing left to fix and writes nothing
    List<Outcome> again = DefinitionRepair.repair(false, copy);
    assertThat(again).noneMatch(Outcome::written);
  }
}
