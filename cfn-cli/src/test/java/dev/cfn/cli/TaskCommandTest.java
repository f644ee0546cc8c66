package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn task submit|resume|status|cancel} and {@code cfn status} in-process, against the
 * scripted model server (the project's providers file points at it).
 */
class TaskCommandTest {
  @TempDir Path project;
  private ModelServer server;
  private Map<String, String> savedEnvironment;
  private Path graph;
  private String journal;

  @BeforeEach
  void start() throws Exception {
    server = ModelServer.start();
    savedEnvironment = RunCommand.environment;
    RunCommand.environment = Map.of();
    Files.createDirectories(project.resolve("agents"));
    Files.writeString(
        project.resolve("agents/worker.md"),
        "---\nname: worker\ndescription: Does one step\ntools: []\ncapabilities: [steps]\n---\n"
            + "You do one step.\n");
    Files.createDirectories(project.resolve(".cfn"));
    Files.writeString(
        project.resolve(".cfn/providers.yaml"),
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + server.openAiBaseUrl()
            + "\n    api-key: test-key\n    model: test-model\n");
    graph = project.resolve("two.yaml");
    Files.writeString(
        graph,
        """
        graph: two-step
        tasks:
          - id: first
            agent: worker
            input: "step one"
          - id: second
            capability: steps
            after: [first]
            input: "step two after {{result.first}}"
        """);
    journal = project.resolve("state/cfn.db").toString();
  }

  @AfterEach
  void stop() {
    RunCommand.environment = savedEnvironment;
    server.close();
  }

  private CliRun cfn(String... args) {
    return CliRun.run(args);
  }

  private String[] submit(String run, String... more) {
    String[] base = {
      "task",
      "submit",
      graph.toString(),
      "--agents",
      project.resolve("agents").toString(),
      "--project",
      project.toString(),
      "--journal",
      journal,
      "--run",
      run
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  private long requestsFor(String text) {
    return server.requests().stream().filter(r -> r.lastUserMessage().contains(text)).count();
  }

  private JsonNode status(String run) throws Exception {
    CliRun r = cfn("task", "status", run, "--journal", journal, "--json");
    assertThat(r.code()).as(r.err()).isZero();
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void aBadGraphIsRefusedBeforeAnythingRunsAndNothingIsWritten() throws Exception {
    Files.writeString(
        graph,
        "graph: g\ntasks:\n  - {id: a, agent: worker, after: [b]}\n"
            + "  - {id: b, capability: poetry, after: [a]}\n");
    CliRun r = cfn(submit("r1"));
    assertThat(r.code()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err()).contains("has a cycle").contains("(fix: remove one of these");
    Files.writeString(graph, "graph: g\ntasks:\n  - {id: b, capability: poetry}\n");
    r = cfn(submit("r1"));
    assertThat(r.code()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err())
        .contains("task 'b' needs capability 'poetry', which no agent definition offers")
        .contains("use one of steps");
    assertThat(server.requests()).isEmpty();
    assertThat(project.resolve("state")).doesNotExist();
  }

  @Test
  void aGraphNamingASwarmRunsItsTasksThroughItsMembersUnderItsOneBudget() throws Exception {
    Files.writeString(
        project.resolve("agents/helper.md"),
        "---\nname: helper\ndescription: Also steps\ntools: []\ncapabilities: [steps]\n---\n"
            + "You help.\n");
    Files.writeString(
        graph,
        """
        graph: crew-steps
        swarm: {name: crew, strategy: round-robin, topology: mesh}
        tasks:
          - id: first
            capability: steps
            input: "step one"
          - id: second
            capability: steps
            after: [first]
            input: "step two after {{result.first}}"
        """);
    server.script().on(Match.any()).reply(Reply.text("done"));
    CliRun r = cfn(submit("s1", "--max-calls", "1", "--json"));
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCode.FAILED);
    JsonNode out = new ObjectMapper().readTree(r.out());
    assertThat(out.path("swarm").path("members").toString()).isEqualTo("[\"helper\",\"worker\"]");
    assertThat(out.path("swarm").path("strategy").asText()).isEqualTo("round-robin");
    assertThat(out.path("status").asText()).isEqualTo("FAILED");
    assertThat(out.path("agents").path("first").asText()).isIn("helper/1", "worker/1");
    assertThat(out.path("swarm").path("modelCalls").asLong()).isEqualTo(1);
    assertThat(server.requests()).as("the second task was refused before its call").hasSize(1);
    JsonNode second = status("s1").path("tasks").get(1);
    assertThat(second.path("status").asText()).isEqualTo("FAILED");
    assertThat(second.path("error").asText())
        .as("recorded in the journal")
        .startsWith("BUDGET_EXHAUSTED: ")
        .contains("calls limit reached (1 of 1");

    // another run naming the swarm: its ledger counts the first run's call against the limit
    r = cfn(submit("s2", "--max-calls", "2"));
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCode.FAILED);
    assertThat(r.err())
        .contains("through swarm crew (helper, worker; strategy round-robin, topology mesh)")
        .contains("its budget at 1 model call");
    assertThat(server.requests()).hasSize(2);
    assertThat(r.out())
        .contains("BUDGET_EXHAUSTED")
        .contains("1 model calls")
        .contains("swarm crew: 2 model calls");
  }

  @Test
  void anInterruptedSwarmRunResumesWithTheSwarmsSpendRestoredAndNotChargedTwice() throws Exception {
    Files.writeString(
        graph,
        """
        graph: crew-steps
        swarm: crew
        tasks:
          - {id: first, capability: steps, input: "step one"}
          - {id: second, capability: steps, after: [first], input: "step two"}
        """);
    server.script().on(Match.lastUserMessageContains("step one")).reply(Reply.text("one"));
    // the first process stops at its --timeout while the second task's call waits (as above)
    server
        .script()
        .on(Match.lastUserMessageContains("step two"))
        .reply(Reply.text("two").after(Duration.ofSeconds(10)), Reply.text("two"));
    CliRun first = cfn(submit("w1", "--timeout", "500ms", "--max-calls", "2"));
    assertThat(first.code()).as(first.out() + first.err()).isEqualTo(ExitCode.FAILED);
    assertThat(first.out()).contains("still running after --timeout");

    long asked = server.requests().size();
    // the limits were kept with the run: another value is refused before anything runs
    CliRun other =
        cfn(
            "task",
            "resume",
            "w1",
            "--journal",
            journal,
            "--project",
            project.toString(),
            "--max-calls",
            "5");
    assertThat(other.code()).as(other.out() + other.err()).isEqualTo(ExitCode.USAGE);
    assertThat(other.err())
        .contains("run w1 keeps the limits it was submitted with (--max-calls 2)")
        .contains("this command gave --max-calls 5")
        .contains("drop the flag");
    assertThat(server.requests()).as("nothing ran").hasSize((int) asked);

    // without the flag: the kept budget of 2 calls, the first task's (restored from the ledger)
    // and the second's
    CliRun resumed =
        cfn(
            "task",
            "resume",
            "w1",
            "--journal",
            journal,
            "--project",
            project.toString(),
            "--json");
    assertThat(resumed.code()).as(resumed.out() + resumed.err()).isZero();
    JsonNode out = new ObjectMapper().readTree(resumed.out());
    assertThat(out.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(out.path("limits").path("maxCalls").asLong()).isEqualTo(2);
    assertThat(out.path("limits").path("budgetUsd").isNull()).isTrue();
    // the second task's call is made in this process, or was answered while the first one
    // closed and is replayed from the call log here: either way the swarm counts it once
    assertThat(out.path("swarm").path("modelCalls").asLong()).as("in all").isEqualTo(2);
    assertThat(requestsFor("step one")).as("the finished task is not asked again").isEqualTo(1);
    assertThat(status("w1").path("modelCalls").asLong()).as("both processes'").isEqualTo(2);
  }

  @Test
  void statusReadsARunningRunAndCancelIsHonouredByTheRunningProcess() throws Exception {
    server.script().on(Match.lastUserMessageContains("step one")).reply(Reply.text("one"));
    server
        .script()
        .on(Match.lastUserMessageContains("step two"))
        .reply(Reply.text("two").after(Duration.ofSeconds(3)));
    CompletableFuture<CliRun> running = CompletableFuture.supplyAsync(() -> cfn(submit("r2")));
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (requestsFor("step two") == 0) {
      assertThat(running).as("the submit still runs").isNotDone();
      assertThat(System.nanoTime()).as("the second task started").isLessThan(end);
      Thread.sleep(20);
    }
    JsonNode s = status("r2");
    assertThat(s.path("status").asText()).isEqualTo("RUNNING");
    assertThat(s.path("journalInUse").asBoolean()).isTrue();
    assertThat(s.path("tasks").get(0).path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(s.path("tasks").get(0).path("result").asText()).isEqualTo("one");
    assertThat(s.path("tasks").get(1).path("status").asText()).isEqualTo("RUNNING");

    CliRun cancel = cfn("task", "cancel", "r2", "--journal", journal);
    assertThat(cancel.code()).as(cancel.err()).isZero();
    assertThat(cancel.out()).contains("the process running it honours it within a second");

    CliRun done = running.get(60, TimeUnit.SECONDS);
    assertThat(done.code()).isEqualTo(ExitCode.FAILED);
    assertThat(done.out()).contains("run r2: CANCELLED (the run was cancelled)");
    assertThat(done.err()).contains("cancel requested for the run");
    assertThat(status("r2").path("tasks").get(1).path("status").asText()).isEqualTo("CANCELLED");

    CliRun late = cfn("task", "cancel", "r2/second", "--journal", journal);
    assertThat(late.code()).isEqualTo(ExitCode.FAILED);
    assertThat(late.err()).contains("has already ended CANCELLED; nothing to cancel");
  }

  @Test
  void anInterruptedRunResumesWithoutRepeatingFinishedWorkAndStatusShowsIt() throws Exception {
    server.script().on(Match.lastUserMessageContains("step one")).reply(Reply.text("one"));
    // the first answer for "step two" comes long after the first process stopped at its 500 ms
    // --timeout and interrupted the call (with 3 s, a CI run once stopped late enough on a loaded
    // machine for the answer to arrive first, and the run finished in the first process)
    server
        .script()
        .on(Match.lastUserMessageContains("step two"))
        .reply(Reply.text("two").after(Duration.ofSeconds(10)), Reply.text("two"));
    CliRun first = cfn(submit("r3", "--timeout", "500ms"));
    assertThat(first.code()).as(first.out() + first.err()).isEqualTo(ExitCode.FAILED);
    assertThat(first.out())
        .contains("still running after --timeout")
        .contains("cfn task resume r3");
    assertThat(status("r3").path("status").asText()).isEqualTo("RUNNING");
    CliRun human = cfn("task", "status", "r3", "--journal", journal);
    assertThat(human.out()).contains("no process has the journal open: cfn task resume r3");

    CliRun resumed =
        cfn("task", "resume", "r3", "--journal", journal, "--project", project.toString());
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.out()).contains("run r3: SUCCEEDED").contains("result of second:\ntwo");
    assertThat(requestsFor("step one")).as("the finished task is not asked again").isEqualTo(1);

    CliRun all = cfn("status", "--journal", journal, "--json");
    assertThat(all.code()).as(all.err()).isZero();
    JsonNode st = new ObjectMapper().readTree(all.out());
    assertThat(st.path("journal").path("exists").asBoolean()).isTrue();
    assertThat(st.path("journal").path("inUse").asBoolean()).isFalse();
    assertThat(st.path("runs")).hasSize(1);
    assertThat(st.path("runs").get(0).path("run").asText()).isEqualTo("r3");
    assertThat(st.path("runs").get(0).path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(st.path("spent").path("modelCalls").asLong()).isEqualTo(server.requests().size());
    CliRun human2 = cfn("status", "--journal", journal);
    assertThat(human2.out()).containsPattern("r3 +two-step +SUCCEEDED +2/2 done");
  }

  @Test
  void aCancelRecordedWhileNoProcessRunsIsHonouredWhenTheRunResumes() throws Exception {
    // the first process stops while "first" is under way; "second" takes longer than the resumed
    // process needs to honour the cancel, so the cancel always finds it pending or running
    server
        .script()
        .on(Match.lastUserMessageContains("step one"))
        .reply(Reply.text("one").after(Duration.ofSeconds(2)), Reply.text("one"));
    server
        .script()
        .on(Match.lastUserMessageContains("step two"))
        .reply(Reply.text("two").after(Duration.ofSeconds(3)));
    CliRun first = cfn(submit("r4", "--timeout", "500ms"));
    assertThat(first.code()).as(first.out() + first.err()).isEqualTo(ExitCode.FAILED);

    CliRun cancel = cfn("task", "cancel", "r4/second", "--journal", journal);
    assertThat(cancel.code()).as(cancel.err()).isZero();
    assertThat(cancel.out())
        .contains("cancel of task second of run r4 recorded")
        .contains("no process runs it now: it is honoured when cfn task resume r4 starts");
    CliRun unknown = cfn("task", "cancel", "r4/third", "--journal", journal);
    assertThat(unknown.code()).isEqualTo(ExitCode.USAGE);
    assertThat(unknown.err()).contains("run r4 has no task 'third'").contains("first, second");

    CliRun resumed =
        cfn("task", "resume", "r4", "--journal", journal, "--project", project.toString());
    assertThat(resumed.code()).isEqualTo(ExitCode.FAILED);
    assertThat(resumed.err()).contains("cancel requested for task second");
    assertThat(resumed.out()).contains("run r4: CANCELLED");
    JsonNode s = status("r4");
    assertThat(s.path("tasks").get(0).path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(s.path("tasks").get(1).path("status").asText()).isEqualTo("CANCELLED");
    assertThat(s.path("tasks").get(1).path("error").asText()).isEqualTo("cancelled by a caller");
  }

  @Test
  void statusOfAProjectWhereNothingRanSaysSo() {
    CliRun r = cfn("status", "--journal", project.resolve("none/cfn.db").toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("nothing has run here yet");
    CliRun missing = cfn("task", "status", "nope", "--journal", journal);
    assertThat(missing.code()).isEqualTo(ExitCode.FAILED);
    assertThat(missing.err()).contains("no run 'nope'").contains("cfn status lists the runs");
  }
}
