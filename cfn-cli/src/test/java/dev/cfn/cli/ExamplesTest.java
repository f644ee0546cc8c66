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

  @Test
  void theSwarmReviewExampleSpreadsItsReviewsOverTheSwarmUnderTheRunsKeptLimits() throws Exception {
    String journal = tmp.resolve("cfn.db").toString();
    String[] submit = {
      "task",
      "submit",
      EXAMPLES.resolve("swarm-review/graph.yaml").toString(),
      "--agents",
      EXAMPLES.resolve("swarm-review/agents").toString(),
      "--replay",
      EXAMPLES.resolve("swarm-review/cassette.json").toString(),
      "--journal",
      journal,
      "--run",
      "review-1",
      "--max-calls",
      "8"
    };
    String[] json = java.util.Arrays.copyOf(submit, submit.length + 1);
    json[submit.length] = "--json";
    CliRun r = cfn(json);
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode o = new ObjectMapper().readTree(r.out());
    assertThat(o.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(o.path("state").path("final").asText())
        .contains("def median(values):")
        .contains("/ 2");
    JsonNode agents = o.path("agents");
    assertThat(agents.path("write").asText()).isEqualTo("coder/1");
    assertThat(agents.path("revise").asText()).isEqualTo("coder/1");
    assertThat(
            java.util.Set.of(
                agents.path("review-correctness").asText(), agents.path("review-clarity").asText()))
        .as("least-loaded: the two reviews, released together, go to the two reviewers")
        .containsExactlyInAnyOrder("reviewer-1/1", "reviewer-2/1");
    assertThat(o.path("swarm").path("name").asText()).isEqualTo("review-crew");
    assertThat(o.path("swarm").path("members").toString())
        .isEqualTo("[\"coder\",\"reviewer-1\",\"reviewer-2\"]");
    assertThat(o.path("swarm").path("modelCalls").asLong()).isEqualTo(4);
    assertThat(o.path("limits").path("maxCalls").asLong()).isEqualTo(8);

    // resumed without the flag: finished, nothing asked again, under the limits kept with the run
    CliRun again =
        cfn(
            "task",
            "resume",
            "review-1",
            "--journal",
            journal,
            "--replay",
            EXAMPLES.resolve("swarm-review/cassette.json").toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.err()).contains("resuming run review-1 under its limits (--max-calls 8)");
    assertThat(again.out())
        .contains("run review-1: SUCCEEDED")
        .contains("0 model calls")
        .contains("swarm review-crew: 4 model calls");
  }
}
