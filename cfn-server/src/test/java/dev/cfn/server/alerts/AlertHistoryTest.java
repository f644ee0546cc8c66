package dev.cfn.server.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The alert history stays bounded: by count once it grows a quarter past keep, and by age. */
class AlertHistoryTest {
  @TempDir Path home;

  private static AlertHistory.Entry entry(Instant at, int n) {
    return new AlertHistory.Entry(at, "rule-" + n, "warning", "firing", n, "entry " + n);
  }

  @Test
  void aHistoryGrownAQuarterPastKeepIsPrunedToTheNewestEntries() throws Exception {
    AlertHistory h =
        AlertHistory.of(home).retaining(new AlertConfig.HistorySettings(10, Duration.ofDays(90)));
    Instant t0 = Instant.parse("2026-12-06T10:00:00Z");
    for (int i = 1; i <= 12; i++) {
      assertThat(h.append(entry(t0.plusSeconds(i), i))).isTrue();
    }
    assertThat(h.read(0)).hasSize(12); // within the quarter's allowance
    assertThat(h.append(entry(t0.plusSeconds(13), 13))).isTrue();
    assertThat(h.read(0))
        .hasSize(10)
        .extracting(AlertHistory.Entry::rule)
        .first()
        .isEqualTo("rule-4");
    assertThat(Files.readAllLines(h.file())).hasSize(10).last().asString().contains("rule-13");
  }

  @Test
  void entriesOlderThanMaxAgeArePrunedAtTheEnginesStartAndACutLineIsDropped() throws Exception {
    Instant now = Instant.parse("2026-12-06T10:00:00Z");
    AlertHistory plain = AlertHistory.of(home);
    plain.append(entry(now.minus(Duration.ofDays(40)), 1));
    plain.append(entry(now.minus(Duration.ofDays(2)), 2));
    Files.writeString(h(plain), "{\"at\":\"2026-12-0", java.nio.file.StandardOpenOption.APPEND);
    AlertHistory kept = plain.retaining(new AlertConfig.HistorySettings(100, Duration.ofDays(30)));
    assertThat(kept.prune(now)).isTrue();
    assertThat(kept.read(0)).extracting(AlertHistory.Entry::rule).containsExactly("rule-2");
    assertThat(Files.readString(h(plain))).doesNotContain("rule-1").endsWith("\n");
  }

  private static Path h(AlertHistory history) {
    return history.file();
  }

  @Test
  void theRetentionIsReadFromTheRulesFileAndBadValuesNameTheFix() {
    AlertConfig c =
        AlertConfig.parse("history:\n  keep: 500\n  max-age: 7d\nrules: []\n", "t", Map.of());
    assertThat(c.history()).isEqualTo(new AlertConfig.HistorySettings(500, Duration.ofDays(7)));
    assertThat(AlertConfig.parse("rules: []\n", "t", Map.of()).history())
        .isEqualTo(AlertConfig.HistorySettings.DEFAULTS);
    assertThatThrownBy(() -> AlertConfig.parse("history:\n  keep: 3\n", "t", Map.of()))
        .hasMessageContaining("history.keep must be 10 to 1000000")
        .hasMessageContaining("fix:");
    assertThatThrownBy(() -> AlertConfig.parse("history:\n  max-age: 0s\n", "t", Map.of()))
        .hasMessageContaining("history.max-age must be above 0");
    assertThatThrownBy(() -> AlertConfig.parse("history:\n  size: 3\n", "t", Map.of()))
        .hasMessageContaining("size");
    assertThat(AlertConfig.defaults(Map.of()).history())
        .isEqualTo(AlertConfig.HistorySettings.DEFAULTS);
  }
}
