package dev.cfn.ai.tool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.AgentDefinition;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ToolPermissionsTest {

  @Test
  void exactNamesAllowExactlyThoseTools() {
    ToolPermissions p = ToolPermissions.of("file_read", "memory_get");
    assertThat(p.permits("file_read")).isTrue();
    assertThat(p.permits("memory_get")).isTrue();
    assertThat(p.permits("file_write")).isFalse();
    assertThat(p.permits("file_read_all")).isFalse();
    assertThat(p.permits(null)).isFalse();
  }

  @Test
  void aTrailingStarAllowsEveryToolWithThePrefix() {
    ToolPermissions p = ToolPermissions.of("mcp__github__*");
    assertThat(p.permits("mcp__github__create_issue")).isTrue();
    assertThat(p.permits("mcp__github__")).isTrue();
    assertThat(p.permits("mcp__gitlab__create_issue")).isFalse();
    assertThat(p.permits("mcp__github")).isFalse();
    assertThat(ToolPermissions.of("*").permits("anything")).isTrue();
  }

  @Test
  void aBareMcpServerEntryAllowsEveryToolOfThatServerAsInClaudeCode() {
    ToolPermissions p = ToolPermissions.of("mcp__github", "mcp__my_server");
    assertThat(p.permits("mcp__github__create_issue")).isTrue();
    assertThat(p.permits("mcp__github__list_prs")).isTrue();
    assertThat(p.permits("mcp__my_server__query")).isTrue();
    assertThat(p.permits("mcp__gitlab__create_issue")).isFalse();
    assertThat(p.permits("mcp__githubber__create_issue"))
        .as("the server name must match whole")
        .isFalse();
    assertThat(p.permits("mcp__my__server__query")).isFalse();
    assertThat(ToolPermissions.of("mcp__github__create_issue").permits("mcp__github__list_prs"))
        .as("an entry with a tool part stays exact")
        .isFalse();
    assertThat(ToolPermissions.of("mcp__").permits("mcp____x")).isFalse();
  }

  @Test
  void noListOrAnEmptyListAllowsNothing() {
    assertThat(ToolPermissions.none().permits("file_read")).isFalse();
    assertThat(ToolPermissions.of((List<String>) null).permits("file_read")).isFalse();
    assertThat(ToolPermissions.of(List.of()).permits("file_read")).isFalse();
  }

  @Test
  void entriesThatAreNeitherNamesNorTrailingGlobsAllowNothing() {
    ToolPermissions p = ToolPermissions.of("Bash(git diff:*)", "mcp__*__read", "file_*");
    assertThat(p.permits("Bash")).isFalse();
    assertThat(p.permits("mcp__x__read")).isFalse();
    assertThat(p.permits("file_read")).isTrue();
    assertThat(p.patterns()).containsExactly("Bash(git diff:*)", "mcp__*__read", "file_*");
  }

  @Test
  void anAgentDefinitionsToolsAreItsPermissions() {
    AgentDefinition reviewer = definition(List.of("file_read", "mcp__github__*"));
    ToolPermissions p = ToolPermissions.forDefinition(reviewer);
    assertThat(p.permits("file_read")).isTrue();
    assertThat(p.permits("mcp__github__list_prs")).isTrue();
    assertThat(p.permits("file_write")).isFalse();
    assertThat(ToolPermissions.forDefinition(definition(List.of())).permits("file_read")).isFalse();
  }

  @Test
  void claudeCodeNamesOfTheFileToolsAreTranslated() {
    ToolPermissions p = ToolPermissions.forDefinition(definition(List.of("Read", "Glob", "Bash")));
    assertThat(p.permits("file_read")).isTrue();
    assertThat(p.permits("file_list")).isTrue();
    assertThat(p.permits("file_write")).as("Write was not listed").isFalse();
    assertThat(ToolPermissions.forDefinition(definition(null)).permits("file_read"))
        .as("no tools line: default deny")
        .isFalse();
  }

  private static AgentDefinition definition(List<String> tools) {
    return new AgentDefinition(
        "reviewer",
        "Reviews code.",
        tools,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        "You review code.",
        null,
        Path.of("reviewer.md"));
  }
}
