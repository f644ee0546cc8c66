package dev.cfn.ai.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.tool.ToolPermissions;
import dev.cfn.core.AgentId;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** An agent definition's hooks: claude-flow-novice's snippets and Claude Code's structured form. */
class DefinitionHooksTest {
  private static final AgentId AGENT = AgentId.of("coder", "1");

  private static AgentDefinition definition(String hooks) {
    String text =
        "---\nname: coder\ndescription: Writes code\ntools: [Write]\nhooks:\n"
            + hooks
            + "---\nYou write code.\n";
    LoadResult r = DefinitionLoader.parse(text, Path.of("agents/coder.md"));
    assertThat(r.errors()).isEmpty();
    return r.definitions().getFirst();
  }

  @Test
  void novicesPreAndPostSnippetsRunAroundTheTaskWithTheTaskInTask() {
    Hooks hooks =
        DefinitionHooks.read(
            definition(
                "  pre: |\n"
                    + "    if grep -q forbidden <<< \"$TASK\"; then echo \"no: $TASK\" >&2; exit 1; fi\n"
                    + "  post: echo done\n"));

    assertThat(hooks.count(Moment.PRE_TASK)).isEqualTo(1);
    assertThat(hooks.count(Moment.POST_TASK)).isEqualTo(1);
    assertThat(hooks.beforeTask(AGENT, "write a parser")).isEmpty();
    assertThat(hooks.beforeTask(AGENT, "a forbidden task"))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .startsWith("the pre-task hook hooks.pre of agent coder (agents/coder.md)")
                    .endsWith("exited with code 1: no: a forbidden task"));
  }

  @Test
  void claudeCodesToolHooksMatchCfnsNamesOfTheFileTools() {
    Hooks hooks =
        DefinitionHooks.read(
            definition(
                """
                  PreToolUse:
                    - matcher: Edit|Write
                      hooks:
                        - type: command
                          command: echo "frozen" >&2; exit 2
                          timeout: 5
                  Stop:
                    - hooks:
                        - type: command
                          command: "true"
                """));

    assertThat(hooks.count(Moment.PRE_TOOL)).isEqualTo(1);
    assertThat(hooks.count(Moment.POST_TASK)).isEqualTo(1);
    assertThat(hooks.beforeTool(AGENT, "file_write", EventJson.MAPPER.createObjectNode()))
        .hasValueSatisfying(m -> assertThat(m).endsWith("exited with code 2: frozen"));
    assertThat(hooks.beforeTool(AGENT, "file_read", EventJson.MAPPER.createObjectNode())).isEmpty();
  }

  @Test
  void theNamesAgreeWithToolPermissions() {
    assertThat(DefinitionHooks.CLAUDE_CODE_NAMES).isEqualTo(ToolPermissions.CLAUDE_CODE_NAMES);
  }

  @Test
  void aHookOfNoKnownFormIsRefusedNamingTheFileAndTheFix() {
    assertThatThrownBy(() -> DefinitionHooks.read(definition("  Notification: echo hi\n")))
        .hasMessage(
            "agents/coder.md: hooks.Notification is not a hook cfn runs (fix: use pre, post,"
                + " pre-tool, post-tool or post-edit (claude-flow-novice), or PreToolUse,"
                + " PostToolUse, UserPromptSubmit, Stop or SubagentStop (Claude Code))");
    assertThatThrownBy(
            () ->
                DefinitionHooks.read(
                    definition(
                        "  PreToolUse:\n    - matcher: Write\n      hooks: []\n"
                            + "    - hooks:\n        - type: prompt\n")))
        .hasMessageContaining("hooks.PreToolUse[1].hooks[0] is not a command hook");
  }
}
