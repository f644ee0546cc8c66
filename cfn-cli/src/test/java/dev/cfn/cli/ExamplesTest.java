package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The examples end to end, as their READMEs run them: offline, every model call answered from the
 * example's cassette; the runtime, the journal, the graph runner, the swarm and the agents are the
 * real ones.
 */
class ExamplesTest {
  @TempDir Path tmp;

  static final Path EXAMPLES = ExampleCassettesRecorder.EXAMPLES;

  static CliRun cfn(String... args) {
    return CliRun.run(args);
  }

  @Test
  void researchFanOutRunsDurablyFromItsCassetteAndASecondSubmitRepeatsNothing() throws Exception {
    String journal = tmp.resolve("cfn.db").toString();
    String[] submit = {
      "task",
      "submit",
      EXAMPLES.resolve("research-fanout/graph.yaml").toString(),
      "--agents",
      EXAMPLES.resolve("research-fanout/agents").toString(),
      "--replay",
      EXAMPLES.resolve("research-fanout/cassette.json").toString(),
      "--journal",
      journal,
      "--run",
      "fanout-1"
    };
    CliRun r = cfn(submit);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("run fanout-1: SUCCEEDED")
        .containsPattern("research-2 +SUCCEEDED +researcher")
        .contains("result of summary:\nA durable message queue keeps every message")
        .contains("5 model calls");
    assertThat(r.err()).contains("task research-1 succeeded").contains("task summary succeeded");

    CliRun again = cfn(submit);
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.err()).contains("resuming run fanout-1");
    assertThat(again.out()).contains("run fanout-1: SUCCEEDED").contains("0 model calls");

    CliRun status = cfn("task", "status", "fanout-1", "--journal", journal, "--json");
    assertThat(status.code()).as(status.err()).isZero();
    JsonNode s = new ObjectMapper().readTree(status.out());
    assertThat(s.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(s.path("tasks")).hasSize(5);
    assertThat(s.path("state").path("summary").asText()).startsWith("A durable message queue");
    assertThat(s.path("modelCalls").asLong()).isEqualTo(5);
  }

  @Test
  void theSupervisorExampleFinishesFromItsCassetteAfterAnInvalidPlanIsFedBack() throws Exception {
    CliRun r =
        cfn(
            "swarm",
            "run",
            ExampleCassettesRecorder.OBJECTIVE,
            "--agents",
            EXAMPLES.resolve("supervisor/agents").toString(),
            "--replay",
            EXAMPLES.resolve("supervisor/cassette.json").toString(),
            "--max-turns",
            "6",
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode o = new ObjectMapper().readTree(r.out());
    assertThat(o.path("status").asText()).isEqualTo("FINISHED");
    assertThat(o.path("answer").asText()).contains("write-ahead log");
    assertThat(o.path("supervisor").asText()).isEqualTo("lead");
    assertThat(o.path("members").toString()).isEqualTo("[\"researcher\",\"writer\"]");
    assertThat(o.path("topology").asText()).isEqualTo("mesh");
    assertThat(o.path("invalidPlans").asInt()).isEqualTo(1);
    assertThat(o.path("turns").asInt()).isEqualTo(4);
    assertThat(o.path("steps").get(1).path("agent").asText()).isEqualTo("researcher/1");
    assertThat(o.path("steps").get(2).path("agent").asText()).isEqualTo("writer/1");
    assertThat(o.path("modelCalls").asInt()).isEqualTo(6);
  }
}
