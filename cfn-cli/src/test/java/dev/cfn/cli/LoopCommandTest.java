package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code cfn loop} end to end: the example of {@code examples/cfn-loop} from its cassette, offline
 * (run, show, status, replay without any model, a fork), and an escalated run against a provider
 * (the test model server as the example's local provider) that waits for {@code cfn loop decide}.
 */
class LoopCommandTest {
  static final Path EXAMPLE =
      Path.of(System.getProperty("user.dir")).resolveSibling("examples/cfn-loop");

  @TempDir Path tmp;
  private Map<String, String> savedEnvironment;

  @BeforeEach
  void isolate() {
    savedEnvironment = RunCommand.environment;
    RunCommand.environment = Map.of("CFN_CONFIG_DIR", tmp.resolve("config").toString());
  }

  @AfterEach
  void restore() {
    RunCommand.environment = savedEnvironment;
  }

  record Result(int code, String out, String err) {}

  private Result cfn(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private String[] withFiles(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--journal",
            tmp.resolve("cfn.db").toString(),
            "--calls",
            tmp.resolve("calls.db").toString()));
    return all.toArray(String[]::new);
  }

  private String[] withJournal(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--journal", tmp.resolve("cfn.db").toString()));
    return all.toArray(String[]::new);
  }

  private String[] exampleRun(String... more) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "loop",
                "run",
                "--agents",
                EXAMPLE.resolve("agents").toString(),
                "--implementer",
                "coder",
                "--validator",
                "reviewer",
                "--validator",
                "tester",
                "--owner",
                "product-owner"));
    all.addAll(List.of(more));
    all.add(LoopExampleRecorder.TASK);
    return withFiles(all.toArray(String[]::new));
  }

  @Test
  void theExampleRunsOfflineFromItsCassetteAndReplaysWithoutAModel() {
    Result run =
        cfn(
            exampleRun(
                "--replay", EXAMPLE.resolve("cassette.json").toString(), "--id", "is-prime"));
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("run is-prime: DEFERRED")
        .contains("-> gate not met (1 of 1)")
        .contains("-> consensus 0.475 < 0.90 (2 of 2 readable, quorum 2): no consensus")
        .contains("-> consensus 0.94 ≥ 0.90")
        .contains("-> owner DEFER")
        .contains("  - add a benchmark for large primes");
    // progress on standard error (plain lines: not a terminal), from the cfn.flow.loop events
    assertThat(run.err())
        .contains("cfn loop run: run is-prime on ")
        .contains("  iteration 1 implement coder: confidence 0.6")
        .contains("  iteration 2 validate reviewer: reject, confidence 0.9")
        .contains("  iteration 3 decide product-owner: DEFER")
        .contains("  run is-prime: deferred");

    Result show = cfn(withJournal("loop", "show", "is-prime"));
    assertThat(show.code()).as(show.err()).isZero();
    assertThat(show.out()).isEqualTo(run.out());
    assertThat(cfn(withJournal("loop", "status")).out()).contains("is-prime").contains("DEFERRED");
    assertThat(cfn(withJournal("status")).out())
        .as("cfn status lists the loop runs too")
        .containsPattern("is-prime +DEFERRED");
    assertThat(cfn(withJournal("loop", "status", "is-prime", "--json")).out())
        .contains("\"status\" : \"DEFERRED\"")
        .contains("\"iterations\" : 3");

    Result replay =
        cfn(
            withFiles(
                "loop", "replay", "is-prime", "--agents", EXAMPLE.resolve("agents").toString()));
    assertThat(replay.code()).as(replay.out() + replay.err()).isZero();
    assertThat(replay.out())
        .isEqualTo(
            "replay of is-prime: the same 6 decisions and status DEFERRED, from the call log"
                + " alone (0 model requests)\n");

    Result fork =
        cfn(
            withFiles(
                "loop",
                "replay",
                "is-prime",
                "--from",
                "3",
                "--agents",
                EXAMPLE.resolve("agents").toString(),
                "--replay",
                EXAMPLE.resolve("cassette.json").toString(),
                "--json"));
    assertThat(fork.code()).as(fork.err()).isZero();
    assertThat(fork.out())
        .contains("\"runId\" : \"is-prime-fork-3\"")
        .contains("\"forkedFrom\" : \"is-prime\"")
        .contains("\"status\" : \"DEFERRED\"");
    assertThat(cfn(withJournal("loop", "show", "is-prime-fork-3")).out())
        .contains("forked from run is-prime at iteration 3")
        .contains("= ");
  }

  @Test
  void anEscalatedRunWaitsForCfnLoopDecide() throws Exception {
    try (ModelServer server = ModelServer.start()) {
      server
          .script()
          .on(Match.systemContains("careful Java developer"))
          .reply(Reply.text("{\"result\": \"boolean isPrime(int n)\", \"confidence\": 0.9}"))
          .on(Match.systemContains("You are the product owner"))
          .reply(
              Reply.text(
                  "{\"decision\": \"ESCALATE\", \"reason\": \"licence question\","
                      + " \"followUps\": []}"))
          .on(Match.any())
          .reply(Reply.text("{\"verdict\": \"approve\", \"confidence\": 0.95}"));
      Files.createDirectories(tmp.resolve("config"));
      Files.writeString(
          tmp.resolve("config/trust.yaml"), "allow-env:\n  - LOCAL_BASE_URL\n  - LOCAL_MODEL\n");
      RunCommand.environment =
          Map.of(
              "CFN_CONFIG_DIR", tmp.resolve("config").toString(),
              "LOCAL_BASE_URL", server.openAiBaseUrl(),
              "CFN_TRUST_HOSTS", server.baseUrl().getAuthority());
      Result run = cfn(exampleRun("--project", EXAMPLE.toString(), "--id", "esc"));
      assertThat(run.code()).as(run.err()).isZero();
      assertThat(run.out())
          .contains("run esc: WAITING (the product owner escalated: licence question)")
          .contains("cfn loop decide esc --proceed|--defer|--abort");
      long asked = server.received();
      assertThat(asked).isEqualTo(4);

      Result decided = cfn(withFiles("loop", "decide", "esc", "--abort", "--note", "no licence"));
      assertThat(decided.code()).as("an aborted run exits 1").isEqualTo(ExitCode.FAILED);
      assertThat(decided.out())
          .contains("run esc: ABORTED (a person aborted the run: no licence)")
          .contains("HUMAN     person: ABORT: no licence");
      AuditEvent audited = AuditLog.tail(tmp, 1).getFirst().event();
      assertThat(audited.action()).isEqualTo("POST /v1/loops/{run}/decision");
      assertThat(audited.target()).isEqualTo("loop:esc");
      assertThat(audited.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
      assertThat(audited.detail()).containsEntry("decision", "ABORT");
      Result again = cfn(withFiles("loop", "decide", "esc", "--proceed"));
      assertThat(again.code()).isEqualTo(ExitCode.USAGE);
      assertThat(again.err()).contains("run esc is ABORTED, not waiting for a decision");
      assertThat(server.received()).as("a decision asks no model").isEqualTo(asked);
    }
  }

  @Test
  void theExampleAgentsAreValid() {
    LoadResult r = DefinitionLoader.load(List.of(EXAMPLE.resolve("agents")));
    assertThat(r.invalidFiles()).isEmpty();
    assertThat(r.definitions())
        .extracting(d -> d.name())
        .containsExactlyInAnyOrder("coder", "reviewer", "tester", "product-owner");
  }
}
