package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A whole certification at test sizes: all ten checks run and reported, each available, the level
 * and score by the seed's rules, and the three report files with the fields the issue lists, each
 * probe and scenario listed; what a check's nodes log goes to its node log, not the terminal.
 */
@Timeout(600)
class CertificationTest {
  @TempDir Path dir;

  @Test
  void aWholeRunReportsEveryCheckWithItsFiguresAndFiles() throws Exception {
    List<String> steps = new ArrayList<>();
    CertificationReport r =
        Certification.builder()
            .profile(TestProfiles.tiny())
            .progress((check, step) -> steps.add(check.key() + ": " + step))
            .environment(Environment.current("test", null))
            .build()
            .run();
    assertThat(r.checks()).extracting(CheckResult::id).containsExactly(CheckId.values());
    for (CheckId id : CheckId.values()) {
      CheckResult c = r.result(id);
      assertThat(c.method()).as(id.key()).isNotBlank();
      assertThat(c.available()).as(id.key() + ": " + c.verdict()).isTrue();
    }
    assertThat(r.level()).isEqualTo(Level.of(r.checks()));
    assertThat(r.score()).isEqualTo(Level.score(r.checks()));
    assertThat(steps).anyMatch(s -> s.startsWith("reliability: kill 1/1"));

    ReportFiles.write(r, dir);
    JsonNode json = new ObjectMapper().readTree(dir.resolve(ReportFiles.JSON).toFile());
    assertThat(json.get("level").asText()).isEqualTo(r.level().name());
    assertThat(json.get("score").asDouble()).isEqualTo(r.score());
    assertThat(json.get("checks")).hasSize(10);
    JsonNode latency = json.get("checks").get(0);
    for (String field :
        List.of("name", "critical", "target", "measured", "unit", "passed", "available")) {
      assertThat(latency.has(field)).as(field).isTrue();
    }
    assertThat(latency.get("figures").get("p95Ms").asDouble()).isPositive();
    assertThat(json.get("checks").get(4).get("figures").get("probes").asInt()).isPositive();
    assertThat(json.get("checks").get(6).get("figures").get("probes")).hasSizeGreaterThan(100);
    JsonNode env = json.get("environment");
    for (String field : List.of("cpuModel", "cores", "memoryBytes", "os", "jdk", "gitCommit")) {
      assertThat(env.has(field)).as(field).isTrue();
    }
    String md = Files.readString(dir.resolve(ReportFiles.MARKDOWN), StandardCharsets.UTF_8);
    assertThat(md)
        .contains("# Production Certification Summary")
        .contains("## Level: " + r.level())
        .contains("| Seed's claim |")
        .contains("0.002 ms")
        .contains("1.59M msg/s")
        .contains("Power loss")
        .contains("a TLS 1.2 client is refused")
        .contains("API, half-open");
    String html = Files.readString(dir.resolve(ReportFiles.HTML), StandardCharsets.UTF_8);
    assertThat(html)
        .contains("<svg")
        .doesNotContain("<script")
        .contains("Recovery times")
        .contains("Uptime timeline (");
  }

  /** What a test check does. */
  interface Body {
    CheckResult run(Check.Context ctx) throws Exception;
  }

  /** A check of {@code id} that does {@code body}. */
  static Check check(CheckId id, Body body) {
    return new Check() {
      @Override
      public CheckId id() {
        return id;
      }

      @Override
      public String method(Context ctx) {
        return "a test's check";
      }

      @Override
      public CheckResult run(Context ctx) throws Exception {
        return body.run(ctx);
      }
    };
  }

  @Test
  void aCheckThatBreaksFailsWithTheReasonAndTheOthersAreNotRun() throws Exception {
    Check exploding =
        check(
            CheckId.LATENCY,
            ctx -> {
              throw new IllegalStateException("the bus is on fire");
            });
    CertificationReport r =
        Certification.builder()
            .profile(TestProfiles.tiny())
            .only(EnumSet.of(CheckId.LATENCY))
            .check(exploding)
            .build()
            .run();
    assertThat(r.result(CheckId.LATENCY).passed()).isFalse();
    assertThat(r.result(CheckId.LATENCY).verdict()).contains("the bus is on fire");
    assertThat(r.result(CheckId.THROUGHPUT).verdict()).contains("not run");
    assertThat(r.selectedPassed()).isFalse();
    assertThat(r.level()).isEqualTo(Level.FAILED);
  }

  @Test
  void whatANodeLogsWhileACheckRunsGoesToTheChecksNodeLogNotTheTerminal() throws Exception {
    Check noisy =
        check(
            CheckId.INTEGRITY,
            ctx -> {
              LoggerFactory.getLogger("alerts")
                  .warn("alert test-alert (critical) test notification");
              System.err.println("probe line on standard error");
              return new IntegrityCheck(IntegrityCheck.cfnStores()).run(ctx);
            });
    PrintStream terminal = System.err;
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(seen, true, StandardCharsets.UTF_8);
    List<String> steps = new ArrayList<>();
    System.setErr(capture);
    CertificationReport r;
    try {
      r =
          Certification.builder()
              .profile(TestProfiles.tiny())
              .only(EnumSet.of(CheckId.INTEGRITY))
              .check(noisy)
              .workDir(dir)
              .progress((check, step) -> steps.add(step))
              .build()
              .run();
      assertThat(System.err).as("standard error is given back").isSameAs(capture);
    } finally {
      System.setErr(terminal);
    }
    assertThat(r.result(CheckId.INTEGRITY).passed())
        .as(r.result(CheckId.INTEGRITY).verdict())
        .isTrue();
    assertThat(steps).anyMatch(s -> s.startsWith("PASS"));
    assertThat(seen.toString(StandardCharsets.UTF_8))
        .doesNotContain("test-alert")
        .doesNotContain("probe line");
    assertThat(Files.readString(dir.resolve("integrity").resolve(NodeLog.FILE)))
        .contains("WARN alerts - alert test-alert (critical) test notification")
        .contains("probe line on standard error");
  }
}
