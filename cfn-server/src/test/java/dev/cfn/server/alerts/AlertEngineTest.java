package dev.cfn.server.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.MovingClock;
import dev.cfn.server.metrics.Samples;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertEngineTest {
  @TempDir Path home;

  @Test
  void rateRulesNeedTwoSamplesAndPendingThatClearsIsNotFired() {
    AlertConfig c =
        AlertConfig.parse(
            """
            rules:
              - {name: errors, metric: cfn_errors_total, labels: {kind: handler}, function: rate,
                 window: 1m, op: ">", threshold: 1, for: 20s}
            """,
            "t",
            Map.of());
    MovingClock clock = new MovingClock();
    AtomicReference<String> text = new AtomicReference<>("cfn_errors_total{kind=\"handler\"} 0\n");
    AlertHistory history = AlertHistory.of(home);
    try (AlertEngine e =
        AlertEngine.manual(
            c,
            () -> Samples.parse(text.get()),
            history,
            new Webhook(c.webhook(), Duration.ZERO, clock),
            clock,
            "test")) {
      e.evaluate();
      assertThat(e.statuses().getFirst().state()).isEqualTo(AlertEngine.State.INACTIVE);
      assertThat(e.statuses().getFirst().value()).isNaN(); // one sample: no rate yet
      step(clock, text, 100, e); // 100 errors in 10 s: 10/s
      assertThat(e.statuses().getFirst().state()).isEqualTo(AlertEngine.State.PENDING);
      assertThat(e.statuses().getFirst().value()).isEqualTo(10.0); // 100 over 10 s
      step(clock, text, 100, e); // no new errors: 100 over the 20 s of samples kept
      assertThat(e.statuses().getFirst().value()).isEqualTo(100 / 20.0);
      // The rate holds above 1 only 20 s after the start of pending: it fires then.
      step(clock, text, 300, e);
      assertThat(e.statuses().getFirst().state()).isEqualTo(AlertEngine.State.FIRING);
      // Flat for a minute: the window slides past the errors and it resolves.
      for (int i = 0; i < 8; i++) {
        step(clock, text, 300, e);
      }
      assertThat(e.statuses().getFirst().state()).isEqualTo(AlertEngine.State.INACTIVE);
    }
  }

  @Test
  void aPendingAlertWhoseConditionClearsGoesBackWithoutFiring() throws Exception {
    AlertConfig c =
        AlertConfig.parse(
            "rules:\n  - {name: hot, metric: cfn_cpu_usage_ratio, op: '>', threshold: 0.7, for: 1m}",
            "t",
            Map.of());
    MovingClock clock = new MovingClock();
    AtomicReference<String> text = new AtomicReference<>("cfn_cpu_usage_ratio 0.9\n");
    AlertHistory history = AlertHistory.of(home);
    try (AlertEngine e =
        AlertEngine.manual(
            c,
            () -> Samples.parse(text.get()),
            history,
            new Webhook(c.webhook(), Duration.ZERO, clock),
            clock,
            "test")) {
      e.evaluate();
      clock.advance(Duration.ofSeconds(30));
      text.set("cfn_cpu_usage_ratio 0.2\n");
      e.evaluate();
      text.set(""); // the metric disappears: no data, not firing
      clock.advance(Duration.ofSeconds(90));
      e.evaluate();
      assertThat(e.statuses().getFirst().state()).isEqualTo(AlertEngine.State.INACTIVE);
    }
    assertThat(history.read(0))
        .extracting(AlertHistory.Entry::state)
        .containsExactly("pending", "inactive");
  }

  private static void step(
      MovingClock clock, AtomicReference<String> text, int errors, AlertEngine e) {
    clock.advance(Duration.ofSeconds(10));
    text.set("cfn_errors_total{kind=\"handler\"} " + errors + "\n");
    e.evaluate();
  }
}
