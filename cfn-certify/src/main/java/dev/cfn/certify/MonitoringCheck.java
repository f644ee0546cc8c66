package dev.cfn.certify;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.MailboxFullException;
import dev.cfn.core.MessageBus;
import dev.cfn.core.OverflowPolicy;
import dev.cfn.core.SupervisionStrategy;
import dev.cfn.server.auth.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;

/**
 * Check 8: monitoring coverage. A node served as {@code cfn serve} serves it, in a JVM of its own
 * ({@link ServeNode} with {@code --queue-load}), is scraped on {@code GET /metrics} with a viewer
 * token once before any load and then every 500 ms while it is loaded through its API (best-effort
 * and RELIABLE sends, malformed bodies and wrong tokens, connections opened and closed) and, inside
 * the node's process, by {@link QueueLoad}: bursts to the slow agents of type {@value
 * QueueLoad#SLOW}, whose bounded mailboxes fill and drain (queue sizes), whose RELIABLE messages
 * wait in the journal (backlog), and whose handlers fail one message in {@value
 * QueueLoad#FAIL_EVERY} (error rate). Each of the seed's eight metrics must be present and moving,
 * every series of it that the load drives ({@link MonitoringCoverage}); coverage = present and
 * moving / 8. Every figure judged is read from the node's own {@code /metrics}; the load only gives
 * the metrics something to show. A node without {@code /metrics} (404) is NOT AVAILABLE.
 */
final class MonitoringCheck implements Check {
  private static final long SCRAPE_EVERY_MS = 500;

  /**
   * The scraping lasts the profile's time, and up to this many times as long while a metric that is
   * present has not moved yet: on a loaded machine a gauge may need longer to show a change (a
   * window of at least a second, a connection that outlives a scrape), and a metric that never
   * moves still fails, only later.
   */
  static final int LONGEST = 3;

  /**
   * Scrapes at least this many times (the first before any load), within {@link #LONGEST}: on a
   * loaded machine a scrape may take seconds, and two scrapes are too few to call a metric steady
   * or moving.
   */
  static final int LEAST_SCRAPES = 4;

  /** Scrapes a node: the real route, or a fake for the tests. */
  static final BiFunction<ServeNode.Served, String, ApiClient.Answer> REAL =
      (node, token) -> node.client.get("/metrics", token, Duration.ofSeconds(10));

  private final BiFunction<ServeNode.Served, String, ApiClient.Answer> scraper;

  MonitoringCheck(BiFunction<ServeNode.Served, String, ApiClient.Answer> scraper) {
    this.scraper = scraper;
  }

  @Override
  public CheckId id() {
    return CheckId.MONITORING;
  }

  @Override
  public String method(Context ctx) {
    return "A node served as `cfn serve` serves it, in a JVM of its own, is scraped on GET /metrics (viewer token) once"
        + " before any load, then every 500 ms for at least "
        + ctx.profile().monitoring().toSeconds()
        + " s while it is loaded through its API (best-effort and RELIABLE sends, bad requests,"
        + " connections opened and closed) and inside the node's process: every second a burst of "
        + QueueLoad.BEST_EFFORT_BURST
        + " best-effort and "
        + QueueLoad.RELIABLE_BURST
        + " RELIABLE messages to slow agents ("
        + QueueLoad.HANDLE_MS
        + " ms a message, mailboxes of "
        + QueueLoad.CAPACITY
        + " that refuse the rest, every "
        + QueueLoad.FAIL_EVERY
        + "th handler call failing on purpose). Each of the seed's eight (messages per second,"
        + " latency P50/P95/P99, queue sizes, pool utilization, memory, CPU, error rate,"
        + " connection count) must be present, and each series the load drives must take two"
        + " different values across the scrapes (latency: its _count; error rate: kinds handler"
        + " and delivery; pool utilization: the carriers; queue sizes: mailbox depth and journal"
        + " backlog both; at least "
        + LEAST_SCRAPES
        + "); while one that is present has not moved yet, the scraping goes on, up to "
        + LONGEST
        + " times as long. Coverage = present and moving / 8.";
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Path home = Files.createDirectories(ctx.work().resolve("node"));
    double target = ctx.target(id());
    List<String> scrapes = new ArrayList<>();
    UptimeCheck.Load load = new UptimeCheck.Load();
    double scrapeSeconds;
    Map<String, Object> queueFigures = new LinkedHashMap<>();
    try (ServeNode.Served node =
        ServeNode.serve(
            home,
            ctx.work().resolve("node-tmp"),
            ctx.work().resolve("served-node.log"),
            List.of("--queue-load"))) {
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
      scrapes.add(first.body()); // before any load
      List<Thread> lanes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String token = node.token(Role.AGENT);
        int lane = i;
        lanes.add(Thread.ofVirtual().start(() -> load.run(node.client, token, lane)));
      }
      lanes.add(Thread.ofVirtual().start(() -> connections(node, load)));
      node.jvm.send("queue-load start"); // the node's own bursts, every second from now on
      long t0 = System.nanoTime();
      long least = t0 + ctx.profile().monitoring().toNanos();
      long most = t0 + ctx.profile().monitoring().toNanos() * LONGEST;
      while (true) {
        long now = System.nanoTime();
        if (now >= most
            || now >= least && scrapes.size() >= LEAST_SCRAPES && !stillToMove(scrapes)) {
          break;
        }
        Thread.sleep(SCRAPE_EVERY_MS);
        ApiClient.Answer a = scraper.apply(node, viewer);
        if (a.status() == 200) {
          scrapes.add(a.body());
        }
        ctx.step(id(), "scrape " + scrapes.size() + ": " + a);
      }
      scrapeSeconds = (System.nanoTime() - t0) / 1e9;
      queueFigures.putAll(QueueLoad.parse(node.jvm.last("queue-load ")));
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
    f.put("scrapeSeconds", scrapeSeconds);
    f.put("coveredMetrics", covered);
    f.put("metrics", findings.stream().map(MonitoringCoverage.Finding::asMap).toList());
    f.put("loadSent", load.sent.get());
    f.put("queueLoad", queueFigures);
    List<String> gaps =
        findings.stream()
            .filter(x -> !x.covered())
            .map(
                x ->
                    x.seedName()
                        + (x.present()
                            ? " (never moved: " + String.join(", ", x.frozen()) + ")"
                            : " (missing " + x.missing() + ")"))
            .toList();
    String verdict =
        covered
            + " of 8 metrics present and moving ("
            + Figures.format(coverage)
            + " %) over "
            + scrapes.size()
            + " scrapes in "
            + Figures.format(scrapeSeconds)
            + " s against "
            + id().describeTarget(target)
            + (gaps.isEmpty() ? "" : "; not covered: " + String.join(", ", gaps));
    return CheckResult.measured(id(), coverage, target, true, method(ctx), verdict, f);
  }

  /** True while one of the eight is present in the scrapes so far and has not moved yet. */
  static boolean stillToMove(List<String> scrapes) {
    return MonitoringCoverage.judge(scrapes).stream().anyMatch(x -> x.present() && !x.moving());
  }

  /**
   * The load inside the node's process ({@link ServeNode} {@code --queue-load}) that gives the
   * queue and error metrics something to show: agents of type {@value #SLOW} take {@value
   * #HANDLE_MS} ms a message (blocking handlers, on virtual threads), their mailboxes hold {@value
   * #CAPACITY} messages a lane and refuse the rest ({@link OverflowPolicy#REJECT}), and every
   * {@value #FAIL_EVERY}th handler call of the type throws (its supervision resumes: a failure is
   * the message's, not the agent's; a failed RELIABLE message is retried by the node's retry
   * policy). A burst sends {@value #BEST_EFFORT_BURST} best-effort messages to {@code
   * slow/mailbox}, more than fit, and {@value #RELIABLE_BURST} RELIABLE ones to {@code
   * slow/journal}, which wait in the journal until handled; at the slow rate both take longer than
   * a scrape interval to drain, so successive scrapes see them at different depths.
   */
  static final class QueueLoad {
    static final String SLOW = "certify-slow";
    static final int HANDLE_MS = 10;
    static final int CAPACITY = 64;
    static final int FAIL_EVERY = 10;
    static final int BEST_EFFORT_BURST = 100;
    static final int RELIABLE_BURST = 48;

    private final AtomicLong handlerCalls = new AtomicLong();
    private final AtomicLong plannedFailures = new AtomicLong();
    private final AtomicLong bestEffortSent = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong reliableSent = new AtomicLong();

    AgentType type() {
      return AgentType.builder(
              SLOW,
              id ->
                  (m, c) -> {
                    Thread.sleep(HANDLE_MS);
                    long n = handlerCalls.incrementAndGet();
                    if (n % FAIL_EVERY == 0) {
                      plannedFailures.incrementAndGet();
                      throw new IllegalStateException("planned failure of handler call " + n);
                    }
                  })
          .blocking()
          .mailboxCapacity(CAPACITY)
          .overflow(OverflowPolicy.REJECT)
          .supervision(SupervisionStrategy.resume())
          .build();
    }

    /** One burst: fills {@code slow/mailbox} past its bound and queues RELIABLE work. */
    void burst(MessageBus bus) {
      AgentId mailbox = AgentId.of(SLOW, "mailbox");
      for (int i = 0; i < BEST_EFFORT_BURST; i++) {
        bestEffortSent.incrementAndGet();
        try {
          bus.send(Envelope.to(mailbox).payload(i));
        } catch (MailboxFullException full) {
          refused.incrementAndGet(); // the bound at work: the node counts it as a delivery error
        }
      }
      AgentId journal = AgentId.of(SLOW, "journal");
      for (int i = 0; i < RELIABLE_BURST; i++) {
        bus.send(Envelope.to(journal).delivery(DeliveryMode.RELIABLE).payload(i));
        reliableSent.incrementAndGet();
      }
    }

    /** The figures of a line {@code queue-load NAME=N ...} the node printed; none for null. */
    static Map<String, Object> parse(String line) {
      Map<String, Object> m = new LinkedHashMap<>();
      if (line != null) {
        for (String part : line.strip().split(" ")) {
          int eq = part.indexOf('=');
          if (eq > 0) {
            m.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
          }
        }
      }
      return m;
    }

    Map<String, Object> figures() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("bestEffortSent", bestEffortSent.get());
      m.put("refusedByFullMailbox", refused.get());
      m.put("reliableSent", reliableSent.get());
      m.put("slowHandlerCalls", handlerCalls.get());
      m.put("plannedFailures", plannedFailures.get());
      return m;
    }
  }

  /** Opens and closes connections, so that the connection count changes. */
  private static void connections(ServeNode.Served node, UptimeCheck.Load load) {
    while (!load.stop.get()) {
      try (ApiClient c =
          new ApiClient(node.client.url(), node.client.trust(), Duration.ofSeconds(5))) {
        c.get("/health/live", null, Duration.ofSeconds(5));
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
