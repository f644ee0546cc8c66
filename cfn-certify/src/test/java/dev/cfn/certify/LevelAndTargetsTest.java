package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's level rules, the score formula, and the targets file. */
class LevelAndTargetsTest {
  @TempDir Path dir;

  /** Ten results: the checks numbered in {@code failing} fail, the others pass. */
  static List<CheckResult> results(int... failing) {
    List<CheckResult> out = new ArrayList<>();
    for (CheckId id : CheckId.values()) {
      boolean fails = false;
      for (int f : failing) {
        fails |= f == id.number();
      }
      out.add(new CheckResult(id, true, !fails, 1, 1, "m", "v", Map.of()));
    }
    return out;
  }

  @Test
  void levelsFollowTheSeedsRules() {
    assertThat(Level.of(results())).isEqualTo(Level.FULL);
    assertThat(Level.of(results(8))).as("one non-critical failure: 90 %").isEqualTo(Level.FULL);
    assertThat(Level.of(results(1))).as("a critical failure").isEqualTo(Level.PARTIAL);
    assertThat(Level.of(results(8, 10))).as("80 % of all").isEqualTo(Level.PARTIAL);
    assertThat(Level.of(results(1, 8, 10)))
        .as("70 % of all, 7 of 8 critical")
        .isEqualTo(Level.PARTIAL);
    assertThat(Level.of(results(1, 2))).as("6 of 8 critical is 75 %").isEqualTo(Level.FAILED);
    assertThat(Level.of(results(5, 7, 8, 10)))
        .as("today: uptime, security, monitoring, resilience not available")
        .isEqualTo(Level.FAILED);
    assertThat(Level.FULL.exitCode()).isZero();
    assertThat(Level.PARTIAL.exitCode()).isEqualTo(1);
    assertThat(Level.FAILED.exitCode()).isEqualTo(2);
  }

  @Test
  void scoreCountsOnlyPassedChecksWeightedByCriticality() {
    assertThat(Level.score(results())).isEqualTo(100.0);
    assertThat(Level.score(results(1))).isEqualTo(88.9); // 16 of 18
    assertThat(Level.score(results(8))).isEqualTo(94.4); // 17 of 18
    assertThat(Level.score(results(5, 7, 8, 10))).isEqualTo(66.7); // 12 of 18
  }

  @Test
  void aCheckNotAvailableCannotPass() {
    CheckResult na = CheckResult.notAvailable(CheckId.UPTIME, 99.9, "why");
    assertThat(na.passed()).isFalse();
    assertThat(na.status()).isEqualTo("NOT AVAILABLE");
    assertThatThrownBy(() -> new CheckResult(CheckId.UPTIME, false, true, 1, 1, "m", "v", Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void targetsFileOverridesSomeTargets() throws Exception {
    Path f = dir.resolve("targets");
    Files.writeString(f, "# stricter\nlatency = 1\n\nreliability=100\n");
    Targets t = Targets.load(f);
    assertThat(t.of(CheckId.LATENCY)).isEqualTo(1.0);
    assertThat(t.of(CheckId.RELIABILITY)).isEqualTo(100.0);
    assertThat(t.of(CheckId.THROUGHPUT)).isEqualTo(100_000.0);
    assertThat(CheckId.LATENCY.meets(0.5, 1)).isTrue();
    assertThat(CheckId.LATENCY.meets(1.5, 1)).isFalse();
    assertThat(CheckId.THROUGHPUT.meets(Double.NaN, 1)).isFalse();
  }

  @Test
  void badTargetsFilesAreRefusedNamingTheLine() throws Exception {
    Path f = dir.resolve("targets");
    Files.writeString(f, "latency = 1\nspeed = 3\n");
    assertThatThrownBy(() -> Targets.load(f))
        .hasMessageContaining(f + ":2:")
        .hasMessageContaining("unknown check 'speed'");
    Files.writeString(f, "latency = fast\n");
    assertThatThrownBy(() -> Targets.load(f)).hasMessageContaining("is not a number");
    Files.writeString(f, "reliability = 101\n");
    assertThatThrownBy(() -> Targets.load(f)).hasMessageContaining("out of range");
    Files.writeString(f, "latency 1\n");
    assertThatThrownBy(() -> Targets.load(f)).hasMessageContaining("expected name = value");
  }

  @Test
  void profilesAreNamed() {
    assertThat(Profile.named("quick").latencySamples()).isEqualTo(10_000);
    assertThat(Profile.named("full").reliabilityMessages()).isEqualTo(100_000);
    assertThat(Profile.named("full").recoveryKills()).isEqualTo(10);
    assertThatThrownBy(() -> Profile.named("fast")).hasMessageContaining("unknown profile 'fast'");
  }
}
