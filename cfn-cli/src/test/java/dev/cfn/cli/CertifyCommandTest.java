package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn certify} end to end, on its quickest check: files, JSON, exit status, targets. */
@Timeout(300)
class CertifyCommandTest {
  @TempDir Path tmp;

  @Test
  void oneCheckWritesTheThreeReportsAndExitsByThatCheck() throws Exception {
    Path out = tmp.resolve("report");
    BadInputTest.Result r =
        BadInputTest.run("certify", "--check", "integrity", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("integrity").contains("PASS").contains("NOT AVAILABLE");
    assertThat(r.out()).contains("Level FAILED");
    assertThat(r.err()).contains(" s [ 9 integrity] PASS");
    assertThat(out.resolve("certification.json")).isRegularFile();
    assertThat(out.resolve("certification.md")).isRegularFile();
    assertThat(out.resolve("certification.html")).isRegularFile();
  }

  @Test
  void jsonGoesToStdoutAndAStricterTargetFails() throws Exception {
    Path targets = tmp.resolve("targets");
    Files.writeString(
        targets, "# impossible on purpose\nintegrity = 100\ncoordination = 1000000\n");
    BadInputTest.Result r =
        BadInputTest.run(
            "certify", "--check", "coordination", "--targets", targets.toString(), "--json");
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCode.FAILED);
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.get("level").asText()).isEqualTo("FAILED");
    JsonNode coordination = json.get("checks").get(2);
    assertThat(coordination.get("name").asText()).isEqualTo("coordination");
    assertThat(coordination.get("target").asDouble()).isEqualTo(1_000_000);
    assertThat(coordination.get("passed").asBoolean()).isFalse();
    assertThat(coordination.get("measured").asDouble()).isEqualTo(10_000);
  }
}
