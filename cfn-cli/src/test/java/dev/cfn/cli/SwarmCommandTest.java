package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn swarm run} in-process against the scripted model server. */
class SwarmCommandTest {
  @TempDir Path project;
  private ModelServer server;
  private Map<String, String> savedEnvironment;

  @BeforeEach
  void start() throws Exception {
    server = ModelServer.start();
    savedEnvironment = RunCommand.environment;
    RunCommand.environment = Map.of();
    Files.createDirectories(project.resolve("agents"));
    Files.writeString(
        project.resolve("agents/boss.md"),
        "---\nname: boss\ndescription: Plans\ntools: []\ntype: coordinator\n---\nYou are the boss.\n");
    for (String m : new String[] {"alpha", "beta"}) {
      Files.writeString(
          project.resolve("agents/" + m + ".md"),
          "---\nname: "
              + m
              + "\ndescription: Member "
              + m
              + "\ntools: []\n---\nYou are member "
              + m
              + ".\n");
    }
    Files.createDirectories(project.resolve(".cfn"));
    Files.writeString(
        project.resolve(".cfn/providers.yaml"),
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + server.openAiBaseUrl()
            + "\n    api-key: test-key\n    model: test-model\n");
  }

  @AfterEach
  void stop() {
    RunCommand.environment = savedEnvironment;
    server.close();
  }

  private CliRun swarm(String... more) {
    String[] base = {
      "swarm",
      "run",
      "Do the thing",
      "--agents",
      project.resolve("agents").toString(),
      "--project",
      project.toString()
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return CliRun.run(all);
  }

  @Test
  void theStrategyPicksTheAgentAndTheSummaryNamesTopologyTurnsAndCalls() {
    server
        .script()
        .on(Match.systemContains("You are the boss"))
        .reply(
            Reply.text("{\"next\": \"beta\", \"input\": \"part one\"}"),
            Reply.text("{\"next\": \"beta\", \"input\": \"part two\"}"),
            Reply.text("{\"finish\": \"all done\"}"));
    server.script().on(Match.systemContains("You are member")).reply(Reply.text("did it"));

    CliRun r = swarm("--strategy", "round-robin", "--topology", "star");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("all done");
    assertThat(r.err())
        .contains("boss supervises [alpha, beta], topology star, strategy round-robin")
        .as("round-robin gives the plan's work to the members in turn, whatever it names")
        .contains("turn 1: beta (alpha/1) <- part one")
        .contains("turn 2: beta (beta/1) <- part two")
        .contains(
            "FINISHED after 3 turns (0 invalid plans); 2 members, topology star, 0 messages"
                + " refused by the topology; 5 model calls");
    assertThat(
            server.requests().stream()
                .filter(q -> q.system().contains("member"))
                .map(RecordedRequest::lastUserMessage))
        .containsExactly("part one", "part two");
  }

  @Test
  void aPlannerThatNeverFinishesStopsAtTheTurnBoundWithExit1() {
    server
        .script()
        .on(Match.systemContains("You are the boss"))
        .reply(Reply.text("Let me think about it."));

    CliRun r = swarm("--max-turns", "2");

    assertThat(r.code()).isEqualTo(ExitCode.FAILED);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .contains("turn 1: invalid plan, fed back: the answer is not one JSON object")
        .contains("cfn swarm run: TURNS_EXHAUSTED: no final answer after 2 turns")
        .contains("TURNS_EXHAUSTED after 2 turns (2 invalid plans)");
    assertThat(server.requests()).hasSize(2);
    assertThat(server.requests().get(1).lastUserMessage())
        .contains("Your previous answer was not a valid plan");
  }

  @Test
  void aDollarBudgetOverAModelWithoutAPriceIsRefusedBeforeAnythingRuns() {
    CliRun r = swarm("--budget-usd", "0.50");

    assertThat(r.code()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err().strip())
        .startsWith("cfn swarm run: --budget-usd counts dollars by the price table, which has no")
        .contains("model 'test-model' (agents [alpha, beta, boss])")
        .contains("(fix: give its price in ")
        .contains("prices: {test-model: {input: 0, output: 0}}");
    assertThat(server.requests()).as("no model was asked").isEmpty();
  }

  @Test
  void aDollarBudgetCountsTheModelsPricedInTheProjectsPriceFile() throws Exception {
    Files.writeString(
        project.resolve(".cfn/prices.yaml"),
        "prices:\n  test-model: {input: 1000000, output: 1000000}\n");
    server
        .script()
        .on(Match.systemContains("You are the boss"))
        .reply(
            Reply.text("{\"next\": \"alpha\", \"input\": \"part one\"}"),
            Reply.text("{\"finish\": \"all done\"}"));
    server.script().on(Match.systemContains("You are member")).reply(Reply.text("did it"));

    CliRun r = swarm("--budget-usd", "100000", "--json");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("\"status\" : \"FINISHED\"");
    // a dollar per token, so the cost is the tokens the scripted server reported
    assertThat(r.out()).containsPattern("\"costUsd\" : [1-9]");
  }

  private static Match plannerAt(int turn) {
    return Match.of(
        "the boss at turn " + turn,
        r ->
            r.system() != null
                && r.system().contains("You are the boss")
                && r.lastUserMessage() != null
                && r.lastUserMessage().contains("\nTURN " + turn + " of "));
  }

  @Test
  void aDurableRunThatFailedGoesOnWithResumeWithoutAskingForWhatWasRecorded() {
    server
        .script()
        .on(plannerAt(1))
        .reply(Reply.text("{\"next\": \"alpha\", \"input\": \"part one\"}"));
    // turn 2: the provider refuses once (the run fails), then answers
    server
        .script()
        .on(plannerAt(2))
        .reply(Reply.status(400, "bad request"), Reply.text("{\"finish\": \"all done\"}"));
    server.script().on(Match.systemContains("You are member")).reply(Reply.text("did it"));
    String calls = project.resolve(".cfn/calls.db").toString();

    CliRun first = swarm("--id", "s-1", "--calls", calls);
    assertThat(first.code()).as(first.err()).isEqualTo(ExitCode.FAILED);
    assertThat(first.err())
        .contains("durable run s-1, its calls recorded in")
        .contains("cfn swarm run --resume s-1 goes on with it");
    assertThat(server.received()).isEqualTo(3); // plan 1, alpha's answer, plan 2 refused

    CliRun again =
        CliRun.run(
            "swarm", "run", "--resume", "s-1", "--calls", calls, "--project", project.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out().strip()).isEqualTo("all done");
    assertThat(again.err()).contains("resuming durable run s-1");
    assertThat(server.received())
        .as("turn 1 and alpha's answer came from the call log; only turn 2 was asked again")
        .isEqualTo(4);

    CliRun finished =
        CliRun.run(
            "swarm", "run", "--resume", "s-1", "--calls", calls, "--project", project.toString());
    assertThat(finished.code()).isEqualTo(ExitCode.USAGE);
    assertThat(finished.err()).contains("swarm run s-1 has finished");
    CliRun status = CliRun.run("status", "--journal", project.resolve(".cfn/cfn.db").toString());
    assertThat(status.out()).containsPattern("s-1 +FINISHED +2 +Do the thing");
  }

  @Test
  void aResumedDurableRunCountsWhatWasSpentBeforeItsFailure() {
    server
        .script()
        .on(plannerAt(1))
        .reply(Reply.text("{\"next\": \"alpha\", \"input\": \"part one\"}"));
    server
        .script()
        .on(plannerAt(2))
        .reply(Reply.status(400, "bad request"), Reply.text("{\"finish\": \"all done\"}"));
    server.script().on(Match.systemContains("You are member")).reply(Reply.text("did it"));
    String calls = project.resolve(".cfn/calls.db").toString();

    CliRun first = swarm("--id", "s-2", "--calls", calls, "--json");
    assertThat(first.code()).as(first.err()).isEqualTo(ExitCode.FAILED);
    assertThat(first.out()).contains("\"modelCalls\" : 2"); // plan 1 and alpha's answer

    CliRun again =
        CliRun.run(
            "swarm",
            "run",
            "--resume",
            "s-2",
            "--calls",
            calls,
            "--json",
            "--project",
            project.toString());
    assertThat(again.code()).as(again.err()).isZero();
    // the two calls before the failure (replayed now, not charged twice) and plan 2
    assertThat(again.out()).contains("\"status\" : \"FINISHED\"").contains("\"modelCalls\" : 3");
    assertThat(server.received()).isEqualTo(4);
  }

  @Test
  void aMembersOwnPreHookRunsOnlyWithTrustHooksAndThenBlocksItsTask() throws Exception {
    Path marker = project.resolve("hook-ran");
    Files.writeString(
        project.resolve("agents/alpha.md"),
        "---\nname: alpha\ndescription: Member alpha\ntools: []\nhooks:\n  pre: \"touch '"
            + marker
            + "'; echo refused by the project hook >&2; exit 1\"\n---\nYou are member alpha.\n");
    server
        .script()
        .on(Match.systemContains("You are the boss"))
        .reply(
            Reply.text("{\"next\": \"alpha\", \"input\": \"part one\"}"),
            Reply.text("{\"finish\": \"all done\"}"),
            Reply.text("{\"next\": \"alpha\", \"input\": \"part one\"}"),
            Reply.text("{\"finish\": \"all done\"}"));
    server.script().on(Match.systemContains("You are member")).reply(Reply.text("did it"));

    CliRun untrusted = swarm();
    assertThat(untrusted.code()).as(untrusted.err()).isZero();
    assertThat(marker).as("the hook never ran without --trust-hooks").doesNotExist();
    assertThat(untrusted.err()).contains("-> did it");

    CliRun trusted = swarm("--trust-hooks");
    assertThat(trusted.code()).as(trusted.err()).isZero();
    assertThat(marker).as("the hook ran").exists();
    assertThat(trusted.err()).contains("turn 1: alpha (alpha/1) <- part one  -> failed: BLOCKED");
  }

  @Test
  void theProjectsHooksFileRunsOnlyWithTrustHooksAndThenBlocksTheTask() throws Exception {
    Path marker = project.resolve("project-hook-ran");
    Files.createDirectories(project.resolve(".cfn"));
    Files.writeString(
        project.resolve(".cfn/hooks.yaml"),
        "pre-task:\n"
            + "  - shell: \"touch '"
            + marker
            + "'; echo refused by the hooks file >&2; exit 1\"\n"
            + "    name: the freeze\n");
    server
        .script()
        .on(Match.systemContains("You are the boss"))
        .reply(
            Reply.text("{\"next\": \"alpha\", \"input\": \"part one\"}"),
            Reply.text("{\"finish\": \"all done\"}"));
    server.script().on(Match.systemContains("You are member")).reply(Reply.text("did it"));

    CliRun untrusted = swarm("--max-turns", "1");
    assertThat(marker).as("the file's hook never ran without --trust-hooks").doesNotExist();
    assertThat(untrusted.err())
        .contains("cfn swarm run: warning: the 1 hook of ")
        .contains("hooks.yaml will not run: a project's commands run only with --trust-hooks");

    CliRun trusted = swarm("--trust-hooks");
    assertThat(marker).as("the hook ran: %s", trusted.err()).exists();
    assertThat(trusted.err())
        .contains("the pre-task hook the freeze blocked it")
        .contains("refused by the hooks file");
  }
}
