package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.alerts.AlertConfig;
import dev.cfn.server.alerts.AlertEngine;
import dev.cfn.server.alerts.AlertHistory;
import dev.cfn.server.alerts.Webhook;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A freshly started node under the shipped alert rules: its availability counts from its first
 * ready probe to its latest one, so the critical {@code availability-under-99-9} stays quiet while
 * nothing failed (it fired before: the time since the latest probe counted as down), and still
 * fires when the node's probes fail. The node, its availability gauge and the engine share a clock
 * the test moves, so minutes pass in a moment and no assertion depends on timing.
 */
class FreshNodeAvailabilityTest {
  private static final String RULE = "availability-under-99-9";

  @TempDir Path home;

  private static AlertEngine.Status status(AlertEngine engine) {
    return engine.statuses().stream().filter(s -> s.rule().name().equals(RULE)).findFirst().get();
  }

  @Test
  void aFreshNodeIsNotDownBeforeItsFirstReadyNorBetweenProbesAndRealDowntimeStillFires()
      throws Exception {
    MovingClock clock = new MovingClock();
    AlertConfig rules = AlertConfig.defaults(Map.of());
    try (TestNode node =
            TestNode.start(
                home,
                b ->
                    b.clock(clock)
                        .alerts(rules)
                        .probeEvery(
                            Duration.ofDays(1))); // the test probes; only the first is the node's
        AlertEngine engine =
            AlertEngine.manual(
                rules,
                node.server.metrics()::samples,
                AlertHistory.of(home.resolve("engine")),
                new Webhook(rules.webhook(), Duration.ZERO, clock),
                clock,
                "test")) {
      engine.evaluate();
      assertThat(status(engine).value()).as("ready at its start").isEqualTo(1.0);

      // Five minutes of a healthy node probed every 5 s, the rules evaluated 3 s after each probe
      // (the moment at which the time since the last probe used to count as down).
      for (int i = 0; i < 60; i++) {
        clock.advance(Duration.ofSeconds(3));
        engine.evaluate();
        assertThat(status(engine).state())
            .as("evaluation " + i)
            .isEqualTo(AlertEngine.State.INACTIVE);
        assertThat(status(engine).value()).as("evaluation " + i).isEqualTo(1.0);
        clock.advance(Duration.ofSeconds(2));
        node.server.availability().probe(true);
      }
      assertThat(node.server.availability().uptime(Duration.ofHours(1))).isEqualTo(1.0);
      assertThat(node.server.availability().report()).containsKey("firstReady");

      // Then it stops being ready: 20 s down in 5 min 20 s observed is under 99.9 %, and after
      // the rule's minute the alert fires.
      for (int i = 0; i < 4; i++) {
        clock.advance(Duration.ofSeconds(5));
        node.server.availability().probe(false);
      }
      for (int i = 0; i < 14; i++) {
        engine.evaluate();
        clock.advance(Duration.ofSeconds(5));
        node.server.availability().probe(false);
      }
      engine.evaluate();
      assertThat(status(engine).value()).isLessThan(0.999);
      assertThat(status(engine).state()).isEqualTo(AlertEngine.State.FIRING);
      assertThat(engine.firingCritical()).contains(RULE);
    }
  }
}
