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
 * kills.
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
    assertThat(code).as(out + "\n" + err).isZero();
    assertThat(out.toString()).contains("PASS: every run completed");
  }
}
