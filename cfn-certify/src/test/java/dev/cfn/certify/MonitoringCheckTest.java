package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check 8: the scoring against small expositions (all eight moving: 100 %; one that never moves or
 * is missing: below the target), the check end to end against a fake {@code /metrics} whose error
 * counter never moves (fails), and against the real node under the check's load: every one of the
 * eight moves (100 %), and with its queue sizes pinned to one value the check fails.
 */
@Timeout(300)
class MonitoringCheckTest {
  @TempDir Path work;

  /** An exposition with the agreed names; {@code n} moves the values, {@code frozen} does not. */
  static String exposition(int n, boolean errorsMove, boolean withCpu) {
    double e = errorsMove ? n : 3;
    StringBuilder b = new StringBuilder();
    b.append("# HELP cfn_messages_delivered_total Messages delivered.\n");
    b.append("# TYPE cfn_messages_delivered_total counter\n");
    b.append(
        String.format(
            Locale.ROOT, "cfn_messages_delivered_total{mode=\"best_effort\"} %d.0%n", 100 * n));
    b.append("# TYPE cfn_message_latency_seconds summary\n");
    for (String q : List.of("0.5", "0.95", "0.99")) {
      b.append(
          String.format(
              Locale.ROOT,
              "cfn_message_latency_seconds{quantile=\"%s\"} %.6f%n",
              q,
              0.001 * n * Double.parseDouble(q)));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "cfn_message_latency_seconds_count %d%ncfn_message_latency_seconds_sum %.3f%n",
            n * 10,
            n * 0.01));
    b.append(String.format(Locale.ROOT, "cfn_mailbox_depth{agent_type=\"sink\"} %d%n", n % 3));
    b.append(String.format(Locale.ROOT, "cfn_journal_backlog %d%n", n % 2));
    b.append(
        String.format(
            Locale.ROOT, "cfn_pool_utilization_ratio{pool=\"carriers\"} %.2f%n", 0.1 * (n % 5)));
    b.append(String.format(Locale.ROOT, "cfn_memory_used_ratio %.3f%n", 0.2 + 0.01 * n));
    if (withCpu) {
      b.append(String.format(Locale.ROOT, "cfn_cpu_usage_ratio %.3f%n", 0.3 + 0.02 * n));
    }
    b.append(String.format(Locale.ROOT, "cfn_errors_total{kind=\"handler\"} %.1f%n", e));
    b.append(String.format(Locale.ROOT, "cfn_errors_total{kind=\"delivery\"} %d.0%n", 2 * n));
    b.append(
        String.format(Locale.ROOT, "cfn_pool_utilization_ratio{pool=\"http\"} %.2f%n", 0.05 * n));
    b.append(String.format(Locale.ROOT, "cfn_http_connections_active %d%n", 1 + n % 4));
    return b.toString();
  }

  private static List<String> scrapes(boolean errorsMove, boolean withCpu) {
    List<String> s = new ArrayList<>();
    for (int n = 1; n <= 5; n++) {
      s.add(exposition(n, errorsMove, withCpu));
    }
    return s;
  }

  @Test
  void everyOneOfTheEightPresentAndMovingIsFullCoverage() {
    List<MonitoringCoverage.Finding> f = MonitoringCoverage.judge(scrapes(true, true));
    assertThat(f).hasSize(8).allMatch(MonitoringCoverage.Finding::covered);
    assertThat(MonitoringCoverage.coverage(f)).isEqualTo(100.0);
  }

  @Test
  void aMetricThatNeverMovesOrIsMissingIsNotCovered() {
    List<MonitoringCoverage.Finding> frozen = MonitoringCoverage.judge(scrapes(false, true));
    assertThat(frozen)
        .filteredOn(x -> !x.covered())
        .singleElement()
        .satisfies(
            x -> {
              assertThat(x.seedName()).isEqualTo("error rate");
              assertThat(x.present()).isTrue();
              assertThat(x.moving()).isFalse();
            });
    assertThat(MonitoringCoverage.coverage(frozen)).isEqualTo(87.5);
    List<MonitoringCoverage.Finding> noCpu = MonitoringCoverage.judge(scrapes(true, false));
    assertThat(noCpu)
        .filteredOn(x -> !x.covered())
        .singleElement()
        .satisfies(x -> assertThat(x.missing()).containsExactly("cfn_cpu_usage_ratio"));
    // a latency summary without its P99 is not the seed's P50/P95/P99
    String noP99 = exposition(2, true, true).replaceAll("(?m)^.*quantile=\"0.99\".*\n", "");
    List<MonitoringCoverage.Finding> partial =
        MonitoringCoverage.judge(List.of(exposition(1, true, true), noP99));
    assertThat(partial.get(1).present()).isFalse();
  }

  @Test
  void aFrozenSeriesBesideAMovingOneLeavesItsMetricUncovered() {
    // each of these freezes the series that matters while another series of the metric moves
    Map<String, String> freeze =
        Map.of(
            "latency P50/P95/P99", "(?m)^cfn_message_latency_seconds_count .*$",
            "pool utilization", "(?m)^cfn_pool_utilization_ratio\\{pool=\"carriers\"\\} .*$",
            "error rate", "(?m)^cfn_errors_total\\{kind=\"delivery\"\\} .*$",
            "queue sizes", "(?m)^cfn_journal_backlog .*$");
    Map<String, String> frozenLine =
        Map.of(
            "latency P50/P95/P99", "cfn_message_latency_seconds_count 10",
            "pool utilization", "cfn_pool_utilization_ratio{pool=\"carriers\"} 0.30",
            "error rate", "cfn_errors_total{kind=\"delivery\"} 2.0",
            "queue sizes", "cfn_journal_backlog 1");
    Map<String, String> frozenSeries =
        Map.of(
            "latency P50/P95/P99", "cfn_message_latency_seconds_count",
            "pool utilization", "cfn_pool_utilization_ratio{pool=\"carriers\"}",
            "error rate", "cfn_errors_total{kind=\"delivery\"}",
            "queue sizes", "cfn_journal_backlog");
    for (Map.Entry<String, String> e : freeze.entrySet()) {
      List<String> s = new ArrayList<>();
      for (int n = 1; n <= 5; n++) {
        s.add(exposition(n, true, true).replaceAll(e.getValue(), frozenLine.get(e.getKey())));
      }
      assertThat(MonitoringCoverage.judge(s))
          .as(e.getKey())
          .filteredOn(x -> !x.covered())
          .singleElement()
          .satisfies(
              x -> {
                assertThat(x.seedName()).isEqualTo(e.getKey());
                assertThat(x.present()).isTrue();
                assertThat(x.moving()).isFalse();
                assertThat(x.frozen()).containsExactly(frozenSeries.get(e.getKey()));
              });
    }
  }

  @Test
  void theCheckFailsWhenAMetricNeverMoves() throws Exception {
    AtomicInteger n = new AtomicInteger();
    CheckResult r =
        new MonitoringCheck(
                (node, token) ->
                    new ApiClient.Answer(200, exposition(n.incrementAndGet(), false, true), null))
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.available()).isTrue();
    assertThat(r.measured()).isEqualTo(87.5);
    assertThat(r.passed()).isFalse();
    assertThat(r.verdict())
        .contains("error rate (never moved: cfn_errors_total{kind=\"handler\"})");
  }

  @Test
  void theRealNodeUnderTheCheckLoadShowsEveryOneOfTheEightMoving() throws Exception {
    CheckResult r =
        new MonitoringCheck(MonitoringCheck.REAL)
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.available()).isTrue();
    assertThat((int) r.figures().get("scrapes"))
        .isGreaterThanOrEqualTo(MonitoringCheck.LEAST_SCRAPES);
    assertThat(r.verdict()).startsWith("8 of 8 metrics present and moving");
    assertThat(r.measured()).isEqualTo(100.0);
    assertThat(r.passed()).isTrue();
    // the load did what the method says: mailboxes overflowed and handlers failed on purpose
    @SuppressWarnings("unchecked")
    Map<String, Object> queues = (Map<String, Object>) r.figures().get("queueLoad");
    assertThat((long) queues.get("refusedByFullMailbox")).isPositive();
    assertThat((long) queues.get("plannedFailures")).isPositive();
  }

  @Test
  void theRealNodeWithAQueueMetricThatNeverMovesFails() throws Exception {
    // the node's real exposition, with the queue sizes' two series pinned to what they read first
    Map<String, String> pinned = new ConcurrentHashMap<>();
    CheckResult r =
        new MonitoringCheck(
                (node, token) -> {
                  ApiClient.Answer a = MonitoringCheck.REAL.apply(node, token);
                  if (a.status() != 200) {
                    return a;
                  }
                  StringBuilder b = new StringBuilder();
                  for (String line : a.body().split("\n")) {
                    if (line.startsWith("cfn_mailbox_depth ")
                        || line.startsWith("cfn_journal_backlog ")) {
                      String name = line.substring(0, line.indexOf(' '));
                      line = pinned.computeIfAbsent(name, k -> k + " 0.0");
                    }
                    b.append(line).append('\n');
                  }
                  return new ApiClient.Answer(200, b.toString(), null);
                })
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(pinned).containsOnlyKeys("cfn_mailbox_depth", "cfn_journal_backlog");
    assertThat(r.available()).isTrue();
    assertThat(r.passed()).isFalse();
    assertThat(r.measured()).isEqualTo(87.5);
    assertThat(r.verdict())
        .contains("queue sizes (never moved: cfn_mailbox_depth, cfn_journal_backlog)");
  }
}
