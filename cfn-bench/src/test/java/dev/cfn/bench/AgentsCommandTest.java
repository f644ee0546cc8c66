package dev.cfn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code agents} as the benchmark jar's command line sees it. */
class AgentsCommandTest {

  record Run(int code, String err) {}

  static Run run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cl = BenchMain.commandLine();
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), err.toString());
  }

  @Test
  void badArgumentsAreOneLineAndStartNoJvm(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "x");
    for (String[] bad :
        List.of(
            new String[] {"agents", "--only", "nosuch"},
            new String[] {"agents", "--only", ""},
            new String[] {"agents", "--concurrency", "0"},
            new String[] {"agents", "--concurrency", "5000"},
            new String[] {"agents", "--concurrency", "x"},
            new String[] {"agents", "--runs", "0"},
            new String[] {"agents", "--json", dir.toString()},
            new String[] {"agents", "--json", file.resolve("out.json").toString()},
            new String[] {"agents", "--bogus"})) {
      Run r = run(bad);
      String what = String.join(" ", bad);
      assertThat(r.code()).as(what + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().lines().toList()).as(what).hasSize(1);
      assertThat(r.err()).as(what).startsWith("cfn bench ").doesNotContain("\tat ");
    }
  }

  @Test
  void aRunStartsTheSystemInItsOwnJvmAndWritesTheFigures(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("sub/agents.json");
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    Run r;
    try {
      r =
          run(
              "agents",
              "--quick",
              "--only",
              "lc4j-model,cfn-provider",
              "--concurrency",
              "2",
              "--json",
              json.toString());
    } finally {
      System.setOut(saved);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(r.code()).as(text + r.err()).isZero();
    JsonNode doc = new ObjectMapper().readTree(json.toFile());
    assertThat(doc.path("failedTasks").asLong()).isZero();
    assertThat(doc.path("medians")).hasSize(2);
    for (JsonNode cell : doc.path("medians")) {
      assertThat(cell.path("concurrency").asInt()).isEqualTo(2);
      assertThat(cell.path("tasks").asLong()).isPositive();
    }
    // in the order a run starts them, a cfn system before its peer
    assertThat(doc.path("medians").path(0).path("scenario").asText()).isEqualTo("cfn-provider");
    JsonNode ratio = doc.path("ratios").path(0);
    assertThat(ratio.path("numerator").asText()).isEqualTo("cfn-provider");
    assertThat(ratio.path("median").asDouble()).isPositive();
    JsonNode worker = doc.path("workers").path(0);
    assertThat(worker.path("machine").path("jvmArgs")).isNotEmpty();
    assertThat(worker.path("machine").path("jvmArgs").toString())
        .as("the worker ran with this JVM's flags")
        .isEqualTo(doc.path("machine").path("jvmArgs").toString());
    assertThat(worker.path("modelRequests").asLong())
        .isGreaterThanOrEqualTo(worker.path("tasks").asLong());
    assertThat(text).contains("machine: ").contains("cfn provider alone");
  }
}
