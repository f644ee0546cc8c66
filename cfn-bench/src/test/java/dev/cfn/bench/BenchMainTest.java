package dev.cfn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The benchmark jar's own command line, as reached with {@code java -jar cfn-bench.jar}. */
class BenchMainTest {

  record Run(int code, String err) {}

  static Run run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cl = BenchMain.commandLine();
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), err.toString());
  }

  @Test
  void badArgumentsAreOneLineAndRunNothing(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "x");
    for (String[] bad :
        List.of(
            new String[] {"bus", "--only", "nosuch"},
            new String[] {"bus", "--only", ""},
            new String[] {"bus", "--rate", "0"},
            new String[] {"bus", "--agents", "-5"},
            new String[] {"bus", "--json", dir.toString()},
            new String[] {"bus", "--bogus"},
            new String[] {"reliable", "--senders", "0"},
            new String[] {"reliable", "--rates", "-1"},
            new String[] {"reliable", "--dir", file.toString()},
            new String[] {"reliable", "--json", dir.toString()})) {
      Run r = run(bad);
      String what = String.join(" ", bad);
      assertThat(r.code()).as(what).isEqualTo(2);
      assertThat(r.err().lines().toList()).as(what).hasSize(1);
      assertThat(r.err()).as(what).startsWith("cfn bench ").doesNotContain("\tat ");
    }
  }

  @Test
  void aReliableRunRemovesItsTemporaryJournals() throws Exception {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = run("reliable", "--quick", "--senders", "1", "--rates", "0").code();
    } finally {
      System.setOut(saved);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text).isZero();
    Matcher m = Pattern.compile("group commit, in (\\S+)").matcher(text);
    assertThat(m.find()).as(text).isTrue();
    assertThat(Path.of(m.group(1))).doesNotExist();
  }

  @Test
  void anEncryptedReliableRunPutsTheEncryptedRowBesideThePlainOne() throws Exception {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = run("reliable", "--quick", "--senders", "1", "--rates", "0", "--encrypted").code();
    } finally {
      System.setOut(saved);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text).isZero();
    assertThat(text)
        .contains("durable send throughput, 1 sender(s), plain ... ")
        .containsPattern("1 sender\\(s\\), encrypted \\.\\.\\. [0-9,]+ msg/s .*throughput [+-]");
  }

  @Test
  void targetsLineUpAndShowWholeMessages() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BusBench.printTargets(
        new PrintStream(out, true, StandardCharsets.UTF_8),
        List.of(
            new Results.Target("1->1 throughput", ">= 20M msg/s", 4_613_931.0, "msg/s", false),
            new Results.Target("1000000 agents replies counted", "= 1000000", 1e6, "replies", true),
            new Results.Target("one-way p95, default", "<= 20 us", 12.345, "us", true)));
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines.get(1)).contains("4,613,931 msg/s").doesNotContain(".00");
    assertThat(lines.get(2)).contains("1,000,000 replies");
    assertThat(lines.get(3)).contains("12.35 us");
    // the figures end in the same column
    int end = lines.get(1).indexOf("4,613,931") + "4,613,931".length();
    assertThat(lines.get(2).indexOf("1,000,000") + "1,000,000".length()).isEqualTo(end);
    assertThat(lines.get(3).indexOf("12.35") + "12.35".length()).isEqualTo(end);
  }
}
