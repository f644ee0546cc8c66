package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code cfn chaos loop}: CFN Loops in a worker JVM that SIGKILLs itself after its third recorded
 * answer (so each kill lands in the middle of the run it started, however fast the machine), three
 * times, then a last worker finishes every run. Every run must be accepted with each step recorded
 * once, and the model server must have seen no prompt twice beyond the calls in flight at the
 * kills. The durable swarm ledger the loops' agents are charged to, restored after the last worker,
 * must count the server's requests less at most the calls in flight at the kills.
 */
class ChaosLoopTest {

  @Test
  void loopsKilledMidRunCompleteWithoutRepeatingRecordedModelCalls(@TempDir Path dir)
      throws Exception {
    Path json = dir.resolve("chaos-loop.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code =
        cl.execute(
            "chaos",
            "loop",
            "--kills",
            "3",
            "--kill-after-answers",
            "3",
            "--reply-ms",
            "5",
            "--dir",
            dir.resolve("work").toString(),
            "--json",
            json.toString());
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    assertThat(r.get("kills").asInt()).isEqualTo(3);
    assertThat(r.get("killsMidRun").asInt()).as("every kill lands mid-run").isEqualTo(3);
    assertThat(r.get("runs").asInt()).isEqualTo(4);
    assertThat(r.get("runsIncomplete").asLong()).isZero();
    assertThat(r.get("stepsMissing").asLong()).isZero();
    assertThat(r.get("stepsRecordedTwice").asLong()).isZero();
    assertThat(r.get("pendingAtEnd").asLong()).isZero();
    assertThat(r.get("repeatedModelCalls").asLong())
        .isLessThanOrEqualTo(r.get("repeatWindow").asLong());
    assertThat(r.get("modelRequests").asLong())
        .as("one request per step, plus the repeats")
        .isEqualTo(4L * LoopChaosWorker.STEPS + r.get("repeatedModelCalls").asLong());
    // The swarm ledger restored after the last worker against the server's count: lower by at
    // most one call per call in flight at the kills, never higher.
    long requests = r.get("modelRequests").asLong();
    assertThat(r.get("serverRequests").asLong()).isEqualTo(requests);
    assertThat(r.get("ledgerShortfallAllowed").asLong()).isEqualTo(r.get("repeatWindow").asLong());
    assertThat(r.get("ledgerCalls").asLong())
        .as("the restored ledger counts every call but those in flight at the kills")
        .isBetween(requests - r.get("ledgerShortfallAllowed").asLong(), requests);
    assertThat(r.get("ledgerCalls").asLong())
        .as("at least every step's call, each recorded once")
        .isGreaterThanOrEqualTo(4L * LoopChaosWorker.STEPS);
    assertThat(r.get("ledgerShortfall").asLong())
        .isEqualTo(requests - r.get("ledgerCalls").asLong());
    assertThat(r.get("ledgerInputTokens").asLong())
        .isEqualTo(r.get("ledgerCalls").asLong() * ChaosCommand.Loop.INPUT_TOKENS_PER_CALL);
    assertThat(r.get("ledgerOutputTokens").asLong())
        .isEqualTo(r.get("ledgerCalls").asLong() * ChaosCommand.Loop.OUTPUT_TOKENS_PER_CALL);
    assertThat(r.get("serverInputTokens").asLong())
        .isEqualTo(requests * ChaosCommand.Loop.INPUT_TOKENS_PER_CALL);
    assertThat(r.get("ledgerWithinBound").asBoolean()).isTrue();
    assertThat(code).as(out + "\n" + err).isZero();
    assertThat(out.toString())
        .contains("PASS: every run completed")
        .contains("swarm ledger restored");
  }

  @Test
  void ledgerCheckPassesOnlyBetweenTheServersCountAndTheWindowBelowIt() {
    int in = ChaosCommand.Loop.INPUT_TOKENS_PER_CALL;
    int outTokens = ChaosCommand.Loop.OUTPUT_TOKENS_PER_CALL;
    java.util.function.LongFunction<ChaosCommand.Loop.LedgerCheck> ledgerOf =
        calls ->
            ChaosCommand.Loop.LedgerCheck.of(
                new dev.cfn.ai.budget.Budget.Spent(
                    calls * in,
                    calls * outTokens,
                    0,
                    java.math.BigDecimal.ZERO,
                    calls,
                    java.time.Duration.ZERO),
                40,
                4);
    assertThat(ledgerOf.apply(40).ok()).as("every call counted").isTrue();
    assertThat(ledgerOf.apply(36).ok()).as("short by the whole window").isTrue();
    assertThat(ledgerOf.apply(35).ok()).as("short by more than the window").isFalse();
    assertThat(ledgerOf.apply(41).ok()).as("more calls than the server answered").isFalse();
    ChaosCommand.Loop.LedgerCheck tokensOver =
        ChaosCommand.Loop.LedgerCheck.of(
            new dev.cfn.ai.budget.Budget.Spent(
                40L * in + 1,
                40L * outTokens,
                0,
                java.math.BigDecimal.ZERO,
                40,
                java.time.Duration.ZERO),
            40,
            4);
    assertThat(tokensOver.ok()).as("more tokens than the server billed").isFalse();
  }
}
