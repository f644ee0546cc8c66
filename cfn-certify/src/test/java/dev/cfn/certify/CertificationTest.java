package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole certification at test sizes: all ten checks run and reported (monitoring NOT AVAILABLE
 * while the node has no /metrics), the level and score by the seed's rules, and the three report
 * files with the fields the issue lists, each probe and scenario listed.
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
      if (id != CheckId.MONITORING) { // NOT AVAILABLE while the node has no /metrics
        assertThat(c.available()).as(id.key() + ": " + c.verdict()).isTrue();
      }
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

  @Test
  void aCheckThatBreaksFailsWithTheReasonAndTheOthersAreNotRun() throws Exception {
    Check exploding =
        new Check() {
          @Override
          public CheckId id() {
            return CheckId.LATENCY;
          }

          @Override
          public String method(Context ctx) {
            return "explodes";
          }

          @Override
          public CheckResult run(Context ctx) {
            throw new IllegalStateException("the bus is on fire");
          }
        };
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
}
