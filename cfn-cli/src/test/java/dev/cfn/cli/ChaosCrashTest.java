package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

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
    assertThat(r.get("deadLettered").asLong()).as("messages the retry policy gave up on").isZero();
    assertThat(r.get("duplicated").asLong()).isZero();
    assertThat(r.get("pendingAtEnd").asLong()).isZero();
    assertThat(r.at("/recoveryMs/count").asInt()).isEqualTo(25);
    assertThat(code).isZero();
  }

  @Test
  void aDamagedJournalIsReportedWithTheWorkersOwnCause(@TempDir Path dir) throws Exception {
    Path work = Files.createDirectories(dir.resolve("work"));
    Files.writeString(work.resolve("chaos.db"), "this is not a journal, it is damaged text\n");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));

    int code =
        cl.execute("chaos", "crash", "--kills", "1", "--chains", "1", "--dir", work.toString());

    assertThat(code).isEqualTo(ExitCode.FAILED);
    List<String> lines =
        err.toString().lines().filter(l -> !l.contains("no ahead-of-time class cache")).toList();
    assertThat(lines).hasSize(1); // (tests run from class folders, which the AOT cache refuses)
    assertThat(lines.get(0))
        .startsWith("cfn chaos crash: the worker stopped: ")
        .contains("not a cfn journal")
        .contains("worker-0.log")
        .doesNotContain("did not print");
    assertThat(Files.readString(work.resolve("worker-0.log"))).doesNotContain("[error][cds]");
  }

  @Test
  void withoutDirTheTemporaryWorkFolderIsRemovedAfterAPass() {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));

    int code = cl.execute("chaos", "crash", "--kills", "1", "--chains", "1");

    assertThat(code).as(out.toString()).isZero();
    Matcher m = Pattern.compile("work folder (\\S+),").matcher(out.toString());
    assertThat(m.find()).as(out.toString()).isTrue();
    assertThat(Path.of(m.group(1))).doesNotExist();
  }

  @Test
  void badArgumentsAreRefusedWithoutStartingAnything() {
    assertThat(Main.commandLine().execute("chaos", "crash", "--kills", "-1")).isEqualTo(2);
    assertThat(Main.commandLine().execute("chaos", "crash", "--min-ms", "10", "--max-ms", "5"))
        .isEqualTo(2);
  }
}
