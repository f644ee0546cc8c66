package dev.cfn.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.cfn.server.MovingClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AvailabilityTest {
  @TempDir Path dir;

  @Test
  void probesCrashesAndCleanRestartsBecomeUptimeAndDowntimeWindows() {
    MovingClock clock = new MovingClock();
    Path file = dir.resolve("availability.json");
    Availability a = Availability.start(file, clock);
    clock.advance(Duration.ofSeconds(2)); // starting: not counted before the first ready probe
    for (int i = 0; i < 12 * 30; i++) { // 30 minutes up, a probe every 5 s
      a.probe(true);
      clock.advance(Duration.ofSeconds(5));
    }
    a.probe(true);
    assertThat(a.uptime(Duration.ofHours(1))).isEqualTo(1.0);

    // A crash: no stopped(); the next start finds the run open, 60 s after the last probe.
    clock.advance(Duration.ofSeconds(60));
    Availability b = Availability.start(file, clock);
    clock.advance(Duration.ofSeconds(3));
    b.probe(true);
    for (int i = 0; i < 12 * 10; i++) {
      clock.advance(Duration.ofSeconds(5));
      b.probe(i < 100 || i >= 110); // 50 s not ready inside the run
    }
    // A clean stop and a restart 10 s later.
    b.stopped();
    clock.advance(Duration.ofSeconds(10));
    Availability c = Availability.start(file, clock);
    clock.advance(Duration.ofSeconds(1));
    c.probe(true);
    clock.advance(Duration.ofMinutes(5));
    c.probe(true);

    assertThat(c.restarts()).isEqualTo(2);
    assertThat(c.uncleanStops()).isEqualTo(1);
    List<Availability.Downtime> down = c.downtime();
    assertThat(down)
        .extracting(Availability.Downtime::cause)
        .containsExactly("crash", "not ready", "restart");
    assertThat(down.get(0).length()).isEqualTo(Duration.ofSeconds(63));
    assertThat(down.get(1).length()).isEqualTo(Duration.ofSeconds(55)); // probe to probe
    assertThat(down.get(2).length()).isEqualTo(Duration.ofSeconds(11));
    double observed = Duration.ofMinutes(30).plusSeconds(63 + 600 + 11 + 300).toSeconds();
    double downSeconds = 63 + 55 + 11;
    assertThat(c.uptime(Duration.ofHours(1))).isCloseTo(1 - downSeconds / observed, within(1e-6));
    assertThat(c.uptime(Duration.ofDays(30))).isEqualTo(c.uptime(Duration.ofHours(24)));
    Map<String, Object> report = c.report();
    assertThat(report).containsKeys("uptime", "restarts", "downtime", "probes");
    assertThat(Files.exists(file)).isTrue();

    // The same record, read again by a fourth start, still knows the windows.
    c.stopped();
    Availability d = Availability.start(file, clock);
    assertThat(d.restarts()).isEqualTo(3);
    assertThat(d.uncleanStops()).isEqualTo(1);
  }

  @Test
  void aDamagedRecordStartsAfresh() throws Exception {
    Path file = dir.resolve("availability.json");
    Files.writeString(file, "{not json");
    Availability a = Availability.start(file, new MovingClock());
    assertThat(a.restarts()).isZero();
    a.probe(true);
    assertThat(Files.readString(file)).contains("\"runs\"");
  }
}
