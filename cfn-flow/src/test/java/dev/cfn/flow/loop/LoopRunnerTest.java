package dev.cfn.flow.loop;

import static dev.cfn.flow.loop.LoopFixture.WAIT;
import static dev.cfn.flow.loop.LoopFixture.decision;
import static dev.cfn.flow.loop.LoopFixture.implemented;
import static dev.cfn.flow.loop.LoopFixture.system;
import static dev.cfn.flow.loop.LoopFixture.verdict;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.flow.loop.LoopStep.Phase;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CFN Loop end to end on a RELIABLE runtime with real LLM agents talking to the test model
 * server: the gate and the consensus at their thresholds, unreadable answers, the bounds, an
 * escalation that waits across a restart, replay and fork.
 */
class LoopRunnerTest {
  @TempDir Path dir;
  private ModelServer server;

  @BeforeEach
  void start() {
    server = ModelServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private LoopRecord run(LoopSpec spec, String task) throws Exception {
    try (LoopFixture p = LoopFixture.open(dir, server)) {
      return p.runner.start("loop-1", spec, task).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private List<RecordedRequest> requestsOf(String agent) {
    return server.requests().stream()
        .filter(r -> r.system() != null && r.system().contains("You are the " + agent + "."))
        .toList();
  }

  private void approveAndProceed() {
    server.script().on(system("reviewer")).reply(verdict(true, "0.95"));
    server.script().on(system("tester")).reply(verdict(true, "0.95"));
    server.script().on(system("owner")).reply(decision("PROCEED", "ship it"));
  }

  @ParameterizedTest
  @CsvSource({"0.7499, FAILED", "0.75, ACCEPTED", "0.7500001, ACCEPTED"})
  void theGateIsMetAtExactlyItsValue(String confidence, LoopStatus expected) throws Exception {
    server.script().on(system("coder")).reply(implemented("int add(int a, int b)", confidence));
    approveAndProceed();
    LoopRecord r = run(LoopFixture.spec().maxImplementations(1).build(), "Write add");
    assertThat(r.status()).isEqualTo(expected);
    if (expected == LoopStatus.FAILED) {
      assertThat(r.decisions()).containsExactly("iteration 1: gate not met (1 of 1)");
      assertThat(r.reason()).contains("confidence 0.7499 is below the gate 0.75");
      assertThat(requestsOf("reviewer")).as("no review of work below the gate").isEmpty();
    } else {
      assertThat(r.decisions()).first().isEqualTo("iteration 1: gate met");
      assertThat(r.steps().getFirst().confidence()).isEqualByComparingTo(confidence);
    }
  }

  @ParameterizedTest
  @CsvSource({"0.8999, FAILED", "0.90, ACCEPTED"})
  void theConsensusIsReachedAtExactlyItsThreshold(String confidence, LoopStatus expected)
      throws Exception {
    server.script().on(system("coder")).reply(implemented("add", "0.9"));
    server.script().on(system("reviewer")).reply(verdict(true, confidence));
    server.script().on(system("tester")).reply(verdict(true, confidence));
    server.script().on(system("owner")).reply(decision("PROCEED", "fine"));
    LoopRecord r = run(LoopFixture.spec().maxValidations(1).build(), "Write add");
    assertThat(r.status()).isEqualTo(expected);
    assertThat(r.decisions().get(1))
        .isEqualTo(
            "iteration 1: consensus "
                + (expected == LoopStatus.FAILED
                    ? "0.8999 < 0.90 (2 of 2 readable, quorum 2): no consensus"
                    : "0.9 ≥ 0.90 (2 of 2 readable, quorum 2): consensus"));
  }

  @Test
  void aMissingOrGarbledConfidenceFailsTheIterationAndTellsTheAgentWhy() throws Exception {
    server
        .script()
        .on(system("coder"))
        .reply(
            Reply.text("{\"result\": \"add\"}"),
            Reply.text("Here it is: {\"result\": \"add\", \"confidence\": 0.9}"),
            Reply.text("{\"result\": \"add\", \"confidence\": \"high\"}"),
            implemented("add", "0.9"));
    approveAndProceed();
    LoopRecord r = run(LoopFixture.spec().build(), "Write add");

    assertThat(r.status()).isEqualTo(LoopStatus.ACCEPTED);
    List<LoopStep> work = r.steps().stream().filter(s -> s.phase() == Phase.IMPLEMENT).toList();
    assertThat(work).extracting(LoopStep::ok).containsExactly(false, false, false, true);
    assertThat(work.get(0).note()).contains("no \"confidence\"");
    assertThat(work.get(1).note()).contains("not one JSON object");
    assertThat(work.get(2).note()).contains("\"confidence\" is \"high\", not a number");
    assertThat(r.decisions().subList(0, 3)).allMatch(d -> d.endsWith("gate not met (1 of 1)"));
    List<RecordedRequest> asked = requestsOf("coder");
    assertThat(asked).hasSize(4);
    assertThat(lastUser(asked.get(1)))
        .contains("Feedback on the previous iteration")
        .contains("no usable answer")
        .contains("no \"confidence\"");
    assertThat(lastUser(asked.get(3))).contains("\"confidence\" is \"high\"");
  }

  @Test
  void loop3StopsAtItsBound() throws Exception {
    server.script().on(system("coder")).reply(implemented("add", "0.5"));
    approveAndProceed();
    LoopRecord r = run(LoopFixture.spec().maxImplementations(3).build(), "Write add");
    assertThat(r.status()).isEqualTo(LoopStatus.FAILED);
    assertThat(r.iterations()).isEqualTo(3);
    assertThat(requestsOf("coder")).hasSize(3);
    assertThat(r.reason()).contains("not met in 3 Loop 3 iterations");
  }

  @Test
  void loop2StopsAtItsBoundAndItsFindingsGoBackToLoop3() throws Exception {
    server.script().on(system("coder")).reply(implemented("add", "0.9"));
    server.script().on(system("reviewer")).reply(verdict(false, "0.9", "handle overflow"));
    server.script().on(system("tester")).reply(verdict(true, "0.95"));
    server.script().on(system("owner")).reply(decision("PROCEED", "-"));
    LoopRecord r = run(LoopFixture.spec().maxValidations(2).build(), "Write add");
    assertThat(r.status()).isEqualTo(LoopStatus.FAILED);
    assertThat(r.reason()).startsWith("no consensus in 2 Loop 2 rounds");
    assertThat(requestsOf("reviewer")).hasSize(2);
    assertThat(requestsOf("owner")).isEmpty();
    assertThat(lastUser(requestsOf("coder").get(1)))
        .contains("validator 1 (reviewer): reject with confidence 0.9")
        .contains("- handle overflow")
        .contains("Your previous result:\nadd");
  }

  @Test
  void deferRecordsTheFollowUps() throws Exception {
    server.script().on(system("coder")).reply(implemented("add", "0.9"));
    server.script().on(system("reviewer")).reply(verdict(true, "0.95"));
    server.script().on(system("tester")).reply(verdict(true, "0.95"));
    server
        .script()
        .on(system("owner"))
        .reply(
            Reply.text(
                "{\"decision\": \"DEFER\", \"reason\": \"good enough\", \"followUps\":"
                    + " [\"add tests for overflow\"]}"));
    LoopRecord r = run(LoopFixture.spec().build(), "Write add");
    assertThat(r.status()).isEqualTo(LoopStatus.DEFERRED);
    assertThat(r.followUps()).containsExactly("add tests for overflow");
    assertThat(LoopTimeline.render(r))
        .contains("DECIDE    owner: DEFER: good enough")
        .contains("-> owner DEFER")
        .contains("  - add tests for overflow");
  }

  @Test
  void anEscalatedRunWaitsAcrossARestartUntilAPersonDecides() throws Exception {
    server.script().on(system("coder")).reply(implemented("add", "0.9"));
    server.script().on(system("reviewer")).reply(verdict(true, "0.95"));
    server.script().on(system("tester")).reply(verdict(true, "0.95"));
    server.script().on(system("owner")).reply(decision("ESCALATE", "needs a lawyer"));
    try (LoopFixture p = LoopFixture.open(dir, server)) {
      LoopRecord waiting =
          p.runner
              .start("loop-1", LoopFixture.spec().build(), "Write add")
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(waiting.status()).isEqualTo(LoopStatus.WAITING);
      assertThat(waiting.reason()).isEqualTo("the product owner escalated: needs a lawyer");
    }
    long asked = server.received();
    try (LoopFixture p = LoopFixture.open(dir, server)) {
      assertThat(p.runner.record("loop-1"))
          .get()
          .extracting(LoopRecord::status)
          .isEqualTo(LoopStatus.WAITING);
      assertThat(p.runner.resume("loop-1").get(WAIT.toSeconds(), TimeUnit.SECONDS).status())
          .isEqualTo(LoopStatus.WAITING);
      LoopRecord done =
          p.runner
              .decide("loop-1", LoopRunner.HumanDecision.PROCEED, "approved by legal")
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(done.status()).isEqualTo(LoopStatus.ACCEPTED);
      assertThat(done.decisions())
          .endsWith("iteration 1: owner ESCALATE", "iteration 1: person PROCEED");
      assertThat(done.steps().getLast().note()).isEqualTo("approved by legal");
      assertThat(p.runner.record("loop-1")).get().isEqualTo(done);
    }
    assertThat(server.received())
        .as("the restart and the decision asked no model")
        .isEqualTo(asked);
  }

  @Test
  void aReplayReachesTheSameDecisionsWithoutAnyModelCall() throws Exception {
    server.script().on(system("coder")).reply(implemented("add", "0.5"), implemented("add", "0.9"));
    server
        .script()
        .on(system("reviewer"))
        .reply(verdict(false, "0.9", "overflow"), verdict(true, "0.97"));
    server.script().on(system("tester")).reply(verdict(true, "0.95"));
    server.script().on(system("owner")).reply(decision("ESCALATE", "unsure"));
    LoopRecord original;
    try (LoopFixture p = LoopFixture.open(dir, server)) {
      p.runner.start("loop-1", LoopFixture.spec().build(), "Write add").get(60, TimeUnit.SECONDS);
      original =
          p.runner
              .decide("loop-1", LoopRunner.HumanDecision.DEFER, "later")
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    assertThat(original.status()).isEqualTo(LoopStatus.DEFERRED);
    assertThat(original.iterations()).isEqualTo(3);

    try (ModelServer silent = ModelServer.start();
        LoopFixture replay = LoopFixture.replayer(dir, silent)) {
      LoopRecord again = replay.runner.replay(original).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(silent.received()).as("requests that reached a model").isZero();
      assertThat(again.decisions()).isEqualTo(original.decisions());
      assertThat(again.status()).isEqualTo(original.status());
      assertThat(again.steps())
          .extracting(LoopStep::text)
          .containsExactlyElementsOf(original.steps().stream().map(LoopStep::text).toList());
    }
  }

  @Test
  void aForkReusesTheRecordedPrefixAndAsksOnlyFromItsIteration() throws Exception {
    server
        .script()
        .on(Match.lastUserMessageContains("Write add").and(system("coder")))
        .reply(implemented("add v1", "0.5"), implemented("add v2", "0.6"));
    server
        .script()
        .on(Match.lastUserMessageContains("Write a safe add").and(system("coder")))
        .reply(implemented("safe add", "0.9"));
    approveAndProceed();
    LoopRecord source;
    LoopRecord fork;
    try (LoopFixture p = LoopFixture.open(dir, server)) {
      source =
          p.runner
              .start("loop-1", LoopFixture.spec().maxImplementations(2).build(), "Write add")
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(source.status()).isEqualTo(LoopStatus.FAILED);
      long before = server.received();
      fork =
          p.runner
              .fork(source, "loop-2", 2, "Write a safe add", null)
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(server.received() - before)
          .as("iteration 2 of the coder, two validators, the owner; nothing of iteration 1")
          .isEqualTo(4);
      assertThatThrownBy(() -> p.runner.fork(source, "loop-3", 3, null, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("has iterations 1 to 2, not 3");
    }
    assertThat(fork.status()).isEqualTo(LoopStatus.ACCEPTED);
    assertThat(fork.forkedFrom()).isEqualTo("loop-1");
    assertThat(fork.steps().getFirst()).isEqualTo(source.steps().getFirst().asCopied());
    assertThat(fork.steps().get(1).result()).isEqualTo("safe add");
    assertThat(fork.decisions().getFirst()).isEqualTo(source.decisions().getFirst());
    assertThat(LoopTimeline.render(fork)).contains("forked from run loop-1 at iteration 2");
  }

  @Test
  void badInputIsRefusedBeforeAnythingRuns() throws Exception {
    try (LoopFixture p = LoopFixture.open(dir, server)) {
      assertThatThrownBy(
              () ->
                  p.runner.start(
                      "loop-1",
                      LoopSpec.of(List.of("nobody"), List.of("reviewer", "tester"), "owner"),
                      "x"))
          .hasMessageContaining("[nobody]");
      assertThatThrownBy(() -> p.runner.start("bad id", LoopFixture.spec().build(), "x"))
          .hasMessageContaining("run id 'bad id'");
      assertThatThrownBy(() -> p.runner.start("loop-1", LoopFixture.spec().build(), " "))
          .hasMessageContaining("needs a task");
      assertThat(p.runner.record("loop-1")).isEmpty();
    }
    assertThatThrownBy(() -> LoopFixture.spec().gate(new BigDecimal("1.5")).build())
        .hasMessageContaining("the gate must be in [0,1]");
    assertThatThrownBy(() -> LoopSpec.of(List.of("a"), List.of("b"), "c"))
        .hasMessageContaining("2 to 4 validators");
    assertThat(server.received()).isZero();
  }

  private static String lastUser(RecordedRequest r) {
    return r.lastUserMessage();
  }
}
