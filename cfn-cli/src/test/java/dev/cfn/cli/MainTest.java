package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

  @Test
  void versionNamesCfnAndTheJvm() {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    int code = cl.execute("--version");
    assertThat(code).isZero();
    assertThat(out.toString()).contains("cfn ").contains("JVM " + Runtime.version().feature());
  }

  @Test
  void helpListsTheBenchCommand() {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    assertThat(cl.execute("--help")).isZero();
    assertThat(out.toString()).contains("bench");
  }

  @Test
  void benchParsesTheScenarioOptionsItPassesOn() {
    CommandLine cl = Main.commandLine();
    CommandLine.ParseResult parsed =
        cl.parseArgs("bench", "bus", "--quick", "--json", "x.json", "--only", "1to1,pairs");
    BenchCommand.Bus bus =
        (BenchCommand.Bus) parsed.subcommand().subcommand().commandSpec().userObject();
    assertThat(bus.quick).isTrue();
    assertThat(bus.json).isEqualTo(Path.of("x.json"));
    assertThat(bus.only).containsExactly("1to1", "pairs");
  }

  @Test
  void jmhArgumentsGoToJmhUntouched() {
    CommandLine cl = Main.commandLine();
    CommandLine.ParseResult parsed =
        cl.parseArgs("bench", "jmh", "-v", "EXTRA", "-f", "1", "Mailbox");
    BenchCommand.Jmh jmh =
        (BenchCommand.Jmh) parsed.subcommand().subcommand().commandSpec().userObject();
    assertThat(jmh.args).containsExactly("-v", "EXTRA", "-f", "1", "Mailbox");
  }

  @Test
  void benchWithoutItsJarSaysHowToBuildIt(@TempDir Path empty) throws Exception {
    String previous = System.getProperty("cfn.home");
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setProperty("cfn.home", empty.toString());
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int code = Main.commandLine().execute("bench", "bus", "--quick");
      assertThat(code).isEqualTo(2);
      assertThat(captured.toString(StandardCharsets.UTF_8))
          .contains("cfn-bench.jar")
          .contains("is missing")
          .contains("./mvnw");
    } finally {
      System.setErr(err);
      if (previous == null) {
        System.clearProperty("cfn.home");
      } else {
        System.setProperty("cfn.home", previous);
      }
    }
  }
}
