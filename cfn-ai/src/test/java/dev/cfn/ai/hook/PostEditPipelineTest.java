package dev.cfn.ai.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.AgentId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The post-edit checks: steps per language, a JSON report, a missing program reported. */
class PostEditPipelineTest {
  private static final AgentId AGENT = AgentId.of("coder", "1");

  @TempDir Path workspace;

  private final PostEditPipeline pipeline =
      PostEditPipeline.builder()
          .language(
              PostEditPipeline.Language.builder("text", "txt", ".md")
                  .format("sed", "-i", "s/[[:space:]]*$//", "{file}")
                  .lint("sh", "-c", "! grep -n TODO \"$1\"", "lint", "{file}")
                  .test("cfn-no-such-test-runner", "{file}")
                  .build())
          .build();

  private HookEvent.PostEdit edit(String path) {
    return new HookEvent.PostEdit(AGENT, "file_write", real(workspace), path);
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void eachStepOfTheFilesLanguageRunsAndOneReportSaysHowItWent() throws Exception {
    Files.createDirectories(workspace.resolve("notes"));
    Path file = workspace.resolve("notes/plan.txt");
    Files.writeString(file, "first   \nTODO: second\n");

    HookOutcome outcome = pipeline.run(edit("notes/plan.txt"));

    assertThat(outcome.blocked()).isFalse();
    JsonNode report = EventJson.MAPPER.readTree(outcome.message());
    assertThat(report.get("language").asText()).isEqualTo("text");
    assertThat(report.get("path").asText()).isEqualTo("notes/plan.txt");
    assertThat(report.get("file").asText()).isEqualTo(file.toRealPath().toString());
    assertThat(report.get("ok").asBoolean()).isFalse();
    JsonNode steps = report.get("steps");
    assertThat(steps).hasSize(3);
    assertThat(steps.get(0).get("step").asText()).isEqualTo("format");
    assertThat(steps.get(0).get("status").asText()).isEqualTo("passed");
    assertThat(steps.get(1).get("status").asText()).isEqualTo("failed");
    assertThat(steps.get(1).get("exitCode").asInt()).isEqualTo(1);
    assertThat(steps.get(1).get("output").asText()).isEqualTo("2:TODO: second");
    assertThat(steps.get(2).get("status").asText()).isEqualTo("missing");
    assertThat(steps.get(2).get("output").asText())
        .contains("could not start 'cfn-no-such-test-runner'");
    assertThat(Files.readString(file)).isEqualTo("first\nTODO: second\n"); // the formatter ran
  }

  @Test
  void aMissingProgramAloneLeavesTheReportOk() throws Exception {
    Files.writeString(workspace.resolve("clean.md"), "all done\n");

    JsonNode report = EventJson.MAPPER.readTree(pipeline.run(edit("clean.md")).message());

    assertThat(report.get("ok").asBoolean()).isTrue();
    assertThat(report.at("/steps/2/status").asText()).isEqualTo("missing");
  }

  @Test
  void aFileOfNoConfiguredLanguageGetsNoReport() {
    assertThat(pipeline.run(edit("main.rs"))).isEqualTo(HookOutcome.proceed());
  }

  @Test
  void aPipelineWithoutLanguageOrALanguageWithoutStepsIsRefused() {
    assertThatThrownBy(() -> PostEditPipeline.builder().build())
        .hasMessageContaining("needs a language");
    assertThatThrownBy(() -> PostEditPipeline.Language.builder("python", "py").build())
        .hasMessageContaining("one step or more");
  }
}
