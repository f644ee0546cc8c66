package dev.cfn.ai.definition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.definition.AgentDefinition.Priority;
import dev.cfn.ai.definition.Problem.Severity;
import java.io.ByteArrayOutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading real agent files, and every kind of problem with its line. */
class DefinitionLoaderTest {
  /** The problems other than the default-deny warning for a file without a tools line. */
  static List<Problem> problems(LoadResult r) {
    return r.problems().stream().filter(p -> !p.message().contains("no tools line")).toList();
  }

  static List<Problem> warnings(LoadResult r) {
    return problems(r).stream().filter(p -> !p.isError()).toList();
  }

  static Path resource(String name) {
    try {
      return Path.of(DefinitionLoaderTest.class.getResource("/definitions/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static final Path FILE = Path.of("agents", "sample.md");

  /** Parses {@code text} and returns its only problem of the given severity. */
  static Problem only(Severity severity, String text) {
    LoadResult r = DefinitionLoader.parse(text, FILE);
    List<Problem> matching = problems(r).stream().filter(p -> p.severity() == severity).toList();
    assertThat(matching).as("%s problems in %s", severity, problems(r)).hasSize(1);
    return matching.get(0);
  }

  static Problem onlyError(String text) {
    Problem p = only(Severity.ERROR, text);
    assertThat(DefinitionLoader.parse(text, FILE).definitions()).isEmpty();
    return p;
  }

  @Nested
  class RealFiles {
    @Test
    void loadsAFolderOfClaudeCodeAndClaudeFlowAgentsRecursively() {
      LoadResult r = DefinitionLoader.load(resource("valid"));

      assertThat(r.hasErrors()).as("problems: %s", problems(r)).isFalse();
      assertThat(r.definitions())
          .extracting(AgentDefinition::name)
          .containsExactly("code-reviewer", "data-scientist", "debugger", "coder", "planner");
      assertThat(r.files()).hasSize(5);
    }

    @Test
    void readsClaudeCodeFields() {
      LoadResult r = DefinitionLoader.load(resource("valid"));

      AgentDefinition reviewer = r.find("code-reviewer").orElseThrow();
      assertThat(reviewer.description()).startsWith("Expert code review specialist.");
      assertThat(reviewer.tools()).containsExactly("Read", "Grep", "Glob", "Bash");
      assertThat(reviewer.allowsAllTools()).isFalse();
      assertThat(reviewer.model()).isEqualTo("sonnet");
      assertThat(reviewer.color()).isEqualTo("blue");
      assertThat(reviewer.systemPrompt())
          .startsWith("You are a senior code reviewer")
          .endsWith("Include specific examples of how to fix issues.");
      assertThat(reviewer.source().getFileName()).hasToString("code-reviewer.md");
      assertThat(reviewer.extra()).isEmpty();
      assertThat(reviewer.lifecycle()).isEqualTo(AgentDefinition.Lifecycle.NONE);

      AgentDefinition debugger = r.find("debugger").orElseThrow();
      assertThat(debugger.tools()).as("no tools line: default deny").isEmpty();
      assertThat(debugger.allowsAllTools()).isFalse();
      assertThat(r.warnings())
          .anySatisfy(
              p -> {
                assertThat(p.file().getFileName()).hasToString("debugger.md");
                assertThat(p.message()).contains("no tools line");
              });
      assertThat(debugger.description()).contains("stack traces, failing tests");
      assertThat(debugger.model()).isEqualTo("inherit");

      AgentDefinition scientist = r.find("data-scientist").orElseThrow();
      assertThat(scientist.description())
          .isEqualTo(
              "Data analysis expert for SQL queries, BigQuery operations, and data insights. Use"
                  + " proactively for data analysis tasks and queries.");
      assertThat(scientist.tools())
          .containsExactly("Bash", "Read", "Write", "mcp__bigquery__run_query");
      assertThat(scientist.model()).isEqualTo("claude-opus-4-1-20250805");
      assertThat(scientist.extra()).containsEntry("permissionMode", "plan");
    }

    @Test
    void readsClaudeFlowNoviceFields() {
      AgentDefinition coder = DefinitionLoader.load(resource("valid")).find("coder").orElseThrow();

      assertThat(coder.type()).isEqualTo("developer");
      assertThat(coder.color()).isEqualTo("#FF6B35");
      assertThat(coder.provider()).isEqualTo("zai");
      assertThat(coder.model()).isEqualTo("glm-4.6");
      assertThat(coder.priority()).isEqualTo(Priority.HIGH);
      assertThat(coder.priority().messagePriority()).isEqualTo(dev.cfn.core.Priority.HIGH);
      assertThat(coder.capabilities())
          .containsExactly(
              "code_generation", "refactoring", "optimization", "api_design", "error_handling");
      assertThat(coder.tools())
          .containsExactly("Read", "Write", "Edit", "Bash", "Grep", "TodoWrite");
      assertThat(coder.hooks()).containsOnlyKeys("pre", "post");
      assertThat((String) coder.hooks().get("pre"))
          .startsWith("echo \"💻 Coder agent implementing: $TASK\"\n")
          .contains("Write tests first (TDD)");
      assertThat(coder.lifecycle().maxRetries()).isEqualTo(3);
      assertThat(coder.lifecycle().timeout()).isEqualTo(Duration.ofMillis(120_000));
      assertThat(coder.systemPrompt()).startsWith("# Code Implementation Agent");
      assertThat(coder.extra()).containsExactly(Map.entry("acl_level", 1));
    }

    @Test
    void unknownFieldsAreKeptAndEachIsWarnedAboutWithItsLine() {
      LoadResult r = DefinitionLoader.load(resource("valid"));

      AgentDefinition planner = r.find("planner").orElseThrow();
      assertThat(planner.extra())
          .containsEntry("validation_hooks", List.of("agent-template-validator"))
          .containsEntry("lifecycle.pre_task", "echo \"planning $TASK\"\n");
      assertThat(planner.lifecycle().maxRetries()).isEqualTo(1);
      assertThat(planner.lifecycle().timeout()).isNull();
      assertThat(planner.lifecycle().timeoutOr(Duration.ofMinutes(5)))
          .isEqualTo(Duration.ofMinutes(5));
      assertThat(planner.priority()).isEqualTo(Priority.CRITICAL);
      assertThat(planner.hooks()).containsEntry("post", "echo \"✅ Planning complete\"");

      assertThat(warnings(r))
          .extracting(p -> p.file().getFileName().toString(), Problem::line, Problem::message)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(
                  "data-scientist.md",
                  12,
                  "field 'permissionMode' is a Claude Code setting that cfn keeps but does not use"),
              org.assertj.core.groups.Tuple.tuple(
                  "coder.md",
                  16,
                  "unknown field 'acl_level' is kept in extra but cfn does not use it"),
              org.assertj.core.groups.Tuple.tuple(
                  "planner.md",
                  11,
                  "unknown field 'validation_hooks' is kept in extra but cfn does not use it"),
              org.assertj.core.groups.Tuple.tuple(
                  "planner.md",
                  15,
                  "unknown field 'lifecycle.pre_task' is kept in extra but cfn does not use it"));
    }

    @Test
    void badFilesDoNotStopTheOthersAndEachProblemHasItsLine() {
      LoadResult r = DefinitionLoader.load(resource("mixed"));

      assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("test-writer");
      assertThat(r.invalidFiles())
          .extracting(p -> p.getFileName().toString())
          .containsExactly("NOTES.md", "broken-yaml.md", "reviewer.md");
      assertThat(r.files()).hasSize(4);
      assertThat(r.errors())
          .extracting(p -> p.file().getFileName() + ":" + p.line())
          .containsExactly(
              "NOTES.md:1", "broken-yaml.md:3", "reviewer.md:2", "reviewer.md:4", "reviewer.md:5");
      assertThat(r.errors().get(1).message()).contains("mapping values are not allowed");
      assertThat(r.errors().get(1).fix()).contains("quote the value");
      assertThat(r.errors().get(2).fix()).contains("name: security-reviewer");
      assertThat(r.errors().get(3).fix()).contains("did you mean model: sonnet?");
      assertThat(r.errors().get(4).message()).contains("priority 'urgent'");
    }
  }

  @Nested
  class Frontmatter {
    @Test
    void missingFrontmatterIsReportedOnTheFirstLine() {
      Problem p = onlyError("# Reviewer\n\nYou review code.\n");
      assertThat(p.line()).isEqualTo(1);
      assertThat(p.message()).startsWith("no frontmatter");
      assertThat(p.fix()).contains("name: sample");
    }

    @Test
    void frontmatterAfterBlankLinesIsAnError() {
      Problem p = onlyError("\n\n---\nname: a\ndescription: b\n---\nprompt\n");
      assertThat(p.line()).isEqualTo(1);
      assertThat(p.message()).contains("on line 3");
    }

    @Test
    void unterminatedFrontmatterNamesTheOpeningLine() {
      Problem p = onlyError("---\nname: reviewer\ndescription: reviews\n\nYou review code.\n");
      assertThat(p.line()).isEqualTo(1);
      assertThat(p.message()).isEqualTo("the frontmatter opened by --- on line 1 is never closed");
      assertThat(p.fix()).contains("add a line ---");
    }

    @Test
    void anEmptyFileIsAnError() {
      assertThat(onlyError("  \n\n").message()).isEqualTo("the file is empty");
    }

    @Test
    void yamlSyntaxErrorsCarryTheParsersLine() {
      Problem colon =
          onlyError(
              "---\nname: reviewer\ntools: Read\ndescription: Use when: asked\nmodel: opus\n---\nx\n");
      assertThat(colon.line()).isEqualTo(4);
      assertThat(colon.message()).startsWith("YAML syntax error in the frontmatter:");

      Problem tab = onlyError("---\nname: reviewer\nhooks:\n\tpre: echo\ndescription: d\n---\nx\n");
      assertThat(tab.line()).isEqualTo(4);
      assertThat(tab.fix())
          .isEqualTo("indent with spaces, not tabs; cfn agent fix " + FILE + " does it for you");

      Problem unclosedList =
          onlyError("---\nname: a\ndescription: b\ntools: [Read, Grep\n---\nx\n");
      assertThat(unclosedList.line()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void frontmatterThatIsNotFieldsIsAnError() {
      Problem p = onlyError("---\n- name\n- description\n---\nx\n");
      assertThat(p.line()).isEqualTo(2);
      assertThat(p.message()).contains("but it is a list");
    }

    @Test
    void windowsLineEndingsAndAByteOrderMarkAreRead() {
      LoadResult r =
          DefinitionLoader.parse(
              "\uFEFF---\r\nname: win\r\ndescription: d\r\nmodel: opsu\r\n---\r\nprompt\r\n", FILE);
      assertThat(r.errors()).singleElement().extracting(Problem::line).isEqualTo(4);
      LoadResult ok =
          DefinitionLoader.parse(
              "\uFEFF---\r\nname: win\r\ndescription: d\r\n---\r\nprompt\r\n", FILE);
      assertThat(ok.definitions())
          .singleElement()
          .extracting(AgentDefinition::systemPrompt)
          .isEqualTo("prompt");
    }

    @Test
    void anEmptyBodyIsAWarningAndTheDefinitionLoads() {
      LoadResult r = DefinitionLoader.parse("---\nname: a\ndescription: b\n---\n\n   \n", FILE);
      assertThat(r.definitions())
          .singleElement()
          .extracting(AgentDefinition::systemPrompt)
          .isEqualTo("");
      assertThat(problems(r))
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.severity()).isEqualTo(Severity.WARNING);
                assertThat(p.line()).isEqualTo(4);
                assertThat(p.message()).contains("no system prompt");
              });
    }

    @Test
    void aHorizontalRuleInTheBodyStaysInThePrompt() {
      AgentDefinition d =
          DefinitionLoader.parse("---\nname: a\ndescription: b\n---\nOne\n\n---\n\nTwo\n", FILE)
              .definitions()
              .get(0);
      assertThat(d.systemPrompt()).isEqualTo("One\n\n---\n\nTwo");
    }
  }

  @Nested
  class Fields {
    @Test
    void missingNameAndDescriptionAreErrorsOnTheOpeningLine() {
      LoadResult r = DefinitionLoader.parse("---\nmodel: opus\n---\nprompt\n", FILE);
      assertThat(r.definitions()).isEmpty();
      assertThat(r.errors())
          .extracting(Problem::line, Problem::message)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(1, "the frontmatter has no name"),
              org.assertj.core.groups.Tuple.tuple(1, "the frontmatter has no description"));
      assertThat(r.errors().get(0).fix()).contains("name: sample");
    }

    @Test
    void anEmptyFrontmatterLacksNameAndDescription() {
      assertThat(DefinitionLoader.parse("---\n---\nprompt\n", FILE).errors()).hasSize(2);
    }

    @Test
    void badNamesAreErrorsWithASuggestedName() {
      Problem spaces = onlyError("---\ndescription: d\nname: Code Reviewer\n---\nx\n");
      assertThat(spaces.line()).isEqualTo(3);
      assertThat(spaces.message()).isEqualTo("name 'Code Reviewer' is not a valid agent name");
      assertThat(spaces.fix()).endsWith("name: code-reviewer");

      assertThat(onlyError("---\nname: codeReviewer\ndescription: d\n---\nx\n").fix())
          .endsWith("name: code-reviewer");
      assertThat(onlyError("---\nname: code_reviewer\ndescription: d\n---\nx\n").line())
          .isEqualTo(2);
      assertThat(onlyError("---\nname: -reviewer\ndescription: d\n---\nx\n").line()).isEqualTo(2);
      Problem number = onlyError("---\nname: 123\ndescription: d\n---\nx\n");
      assertThat(number.message()).isEqualTo("name must be text, but it is the number 123");
      assertThat(number.fix()).isEqualTo("quote it: name: \"123\"");
      assertThat(onlyError("---\nname: \"\"\ndescription: d\n---\nx\n").message())
          .isEqualTo("name has no value");
    }

    @Test
    void namesMayJoinGroupsWithDotsAsClaudeCodeCollectionsDo() {
      for (String ok : List.of("powershell-5.1-expert", "python3.12", "v2", "a.b-c.d")) {
        LoadResult r =
            DefinitionLoader.parse("---\nname: " + ok + "\ndescription: d\n---\nx\n", FILE);
        assertThat(r.errors()).as(ok).isEmpty();
        assertThat(r.definitions().get(0).name()).isEqualTo(ok);
      }
      for (String bad : List.of("a..b", ".hidden", "end.", "a.-b", "plugin:agent")) {
        assertThat(onlyError("---\nname: \"" + bad + "\"\ndescription: d\n---\nx\n").message())
            .isEqualTo("name '" + bad + "' is not a valid agent name");
      }
      assertThat(onlyError("---\nname: PowerShell 5.1 Expert\ndescription: d\n---\nx\n").fix())
          .endsWith("name: power-shell-5.1-expert");
    }

    @Test
    void toolsOfTheWrongTypeAreErrors() {
      Problem number = onlyError("---\nname: a\ndescription: b\ntools: 5\n---\nx\n");
      assertThat(number.line()).isEqualTo(4);
      assertThat(number.message()).isEqualTo("tools must be tool names, but it is the number 5");
      assertThat(number.fix()).contains("tools: Read, Grep, Bash");

      Problem map = onlyError("---\nname: a\ndescription: b\ntools:\n  read: yes\n---\nx\n");
      assertThat(map.line()).isEqualTo(5);

      Problem item =
          onlyError("---\nname: a\ndescription: b\ntools:\n  - Read\n  - 42\n  - Bash\n---\nx\n");
      assertThat(item.line()).isEqualTo(6);
      assertThat(item.message())
          .isEqualTo("tools entry 2 must be a tool name, but it is the number 42");
    }

    @Test
    void toolsAreSplitOnCommasOutsideParentheses() {
      AgentDefinition d =
          DefinitionLoader.parse(
                  "---\nname: a\ndescription: b\ntools: Read, Task(coder, reviewer), mcp__github__create_issue\n---\nx\n",
                  FILE)
              .definitions()
              .get(0);
      assertThat(d.tools())
          .containsExactly("Read", "Task(coder, reviewer)", "mcp__github__create_issue");
    }

    @Test
    void anEmptyToolsListMeansNoTools() {
      LoadResult r =
          DefinitionLoader.parse("---\nname: a\ndescription: b\ntools: []\n---\nx\n", FILE);
      assertThat(problems(r)).isEmpty();
      assertThat(r.definitions().get(0).tools()).isEmpty();
      assertThat(r.definitions().get(0).allowsAllTools()).isFalse();
    }

    @Test
    void repeatedToolsAndEmptyEntriesAreWarnings() {
      LoadResult r =
          DefinitionLoader.parse(
              "---\nname: a\ndescription: b\ntools: Read, , Read\n---\nx\n", FILE);
      assertThat(r.definitions().get(0).tools()).containsExactly("Read");
      assertThat(warnings(r)).extracting(Problem::line).containsExactly(4, 4);
    }

    @Test
    void lifecycleNumbersAreChecked() {
      Problem negative =
          onlyError("---\nname: a\ndescription: b\nlifecycle:\n  max_retries: -1\n---\nx\n");
      assertThat(negative.line()).isEqualTo(5);
      assertThat(negative.message())
          .isEqualTo("lifecycle.max_retries must be at least 0, but it is -1");

      Problem words =
          onlyError(
              "---\nname: a\ndescription: b\nlifecycle:\n  timeout_ms: 1000\n  max_retries: three\n---\nx\n");
      assertThat(words.line()).isEqualTo(6);
      assertThat(words.message())
          .isEqualTo("lifecycle.max_retries must be a whole number, but it is the text 'three'");
      assertThat(words.fix()).contains("max_retries: 3").doesNotContain("timeout");

      Problem zero =
          onlyError("---\nname: a\ndescription: b\nlifecycle:\n  timeout_ms: 0\n---\nx\n");
      assertThat(zero.message()).isEqualTo("lifecycle.timeout_ms must be at least 1, but it is 0");

      Problem fraction =
          onlyError("---\nname: a\ndescription: b\nlifecycle:\n  timeout_ms: 2.5\n---\nx\n");
      assertThat(fraction.message()).contains("the number 2.5");

      Problem notAMap = onlyError("---\nname: a\ndescription: b\nlifecycle: 3\n---\nx\n");
      assertThat(notAMap.line()).isEqualTo(4);
    }

    @Test
    void theTurnLimitIsALifecycleFieldOrClaudeCodesMaxTurns() {
      for (String field :
          List.of("lifecycle:\n  max_turns: 12\n", "maxTurns: 12\n", "max_turns: 12\n")) {
        LoadResult r =
            DefinitionLoader.parse("---\nname: a\ndescription: b\n" + field + "---\nx\n", FILE);
        assertThat(problems(r)).as(field).isEmpty();
        AgentDefinition d = r.definitions().getFirst();
        assertThat(d.lifecycle().maxTurns()).as(field).isEqualTo(12);
        assertThat(d.lifecycle().maxTurnsOr(16)).isEqualTo(12);
        assertThat(d.extra()).as("read, not kept as unknown").isEmpty();
      }
      AgentDefinition none =
          DefinitionLoader.parse("---\nname: a\ndescription: b\n---\nx\n", FILE)
              .definitions()
              .getFirst();
      assertThat(none.lifecycle()).isEqualTo(AgentDefinition.Lifecycle.NONE);
      assertThat(none.lifecycle().maxTurnsOr(16)).isEqualTo(16);
    }

    @Test
    void theTurnLimitIsCheckedAndGivenOnce() {
      Problem zero = onlyError("---\nname: a\ndescription: b\nmaxTurns: 0\n---\nx\n");
      assertThat(zero.line()).isEqualTo(4);
      assertThat(zero.message()).isEqualTo("maxTurns must be at least 1, but it is 0");
      assertThat(zero.fix()).contains("maxTurns: 20");

      Problem words =
          onlyError("---\nname: a\ndescription: b\nlifecycle:\n  max_turns: many\n---\nx\n");
      assertThat(words.line()).isEqualTo(5);
      assertThat(words.message())
          .isEqualTo("lifecycle.max_turns must be a whole number, but it is the text 'many'");

      Problem twice =
          onlyError(
              "---\nname: a\ndescription: b\nlifecycle:\n  max_turns: 5\nmaxTurns: 6\n---\nx\n");
      assertThat(twice.line()).isEqualTo(6);
      assertThat(twice.message())
          .isEqualTo(
              "the turn limit is given twice, as lifecycle.max_turns (line 5) and as maxTurns");

      assertThatThrownBy(() -> new AgentDefinition.Lifecycle(null, null, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("maxTurns must be 1 or more");
    }

    @Test
    void priorityMustBeKnownAndMisspellingsGetASuggestion() {
      Problem unknown = onlyError("---\nname: a\ndescription: b\npriority: urgent\n---\nx\n");
      assertThat(unknown.line()).isEqualTo(4);
      assertThat(unknown.message())
          .isEqualTo("priority 'urgent' is not one of low, medium, high, critical");
      assertThat(onlyError("---\nname: a\ndescription: b\npriority: hgih\n---\nx\n").fix())
          .isEqualTo("write priority: high");
      assertThat(onlyError("---\nname: a\ndescription: b\npriority: 1\n---\nx\n").message())
          .contains("the number 1");
      assertThat(
              DefinitionLoader.parse(
                      "---\nname: a\ndescription: b\npriority: Medium\n---\nx\n", FILE)
                  .definitions()
                  .get(0)
                  .priority())
          .isEqualTo(Priority.MEDIUM);
    }

    @Test
    void modelsAreAliasesOrLookLikeModelIds() {
      for (String ok :
          List.of(
              "sonnet",
              "opus",
              "haiku",
              "inherit",
              "claude-sonnet-4-5-20250929",
              "gpt-4o",
              "glm-4.6",
              "anthropic/claude-3.5-sonnet",
              "llama3.1:8b")) {
        LoadResult r =
            DefinitionLoader.parse(
                "---\nname: a\ndescription: b\nmodel: " + ok + "\n---\nx\n", FILE);
        assertThat(problems(r)).as(ok).isEmpty();
        assertThat(r.definitions().get(0).model()).isEqualTo(ok);
      }
      Problem typo = onlyError("---\nname: a\ndescription: b\nmodel: sonet\n---\nx\n");
      assertThat(typo.line()).isEqualTo(4);
      assertThat(typo.message()).isEqualTo("model 'sonet' is neither a model alias nor a model id");
      assertThat(typo.fix()).startsWith("did you mean model: sonnet?");
      assertThat(onlyError("---\nname: a\ndescription: b\nmodel: claude sonnet\n---\nx\n").line())
          .isEqualTo(4);
      // a bare word that is no misspelt alias may be an alias newer than cfn (Claude Code's
      // fable): a warning, sent as it is to an Anthropic provider, refused by others (ModelRouter)
      Problem fable =
          only(Severity.WARNING, "---\nname: a\ndescription: b\nmodel: fable\n---\nx\n");
      assertThat(fable.line()).isEqualTo(4);
      assertThat(fable.message())
          .isEqualTo(
              "model 'fable' is not an alias cfn knows (sonnet, opus, haiku, inherit), so it is"
                  + " sent unchanged to an Anthropic provider; any other provider refuses it");
      assertThat(
              DefinitionLoader.parse("---\nname: a\ndescription: b\nmodel: fable\n---\nx\n", FILE)
                  .definitions()
                  .get(0)
                  .model())
          .isEqualTo("fable");
      // a bare word is fine once a provider says whose model it is
      assertThat(
              problems(
                  DefinitionLoader.parse(
                      "---\nname: a\nmodel: mistral\nprovider: ollama\ndescription: b\n---\nx\n",
                      FILE)))
          .isEmpty();
    }

    @Test
    void capabilitiesMustBeAList() {
      Problem p = onlyError("---\nname: a\ndescription: b\ncapabilities: refactoring\n---\nx\n");
      assertThat(p.line()).isEqualTo(4);
      assertThat(p.message())
          .isEqualTo("capabilities must be a list, but it is the text 'refactoring'");
    }

    @Test
    void hooksMustBeAMap() {
      Problem p = onlyError("---\nname: a\ndescription: b\nhooks: echo hi\n---\nx\n");
      assertThat(p.line()).isEqualTo(4);
      assertThat(p.message()).startsWith("hooks must be a map");
    }

    @Test
    void claudeCodeStructuredHooksAreKeptAsWritten() {
      AgentDefinition d =
          DefinitionLoader.parse(
                  """
                  ---
                  name: a
                  description: b
                  hooks:
                    PreToolUse:
                      - matcher: Bash
                        hooks:
                          - type: command
                            command: ./check.sh
                  ---
                  x
                  """,
                  FILE)
              .definitions()
              .get(0);
      assertThat(d.hooks())
          .isEqualTo(
              Map.of(
                  "PreToolUse",
                  List.of(
                      Map.of(
                          "matcher",
                          "Bash",
                          "hooks",
                          List.of(Map.of("type", "command", "command", "./check.sh"))))));
    }

    @Test
    void aFieldGivenTwiceIsAnErrorNamingBothLines() {
      Problem p = onlyError("---\nname: a\ndescription: b\nmodel: opus\nmodel: haiku\n---\nx\n");
      assertThat(p.line()).isEqualTo(5);
      assertThat(p.message()).isEqualTo("field 'model' is given twice (first on line 4)");
    }

    @Test
    void anUnquotedHashColorIsAWarningThatExplainsTheComment() {
      LoadResult r =
          DefinitionLoader.parse("---\nname: a\ndescription: b\ncolor: #FF6B35\n---\nx\n", FILE);
      assertThat(r.definitions().get(0).color()).isNull();
      Problem p = problems(r).get(0);
      assertThat(p.severity()).isEqualTo(Severity.WARNING);
      assertThat(p.line()).isEqualTo(4);
      assertThat(p.message()).contains("an unquoted # starts a YAML comment");
      assertThat(p.fix()).isEqualTo("quote the value: color: \"#...\"");
    }

    @Test
    void unknownFieldsKeepTheirValuesAndMisspellingsGetASuggestion() {
      LoadResult r =
          DefinitionLoader.parse(
              """
              ---
              name: a
              description: b
              descripton: typo
              Model: opus
              retries: 3
              enabled: true
              weights: {x: 1.5}
              nothing:
              ---
              x
              """,
              FILE);
      AgentDefinition d = r.definitions().get(0);
      assertThat(d.model()).isNull();
      assertThat(d.extra())
          .containsEntry("descripton", "typo")
          .containsEntry("Model", "opus")
          .containsEntry("retries", 3)
          .containsEntry("enabled", true)
          .containsEntry("weights", Map.of("x", 1.5))
          .containsEntry("nothing", null);
      assertThat(warnings(r))
          .extracting(Problem::line, Problem::fix)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(4, "did you mean description?"),
              org.assertj.core.groups.Tuple.tuple(5, "field names are lowercase: write model:"),
              org.assertj.core.groups.Tuple.tuple(6, "remove it, unless another tool reads it"),
              org.assertj.core.groups.Tuple.tuple(7, "remove it, unless another tool reads it"),
              org.assertj.core.groups.Tuple.tuple(8, "remove it, unless another tool reads it"),
              org.assertj.core.groups.Tuple.tuple(9, "remove it, unless another tool reads it"));
      assertThat(warnings(r)).allSatisfy(p -> assertThat(p.message()).contains("unknown field '"));
      assertThatThrownBy(() -> d.extra().put("x", 1))
          .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void selfReferencingAliasesDoNotLoopForever() {
      Problem p = onlyError("---\nname: a\ndescription: b\nloop: &l [*l]\n---\nx\n");
      assertThat(p.line()).isGreaterThanOrEqualTo(4);
    }
  }

  @Nested
  class FilesAndFolders {
    @TempDir Path dir;

    @Test
    void duplicateNamesAreErrorsInBothFilesNamingTheOther() throws Exception {
      Path a = Files.writeString(dir.resolve("a.md"), "---\nname: twin\ndescription: a\n---\nA\n");
      Files.createDirectories(dir.resolve("sub"));
      Path b =
          Files.writeString(
              dir.resolve("sub/b.md"), "---\ndescription: b\nmodel: opus\nname: twin\n---\nB\n");
      Files.writeString(dir.resolve("c.md"), "---\nname: single\ndescription: c\n---\nC\n");

      LoadResult r = DefinitionLoader.load(dir);

      assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("single");
      assertThat(r.errors())
          .extracting(Problem::file, Problem::line, Problem::message)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(
                  a, 2, "agent name 'twin' is also used by " + b + ":4"),
              org.assertj.core.groups.Tuple.tuple(
                  b, 4, "agent name 'twin' is also used by " + a + ":2"));
    }

    @Test
    void aFileThatIsNotUtf8IsAnErrorOnTheLineOfTheBadByte() throws Exception {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.write("---\nname: cafe\ndescription: Caf".getBytes(StandardCharsets.US_ASCII));
      bytes.write(0xE9); // é in Latin-1
      bytes.write(" agent\n---\nprompt\n".getBytes(StandardCharsets.US_ASCII));
      Path latin1 = Files.write(dir.resolve("cafe.md"), bytes.toByteArray());
      Files.writeString(dir.resolve("ok.md"), "---\nname: ok\ndescription: fine\n---\nx\n");

      LoadResult r = DefinitionLoader.load(dir);

      assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("ok");
      Problem p = r.errors().get(0);
      assertThat(p.file()).isEqualTo(latin1);
      assertThat(p.line()).isEqualTo(3);
      assertThat(p.message())
          .contains("not UTF-8")
          .contains("0xE9")
          .contains("byte 17 of the line");
      assertThat(p.fix()).contains("iconv");
    }

    @Test
    void missingPathsAreErrorsAndEmptyFoldersWarnings() throws Exception {
      Path missing = dir.resolve("nope");
      Path empty = Files.createDirectories(dir.resolve("empty"));
      Files.writeString(empty.resolve("notes.txt"), "not an agent");

      LoadResult r = DefinitionLoader.load(missing, empty);

      assertThat(problems(r))
          .extracting(Problem::file, Problem::line, Problem::severity)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(missing, 0, Severity.ERROR),
              org.assertj.core.groups.Tuple.tuple(empty, 0, Severity.WARNING));
      assertThat(r.invalidFiles()).containsExactly(missing);
    }

    @Test
    void aFileNamedDirectlyAndInsideANamedFolderIsReadOnce() throws Exception {
      Path a = Files.writeString(dir.resolve("a.md"), "---\nname: a\ndescription: a\n---\nA\n");
      Path agentTxt =
          Files.writeString(dir.resolve("agent.txt"), "---\nname: t\ndescription: t\n---\nT\n");

      LoadResult r = DefinitionLoader.load(dir, a, agentTxt);

      assertThat(problems(r)).isEmpty();
      assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("a", "t");
    }
  }

  @Test
  void problemsPrintAsCompilerStyleLines() {
    Problem p = new Problem(Path.of("a.md"), 3, Severity.ERROR, "bad", "do this");
    assertThat(p).hasToString("a.md:3: error: bad (fix: do this)");
    assertThat(new Problem(Path.of("dir"), 0, Severity.WARNING, "empty", "add files"))
        .hasToString("dir: warning: empty (fix: add files)");
  }

  @Test
  void definitionsCheckTheirOwnNameAndHideExtraFromToString() {
    assertThatThrownBy(
            () ->
                new AgentDefinition(
                    "Bad Name",
                    "d",
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    "",
                    null,
                    FILE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("code-reviewer");
    AgentDefinition d =
        new AgentDefinition(
            "ok",
            "d",
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            "p",
            Map.of("api_key", "sk-secret"),
            FILE);
    assertThat(d.toString()).contains("ok").doesNotContain("sk-secret");
    assertThat(d.tools()).as("no tools given: default deny").isEmpty();
  }
}
