package dev.cfn.certify;

import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import dev.cfn.server.auth.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Check 8: monitoring coverage. A node served as {@code cfn serve} serves it ({@link ServedNode})
 * is loaded through its API (best-effort and RELIABLE sends, handlers failing every 10th message,
 * malformed bodies and wrong tokens, connections opened and closed) and in process (bursts of
 * messages that fill a mailbox), while {@code GET /metrics} is scraped every 500 ms with a viewer
 * token. Each of the seed's eight metrics must be present and moving ({@link MonitoringCoverage});
 * coverage = present and moving / 8. A node without {@code /metrics} (404) is NOT AVAILABLE.
 */
final class MonitoringCheck implements Check {
  private static final long SCRAPE_EVERY_MS = 500;

  /** Scrapes a node: the real route, or a fake for the tests. */
  static final BiFunction<ServedNode, String, ApiClient.Answer> REAL =
      (node, token) -> node.client.get("/metrics", token, Duration.ofSeconds(10));

  private final BiFunction<ServedNode, String, ApiClient.Answer> scraper;

  MonitoringCheck(BiFunction<ServedNode, String, ApiClient.Answer> scraper) {
    this.scraper = scraper;
  }

  @Override
  public CheckId id() {
    return CheckId.MONITORING;
  }

  @Override
  public String method(Context ctx) {
    return "A node served as `cfn serve` serves it, loaded through its API (best-effort and"
        + " RELIABLE sends, failing handlers, bad requests, connections opened and closed) and in"
        + " process (bursts that fill a mailbox), scraped on GET /metrics (viewer token) every"
        + " 500 ms for "
        + ctx.profile().monitoring().toSeconds()
        + " s. Each of the seed's eight (messages per second, latency P50/P95/P99, queue sizes,"
        + " pool utilization, memory, CPU, error rate, connection count) must be present and"
        + " take two different values; coverage = present and moving / 8.";
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Path home = Files.createDirectories(ctx.work().resolve("node"));
    double target = ctx.target(id());
    List<String> scrapes = new ArrayList<>();
    UptimeCheck.Load load = new UptimeCheck.Load();
    try (ServedNode node = ServedNode.start(home, b -> {})) {
      String viewer = node.token(Role.VIEWER);
      ApiClient.Answer first = scraper.apply(node, viewer);
      if (first.status() == 404) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("status", 404);
        f.put("coveredMetrics", 0);
        return new CheckResult(
            id(),
            false,
            false,
            Double.NaN,
            target,
            method(ctx),
            "NOT AVAILABLE: the node has no /metrics route (GET /metrics answered 404), so none of"
                + " the seed's eight metrics can be scraped (coverage 0 of 8)",
            f);
      }
      if (first.status() != 200) {
        throw new IllegalStateException("GET /metrics answered " + first);
      }
      scrapes.add(first.body());
      List<Thread> lanes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String token = node.token(Role.AGENT);
        int lane = i;
        lanes.add(Thread.ofVirtual().start(() -> load.run(node.client, token, lane)));
      }
      lanes.add(Thread.ofVirtual().start(() -> connections(node, load)));
      long end = System.nanoTime() + ctx.profile().monitoring().toNanos();
      int round = 0;
      while (System.nanoTime() < end) {
        Thread.sleep(SCRAPE_EVERY_MS);
        if (round++ % 2 == 0) { // a burst that fills one agent's mailbox for a moment
          AgentId to = AgentId.of(ServedNode.SINK, "burst");
          try {
            for (int i = 0; i < 20_000; i++) {
              node.server.runtime().send(Envelope.to(to).payload(i));
            }
          } catch (RuntimeException full) {
            // the mailbox is full: the burst did what it was for
          }
        }
        ApiClient.Answer a = scraper.apply(node, viewer);
        if (a.status() == 200) {
          scrapes.add(a.body());
        }
        ctx.step(id(), "scrape " + scrapes.size() + ": " + a);
      }
      load.stop.set(true);
      for (Thread t : lanes) {
        t.join(10_000);
      }
    } finally {
      load.stop.set(true);
    }
    List<MonitoringCoverage.Finding> findings = MonitoringCoverage.judge(scrapes);
    double coverage = MonitoringCoverage.coverage(findings);
    long covered = findings.stream().filter(MonitoringCoverage.Finding::covered).count();
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("scrapes", scrapes.size());
    f.put("coveredMetrics", covered);
    f.put("metrics", findings.stream().map(MonitoringCoverage.Finding::asMap).toList());
    f.put("loadSent", load.sent.get());
    List<String> gaps =
        findings.stream()
            .filter(x -> !x.covered())
            .map(
                x ->
                    x.seedName()
                        + (x.present() ? " (never moved)" : " (missing " + x.missing() + ")"))
            .toList();
    String verdict =
        covered
            + " of 8 metrics present and moving ("
            + Figures.format(coverage)
            + " %) over "
            + scrapes.size()
            + " scrapes against "
            + id().describeTarget(target)
            + (gaps.isEmpty() ? "" : "; not covered: " + String.join(", ", gaps));
    return CheckResult.measured(id(), coverage, target, true, method(ctx), verdict, f);
  }

  /** Opens and closes connections, so that the connection count changes. */
  private static void connections(ServedNode node, UptimeCheck.Load load) {
    while (!load.stop.get()) {
      try (ApiClient c =
          new ApiClient(node.server.url(), node.client.trust(), Duration.ofSeconds(5))) {
        c.get("/health/live", null, Duration.ofSeconds(5));
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
