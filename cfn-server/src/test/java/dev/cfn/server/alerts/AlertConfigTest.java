package dev.cfn.server.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertConfigTest {
  @TempDir Path home;

  @Test
  void theDefaultsAreTheSeedsThresholds() {
    AlertConfig c = AlertConfig.defaults(Map.of("CFN_ALERT_WEBHOOK_SECRET", "k"));
    assertThat(c.rules()).hasSize(10);
    assertThat(c.rules().stream().filter(r -> r.severity().equals("critical"))).hasSize(6);
    assertThat(c.webhook().url()).isNull();
    assertThat(c.webhook().secret()).isEqualTo("k");
    assertThat(c.evaluateEvery()).isEqualTo(Duration.ofSeconds(5));
    AlertRule memory =
        c.rules().stream().filter(r -> r.name().equals("memory-over-80")).findFirst().orElseThrow();
    assertThat(memory.condition().toString()).isEqualTo("cfn_memory_used_ratio > 0.8");
    assertThat(memory.forDuration()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void exportsAPrometheusRulesFile() {
    String rules = AlertConfig.defaults(Map.of()).toPrometheus();
    assertThat(rules)
        .contains("groups:", "- alert: cpu-over-70", "expr: 'sum(cfn_cpu_usage_ratio) > 0.7'")
        .contains("expr: 'sum(increase(cfn_reliable_dead_letters_total[5m])) > 0'")
        .contains(
            "expr: 'sum(rate(cfn_messages_delivered_total[1m])) < 1000 and on()"
                + " sum(cfn_mailbox_depth) > 1000'")
        .contains("sum(cfn_message_latency_seconds{quantile=\"0.95\"}) > 0.01")
        .contains(
            "for: 5m", "severity: critical", "summary: 'heap use is over 80 % of its maximum'");
  }

  @Test
  void readsTheFileAndWritesTheDefaultsOnlyWhenAbsent() throws Exception {
    assertThat(AlertConfig.load(home, Map.of()).rules()).hasSize(10);
    assertThat(AlertConfig.writeDefaultsIfAbsent(home)).isTrue();
    assertThat(AlertConfig.writeDefaultsIfAbsent(home)).isFalse();
    Files.writeString(
        home.resolve(AlertConfig.FILE),
        """
        webhook: {url: "${HOOK}", secret: x}
        rules:
          - {name: r1, metric: cfn_up, op: "<", threshold: 1, for: 30s}
        """);
    AlertConfig c = AlertConfig.load(home, Map.of("HOOK", "https://example.test/h"));
    assertThat(c.rules())
        .singleElement()
        .satisfies(r -> assertThat(r.severity()).isEqualTo("warning"));
    assertThat(c.webhook().url()).hasToString("https://example.test/h");
  }

  @Test
  void badRulesAreRefusedWithTheRuleKeyAndFix() {
    assertThatThrownBy(() -> parse("rules:\n  - {name: a, metric: x, op: '=', threshold: 1}"))
        .hasMessageContaining("rule a: op must be >, >=, < or <=");
    assertThatThrownBy(() -> parse("rules:\n  - {name: a, metric: x, op: '>', threshold: hi}"))
        .hasMessageContaining("threshold must be a number");
    assertThatThrownBy(
            () -> parse("rules:\n  - {name: a, metric: x, op: '>', threshold: 1, for: 5}"))
        .hasMessageContaining("for '5' is not a duration (fix: such as 0s, 30s, 5m, 1h)");
    assertThatThrownBy(
            () -> parse("rules:\n  - {name: a, metric: x, op: '>', threshold: 1, fr: 5m}"))
        .hasMessageContaining("unknown key 'fr'");
    assertThatThrownBy(
            () ->
                parse(
                    "rules:\n  - {name: a, metric: x, op: '>', threshold: 1}\n"
                        + "  - {name: a, metric: y, op: '>', threshold: 1}"))
        .hasMessageContaining("rule a: the name is used twice");
    assertThatThrownBy(() -> parse("webhook: {url: 'ftp://x'}"))
        .hasMessageContaining("must be http:// or https://");
    assertThatThrownBy(() -> parse("rules: [")).hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> parse("rules:\n  - {name: a, metric: 'x y', op: '>', threshold: 1}"))
        .hasMessageContaining("is not a metric name");
  }

  static AlertConfig parse(String yaml) {
    return AlertConfig.parse(yaml, "alerts.yaml", Map.of());
  }
}
