package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash test of the reliable path, as CI runs it: 25 SIGKILLs of a real worker JVM at random
 * moments, then the journal must show every acknowledged send with exactly one effect.
 */
class ChaosCrashTest {

  @Test
  void twentyFiveKillsLoseAndDuplicateNothing(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("chaos.json");
    int code =
        Main.commandLine()
            .execute(
                "chaos",
                "crash",
                "--kills",
                "25",
                "--chains",
                "4",
                "--dir",
                dir.resolve("work").toString(),
                "--json",
                json.toString());
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    assertThat(r.get("kills").asInt()).isEqualTo(25);
    assertThat(r.get("messages").asLong()).isPositive();
    assertThat(r.get("lost").asLong()).isZero();
    assertThat(r.get("duplicated").asLong()).isZero();
    assertThat(r.get("pendingAtEnd").asLong()).isZero();
    assertThat(r.at("/recoveryMs/count").asInt()).isEqualTo(25);
    assertThat(code).isZero();
  }

  @Test
  void badArgumentsAreRefusedWithoutStartingAnything() {
    assertThat(Main.commandLine().execute("chaos", "crash", "--kills", "-1")).isEqualTo(2);
    assertThat(Main.commandLine().execute("chaos", "crash", "--min-ms", "10", "--max-ms", "5"))
        .isEqualTo(2);
  }
}
