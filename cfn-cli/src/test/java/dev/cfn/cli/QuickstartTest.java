package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** examples/quickstart works as the README says: offline, without a key. */
class QuickstartTest {
  static final Path QUICKSTART =
      Path.of(System.getProperty("user.dir")).resolveSibling("examples/quickstart");

  @Test
  void theReadmeCommandAnswersOfflineFromTheShippedCassette(@TempDir Path tmp) {
    Map<String, String> saved = RunCommand.environment;
    RunCommand.environment = Map.of(); // no key, no provider from the machine
    try {
      CliRun run =
          CliRun.run(
              "run",
              "--replay",
              QUICKSTART.resolve("cassette.json").toString(),
              "--agents",
              QUICKSTART.resolve("agents").toString(),
              "--memory",
              tmp.resolve("memory.db").toString(),
              "explainer",
              "What does a durable message queue guarantee?");
      assertThat(run.code()).as(run.err()).isZero();
      assertThat(run.out()).contains("A durable message queue writes each message to disk");
      assertThat(run.err()).contains("1 model calls");
    } finally {
      RunCommand.environment = saved;
    }
  }

  @Test
  void aTaskTheCassetteDoesNotHoldFailsInOneLine(@TempDir Path tmp) {
    CliRun run =
        CliRun.run(
            "run",
            "--replay",
            QUICKSTART.resolve("cassette.json").toString(),
            "--agents",
            QUICKSTART.resolve("agents").toString(),
            "--memory",
            tmp.resolve("memory.db").toString(),
            "explainer",
            "Something else");
    assertThat(run.code()).isEqualTo(ExitCode.FAILED);
    assertThat(run.out() + run.err()).doesNotContain("\tat ");
  }

  @Test
  void theAgentsAreValidAndTheProvidersFileNamesALocalServer() {
    LoadResult r = DefinitionLoader.load(List.of(QUICKSTART.resolve("agents")));
    assertThat(r.invalidFiles()).isEmpty();
    assertThat(r.definitions()).extracting(d -> d.name()).contains("explainer", "reviewer");
    ModelConfig config =
        ModelConfig.load(QUICKSTART.resolve(".cfn/providers.yaml"), Map.of("LOCAL_MODEL", "m1"));
    assertThat(config.provider("local").baseUrl().toString())
        .isEqualTo("http://localhost:11434/v1");
    assertThat(config.provider("local").model()).isEqualTo("m1");
  }
}
