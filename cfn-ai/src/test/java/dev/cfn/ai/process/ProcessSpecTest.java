package dev.cfn.ai.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.process.ProcessSpec.Mode;
import dev.cfn.ai.process.ProcessSpec.Stdin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessSpecTest {

  @Test
  void defaults_are_per_message_with_a_credential_free_allow_list() {
    ProcessSpec spec =
        ProcessSpec.builder("claude", "-p")
            .parentEnvironment(
                Map.of("PATH", "/bin", "HOME", "/home/u", "ANTHROPIC_API_KEY", "sk-secret"))
            .build();

    assertThat(spec.mode()).isEqualTo(Mode.perMessage());
    assertThat(spec.stdin()).isEqualTo(Stdin.message());
    assertThat(spec.timeout()).isEqualTo(ProcessSpec.DEFAULT_TIMEOUT);
    assertThat(spec.environment()).containsOnlyKeys("PATH", "HOME");
    assertThat(spec.overridableEnv()).isEqualTo(ProcessSpec.DEFAULT_INHERITED_ENV);
  }

  @Test
  void a_listed_variable_is_inherited_and_explicit_ones_win() {
    ProcessSpec spec =
        ProcessSpec.builder("claude", "-p")
            .parentEnvironment(Map.of("ANTHROPIC_API_KEY", "sk-secret", "MODE", "parent"))
            .inheritNoEnv()
            .inheritEnv("ANTHROPIC_API_KEY", "MODE")
            .env("MODE", "explicit")
            .build();

    assertThat(spec.environment())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("ANTHROPIC_API_KEY", "sk-secret", "MODE", "explicit"));
    assertThat(spec.toString()).contains("ANTHROPIC_API_KEY").doesNotContain("sk-secret");
  }

  @Test
  void to_string_shows_the_program_but_not_the_arguments() {
    ProcessSpec spec = ProcessSpec.builder("tool", "--token", "tok-123").build();

    assertThat(spec.toString()).contains("program=tool", "args=2").doesNotContain("tok-123");
    assertThat(ProcessRequest.of("private prompt").withEnv("K", "v-secret").toString())
        .doesNotContain("private prompt", "v-secret");
  }

  @Test
  void the_placeholder_is_replaced_in_arguments_only() {
    ProcessSpec spec = ProcessSpec.builder("{input}", "--q={input}", "plain").build();

    assertThat(spec.commandFor("x y", List.of("extra")))
        .containsExactly("{input}", "--q=x y", "plain", "extra");
  }

  @Test
  void text_that_would_be_read_as_an_option_is_refused_unless_after_double_dash() {
    ProcessSpec grep = ProcessSpec.builder("grep", "-n", "{input}", "notes.txt").build();
    assertThatThrownBy(() -> grep.commandFor("-f/etc/passwd", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("would read it as an option")
        .hasMessageContaining("\"--\"");
    assertThat(grep.commandFor("todo", List.of()))
        .containsExactly("grep", "-n", "todo", "notes.txt");

    ProcessSpec safe = ProcessSpec.builder("grep", "-n", "--", "{input}", "notes.txt").build();
    assertThat(safe.commandFor("-f/etc/passwd", List.of()))
        .containsExactly("grep", "-n", "--", "-f/etc/passwd", "notes.txt");
    // inside a larger argument the text cannot start an option
    ProcessSpec embedded = ProcessSpec.builder("claude", "-p", "Task: {input}").build();
    assertThat(embedded.commandFor("--dangerously-skip-permissions", List.of()))
        .containsExactly("claude", "-p", "Task: --dangerously-skip-permissions");
  }

  @Test
  void overrides_outside_the_allow_list_are_refused_by_name() {
    ProcessSpec spec =
        ProcessSpec.builder("x").parentEnvironment(Map.of()).inheritNoEnv().env("A", "1").build();

    assertThat(spec.environmentWith(Map.of("A", "2"))).containsEntry("A", "2");
    assertThatThrownBy(() -> spec.environmentWith(Map.of("PATH", "/evil")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'PATH'")
        .hasMessageNotContaining("/evil");
  }

  @Test
  void invalid_settings_are_refused_with_the_fix(@TempDir Path dir) {
    assertThatThrownBy(() -> ProcessSpec.builder().build())
        .hasMessageContaining("command is empty");
    assertThatThrownBy(() -> ProcessSpec.builder("x").timeout(Duration.ZERO))
        .hasMessageContaining("timeout must be positive");
    assertThatThrownBy(() -> ProcessSpec.builder("x").maxStdoutBytes(0))
        .hasMessageContaining("maxStdoutBytes");
    assertThatThrownBy(() -> ProcessSpec.builder("x").env("A=B", "v"))
        .hasMessageContaining("without '='");
    assertThatThrownBy(() -> ProcessSpec.builder("x").workingDirectory(dir.resolve("missing")))
        .hasMessageContaining("not a directory");
    assertThatThrownBy(() -> Mode.textLines("")).hasMessageContaining("non-empty single line");
    assertThatThrownBy(() -> ProcessSpec.builder("x", "{input}").mode(Mode.jsonLines()).build())
        .hasMessageContaining("started once, before any message");
    assertThatThrownBy(
            () -> ProcessSpec.builder("x").mode(Mode.textLine()).stdin(Stdin.none()).build())
        .hasMessageContaining("per-message mode");
  }
}
