package dev.cfn.ai.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.cfn.core.AgentId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A project's hooks file: read into hooks that run as configured; a bad file refused with a fix.
 */
class ProjectHooksTest {
  private static final AgentId AGENT = AgentId.of("coder", "1");

  @TempDir Path project;

  private Hooks read(String yaml) throws Exception {
    Path file = project.resolve(".cfn/hooks.yaml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, yaml);
    return ProjectHooks.read(file, project);
  }

  private String refusal(String yaml) {
    try {
      read(yaml);
    } catch (Exception e) {
      return e.getMessage();
    }
    throw new AssertionError("the file was accepted:\n" + yaml);
  }

  @Test
  void hooksRunAtTheirMomentsInTheProjectFolder() throws Exception {
    Files.writeString(project.resolve("marker"), "here");
    Hooks hooks =
        read(
            """
            pre-task:
              - command: [cat, marker]        # runs in the project: reads its file
              - shell: "grep -q forbidden && { echo 'no forbidden tasks' >&2; exit 3; } || true"
                timeout: 10s
            post-task:
              - command: ["true"]
            pre-tool:
              - tools: "file_write|file_edit"
                command: ["false"]
                name: writes are frozen
            post-edit: []
            post-tool:
            """);
    assertThat(hooks.count(Moment.PRE_TASK)).isEqualTo(2);
    assertThat(hooks.count(Moment.POST_TASK)).isEqualTo(1);
    assertThat(hooks.count(Moment.PRE_TOOL)).isEqualTo(1);
    assertThat(hooks.count(Moment.POST_EDIT)).isZero();
    assertThat(hooks.beforeTask(AGENT, "write a parser")).isEmpty();
    assertThat(hooks.beforeTask(AGENT, "a forbidden task"))
        .hasValueSatisfying(m -> assertThat(m).contains("exited with code 3: no forbidden tasks"));
    var args = JsonNodeFactory.instance.objectNode();
    assertThat(hooks.beforeTool(AGENT, "file_read", args)).as("not watched").isEmpty();
    assertThat(hooks.beforeTool(AGENT, "file_write", args))
        .hasValueSatisfying(m -> assertThat(m).contains("writes are frozen"));
  }

  @Test
  void anEmptyFileHasNoHooks() throws Exception {
    assertThat(read("# nothing yet\n").isEmpty()).isTrue();
  }

  @Test
  void aMalformedFileIsRefusedNamingTheKeyAndTheFix() {
    assertThat(refusal("pre-task: [\n"))
        .contains("hooks.yaml: is not valid YAML")
        .contains("(fix: correct the YAML)");
    assertThat(refusal("- command: [ls]\n")).contains("must be a map of moments");
    assertThat(refusal("before-task:\n  - command: [ls]\n"))
        .contains("before-task is not a moment cfn runs hooks at")
        .contains("(fix: use pre-task, post-task, pre-tool, post-tool or post-edit)");
    assertThat(refusal("pre-task: ls\n")).contains("pre-task must be a list of hooks");
    assertThat(refusal("pre-task:\n  - {}\n"))
        .contains("pre-task[0] has neither command nor shell");
    assertThat(refusal("pre-task:\n  - {command: [ls], shell: ls}\n"))
        .contains("pre-task[0] has both command and shell");
    assertThat(refusal("pre-task:\n  - {command: ls}\n"))
        .contains("pre-task[0].command must be a list of strings");
    assertThat(refusal("pre-task:\n  - {command: []}\n")).contains("pre-task[0].command is empty");
    assertThat(refusal("pre-tool:\n  - {command: [ls]}\n"))
        .contains("pre-tool[0].tools is missing");
    assertThat(refusal("post-task:\n  - {command: [ls], tools: '*'}\n"))
        .contains("post-task[0].tools applies to pre-tool and post-tool only");
    assertThat(refusal("pre-task:\n  - {command: [ls], timeout: soon}\n"))
        .contains("pre-task[0].timeout is soon, not a positive duration");
    assertThat(refusal("pre-task:\n  - {command: [ls], timeout: 0}\n"))
        .contains("not a positive duration");
    assertThat(refusal("pre-task:\n  - {command: [ls], shel: x}\n"))
        .contains("pre-task[0].shel is not a hook setting");
    assertThat(refusal("pre-task:\n  - {command: [ls], env: [NOT A NAME]}\n"))
        .contains("pre-task[0].env holds 'NOT A NAME', not a variable's name");
  }

  @Test
  void durationsReadSecondsMillisecondsAndMinutes() {
    assertThat(ProjectHooks.duration("f", "t", 30)).hasSeconds(30);
    assertThat(ProjectHooks.duration("f", "t", "500ms")).hasMillis(500);
    assertThat(ProjectHooks.duration("f", "t", "2m")).hasMinutes(2);
    assertThatThrownBy(() -> ProjectHooks.duration("f", "t", "-1s"))
        .hasMessageContaining("not a positive duration");
  }
}
