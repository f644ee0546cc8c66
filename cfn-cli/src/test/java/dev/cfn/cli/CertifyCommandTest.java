package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.certify.CertificationReport;
import dev.cfn.certify.CheckId;
import dev.cfn.certify.ReportFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code cfn certify} end to end, on its quickest check: files, JSON, exit status, targets, and the
 * latest report saved under the home ({@code cfn.home}, a temporary folder here).
 */
@Timeout(300)
class CertifyCommandTest {
  @TempDir Path tmp;

  /** Runs {@code cfn args} with {@code cfn.home} set to {@code home}, as {@code ./cfn} sets it. */
  static CliRun inHome(Path home, String... args) {
    String before = System.getProperty("cfn.home");
    System.setProperty("cfn.home", home.toString());
    try {
      return CliRun.run(args);
    } finally {
      if (before == null) {
        System.clearProperty("cfn.home");
      } else {
        System.setProperty("cfn.home", before);
      }
    }
  }

  @Test
  void oneCheckWritesTheThreeReportsAndExitsByThatCheck() throws Exception {
    Path out = tmp.resolve("report");
    Path home = Files.createDirectories(tmp.resolve("home"));
    CliRun r =
        inHome(home, "certify", "--check", "integrity", "--out", out.toString(), "--no-save");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("integrity").contains("PASS").contains("NOT AVAILABLE");
    assertThat(r.out()).contains("Level FAILED");
    assertThat(r.err()).contains(" s [ 9 integrity] PASS");
    assertThat(out.resolve("certification.json")).isRegularFile();
    assertThat(out.resolve("certification.md")).isRegularFile();
    assertThat(out.resolve("certification.html")).isRegularFile();
    assertThat(home.resolve(".cfn")).as("--no-save saves nothing").doesNotExist();
    // the run ends with what it did not test: the checks not run, then what no check tests
    String notTested = r.out().substring(r.out().lastIndexOf("Not tested by this run:"));
    assertThat(notTested)
        .contains(
            "checks not selected (--check), so not run: latency, throughput, coordination,"
                + " reliability, uptime, recovery, security, monitoring, resilience.");
    for (String item : CertificationReport.NOT_TESTED) {
      assertThat(notTested).contains("  - " + item);
    }
    assertThat(notTested.lines().count())
        .as("the heading, the checks not run, one line per item, nothing after")
        .isEqualTo(2 + CertificationReport.NOT_TESTED.size());
    assertThat(Files.readString(out.resolve("certification.json")))
        .as("the same list the report carries")
        .contains(CertificationReport.NOT_TESTED.getFirst().substring(0, 30));
  }

  /** With --json on stdout, what was not tested still reaches the terminal, on stderr. */
  @Test
  void withJsonOnStdoutTheNotTestedListGoesToStderr() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    CliRun r = inHome(home, "certify", "--check", "integrity", "--json", "--no-save");
    assertThat(r.code()).as(r.err()).isZero();
    new ObjectMapper().readTree(r.out()); // stdout is the JSON alone
    assertThat(r.out()).doesNotContain("Not tested by this run:");
    assertThat(r.err()).contains("Not tested by this run:");
    for (String item : CertificationReport.NOT_TESTED) {
      assertThat(r.err()).contains("  - " + item);
    }
  }

  @Test
  void jsonGoesToStdoutAndAStricterTargetFails() throws Exception {
    Path targets = tmp.resolve("targets");
    Files.writeString(
        targets, "# impossible on purpose\nintegrity = 100\ncoordination = 1000000\n");
    Path home = tmp.resolve("home");
    Path latest = home.resolve(".cfn/certify/certification.json");
    Files.createDirectories(latest.getParent());
    Files.writeString(latest, "{\"level\": \"an older report\"}");
    CliRun r =
        inHome(
            home, "certify", "--check", "coordination", "--targets", targets.toString(), "--json");
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCode.FAILED);
    // every run replaces the home's latest report with exactly what --json printed
    assertThat(Files.readString(latest)).isEqualTo(r.out());
    assertThat(r.err()).contains("saved the report as " + latest.toAbsolutePath());
    try (var files = Files.list(latest.getParent())) {
      assertThat(files).as("no temp file left").containsExactly(latest);
    }
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.get("level").asText()).isEqualTo("FAILED");
    JsonNode coordination = json.get("checks").get(2);
    assertThat(coordination.get("name").asText()).isEqualTo("coordination");
    assertThat(coordination.get("target").asDouble()).isEqualTo(1_000_000);
    assertThat(coordination.get("passed").asBoolean()).isFalse();
    // the sizes step up 100, 1,000, 10,000 and stop at the first that fails; the figure is the
    // largest that passed (on a loaded machine 10,000 may miss the quick profile's deadline)
    JsonNode rounds = coordination.get("figures").get("rounds");
    List<Integer> tried = new ArrayList<>();
    List<Boolean> passed = new ArrayList<>();
    for (JsonNode round : rounds) {
      tried.add(round.get("agents").asInt());
      passed.add(round.get("passed").asBoolean());
    }
    assertThat(tried).isNotEmpty();
    assertThat(List.of(100, 1_000, 10_000)).startsWith(tried.toArray(Integer[]::new));
    assertThat(passed.subList(0, passed.size() - 1))
        .as("it stops at the first failure")
        .allMatch(p -> p);
    if (passed.getLast()) {
      assertThat(tried).containsExactly(100, 1_000, 10_000);
    }
    int largest =
        passed.getLast() ? tried.getLast() : tried.size() > 1 ? tried.get(tried.size() - 2) : 0;
    assertThat(largest).as("100 agents complete a round even on a loaded machine").isPositive();
    assertThat(coordination.get("measured").asDouble()).isEqualTo(largest);
  }

  @Test
  void jsonFileHoldsEveryCheckAndTheMachineBesideTheTable() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path file = tmp.resolve("reports/new/cert.json"); // its folders are created
    CliRun r = inHome(home, "certify", "--check", "integrity", "--json", file.toString());
    assertThat(r.code()).as(r.err()).isZero();
    // the table still goes to stdout, and the line that names the file
    assertThat(r.out())
        .contains("seed claimed")
        .contains("Level FAILED")
        .contains("wrote " + file.toAbsolutePath());
    assertThat(file).isRegularFile();
    String text = Files.readString(file);
    assertThat(Files.readString(ReportFiles.latest(home)))
        .as("the file is the report saved as the home's latest")
        .isEqualTo(text);
    JsonNode json = new ObjectMapper().readTree(text);
    assertThat(json.get("level").asText()).isEqualTo("FAILED");
    assertThat(json.get("score").isNumber()).isTrue();
    JsonNode checks = json.get("checks");
    List<String> names = new ArrayList<>();
    for (JsonNode c : checks) {
      names.add(c.get("name").asText());
      for (String field :
          List.of("critical", "target", "measured", "unit", "passed", "available", "verdict")) {
        assertThat(c.has(field)).as("%s has %s", c.get("name"), field).isTrue();
      }
      assertThat(c.get("target").isNumber()).as("%s's target", c.get("name")).isTrue();
      assertThat(c.get("verdict").asText()).as("%s's verdict", c.get("name")).isNotBlank();
    }
    assertThat(names)
        .as("every check, the ones not selected as not run")
        .containsExactly(Arrays.stream(CheckId.values()).map(CheckId::key).toArray(String[]::new));
    JsonNode integrity = checks.get(CheckId.INTEGRITY.number() - 1);
    assertThat(integrity.get("name").asText()).isEqualTo("integrity");
    assertThat(integrity.get("available").asBoolean()).isTrue();
    assertThat(integrity.get("passed").asBoolean()).isTrue();
    assertThat(integrity.get("measured").asDouble()).isEqualTo(100.0);
    assertThat(integrity.get("figures").size()).as("its raw figures").isPositive();
    JsonNode notRun = checks.get(CheckId.LATENCY.number() - 1);
    assertThat(notRun.get("available").asBoolean()).isFalse();
    assertThat(notRun.get("measured").isNull()).isTrue();
    assertThat(notRun.get("verdict").asText()).contains("not run");
    JsonNode env = json.get("environment");
    assertThat(env.get("jdk").asText()).contains(System.getProperty("java.version"));
    assertThat(env.get("cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(env.get("cpuModel").asText()).isNotBlank();
    assertThat(env.get("os").asText()).isNotBlank();
    assertThat(env.get("memoryBytes").asLong()).isPositive();
  }

  /**
   * A --json path that cannot be written is refused before any check runs: exit 2, one line on
   * stderr, no progress, no file, and no report saved.
   */
  @ParameterizedTest
  @ValueSource(strings = {"DIR", "UNDER_A_FILE", "EMPTY"})
  void aBadJsonPathIsRefusedBeforeAnythingRuns(String kind) throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path aFile = Files.writeString(tmp.resolve("a-file"), "text");
    String path =
        switch (kind) {
          case "DIR" -> Files.createDirectories(tmp.resolve("a-folder")).toString();
          case "UNDER_A_FILE" -> aFile.resolve("out.json").toString();
          default -> "";
        };
    CliRun r = inHome(home, "certify", "--check", "integrity", "--json", path);
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err().lines()).singleElement().asString().startsWith("cfn certify: ");
    assertThat(r.err()).contains("--json").doesNotContain("profile ").doesNotContain("[ 9");
    assertThat(r.out()).isEmpty();
    assertThat(home.resolve(".cfn")).as("nothing saved").doesNotExist();
    assertThat(Files.readString(aFile)).isEqualTo("text");
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("nothing written beside")
          .containsExactlyInAnyOrder(
              kind.equals("DIR")
                  ? new String[] {"home", "a-file", "a-folder"}
                  : new String[] {"home", "a-file"});
    }
  }
}
