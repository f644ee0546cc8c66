package dev.cfn.server.metrics;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.CfnMetrics;
import dev.cfn.store.journal.SqliteJournal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * The node's Prometheus registry: everything {@code GET /metrics} shows, in the Prometheus text
 * exposition format. The runtime registers its own meters here ({@link CfnMetrics}); this class
 * adds the seed's eight monitored metrics under the names {@code docs/metrics.md} lists (and {@code
 * cfn certify} checks), the journal's, the HTTP server's and the JVM's, each with its meaning as
 * the HELP text.
 *
 * <p>Every number is read from the code path it describes when a scrape asks for it: counters the
 * runtime, the journal writer and the model router keep anyway ({@link LongAdder}s and
 * single-writer counters), gauges over live state. Nothing here runs per message.
 *
 * <p>One rename: the runtime's end-to-end latency gauges ({@code cfn.message.latency*}, creation to
 * handler <em>completion</em>) are shown as {@code cfn_message_completion_*}, because {@code
 * cfn_message_latency_seconds} is the summary of the wait before the handler <em>starts</em> (see
 * {@link AgentRuntime#waitPercentileSeconds}).
 */
public final class NodeMetrics implements AutoCloseable {
  /** The quantiles of {@code cfn_message_latency_seconds}. */
  static final double[] QUANTILES = {0.5, 0.95, 0.99, 0.999};

  /** The pool label of the carrier pool, in {@code cfn_pool_utilization_ratio}. */
  public static final String POOL_CARRIERS = "carriers";

  /** The pool label of the HTTP server's thread pool. */
  public static final String POOL_HTTP = "http";

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final LongAdder http5xx = new LongAdder();

  /**
   * The suppliers that gauges and function counters read: Micrometer holds what a meter reads
   * weakly, so a lambda must be held here or it reads NaN after a garbage collection.
   */
  private final List<Object> held = new CopyOnWriteArrayList<>();

  private NodeMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  /** A registry with the JVM's meters (memory, GC, threads, classes, CPU, uptime) bound. */
  public static NodeMetrics create() {
    PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    r.config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                String name = id.getName();
                if (name.startsWith(CfnMetrics.MESSAGE_LATENCY)) {
                  return id.withName(
                      "cfn.message.completion"
                          + name.substring(CfnMetrics.MESSAGE_LATENCY.length()));
                }
                if (name.equals(CfnMetrics.MESSAGES_DELIVERED)) {
                  return new Meter.Id(
                      name,
                      Tags.of(id.getTagsAsIterable()),
                      id.getBaseUnit(),
                      "messages whose handler has run (returned or thrown), every agent of the"
                          + " node; rate() of it is the node's messages per second",
                      id.getType());
                }
                return id;
              }
            });
    NodeMetrics m = new NodeMetrics(r);
    new ClassLoaderMetrics().bindTo(r);
    new JvmThreadMetrics().bindTo(r);
    new UptimeMetrics().bindTo(r);
    m.gc.bindTo(r);
    return m;
  }

  /** The registry: give it to the runtime ({@link AgentRuntime.Builder#meterRegistry}). */
  public MeterRegistry registry() {
    return registry;
  }

  /** The counter of HTTP answers with a 5xx status: the server increments it. */
  public LongAdder http5xx() {
    return http5xx;
  }

  /** Adds a collector of metrics whose labels change at run time (budgets, for one). */
  public void register(MultiCollector collector) {
    registry.getPrometheusRegistry().register(collector);
  }

  /** Everything, in the Prometheus text format (version 0.0.4). */
  public String scrape() {
    return registry.scrape();
  }

  /** The media type of {@link #scrape()}. */
  public static String contentType() {
    return "text/plain; version=0.0.4; charset=utf-8";
  }

  /**
   * The seed's metrics over {@code rt}, built with {@link #registry()}: messages delivered, the
   * wait's summary, mailbox depth, journal backlog, the carriers' utilization, heap and CPU, and
   * the errors of kinds handler, delivery and provider ({@code http5xx} comes with {@link
   * #bindHttp}).
   */
  public void bindRuntime(AgentRuntime rt) {
    registry.getPrometheusRegistry().register(() -> latencySummary(rt));
    Gauge.builder("cfn.mailbox.depth", () -> gaugeValue(CfnMetrics.MAILBOX_SIZE))
        .description(
            "messages waiting in the mailboxes of every agent of the node (sum over agents), not"
                + " counting those being handled")
        .register(registry);
    Gauge.builder("cfn.journal.backlog", rt, AgentRuntime::pendingCount)
        .description(
            "reliable messages journaled and not yet acknowledged or dead-lettered: queued, being"
                + " handled, waiting for a retry, or replies on their way")
        .register(registry);
    BusyProbe carriers = new BusyProbe(rt::carrierBusyNanos, rt.settings().carriers());
    held.add(carriers);
    Gauge.builder("cfn.pool.utilization.ratio", carriers, BusyProbe::read)
        .tag("pool", POOL_CARRIERS)
        .description(
            "share of capacity in use, 0 to 1: carriers = time the carrier threads spent running"
                + " agents over the elapsed time (since the previous read, at least a second);"
                + " http = busy threads of the HTTP server's pool over its maximum")
        .strongReference(true)
        .register(registry);
    Gauge.builder("cfn.memory.used.ratio", NodeMetrics::heapUsedRatio)
        .description(
            "heap in use over the heap's maximum (-Xmx), 0 to 1; jvm_memory_* break it down by"
                + " pool")
        .register(registry);
    CpuWindow cpu = new CpuWindow();
    Gauge.builder("cfn.cpu.usage.ratio", cpu, CpuWindow::ratio)
        .description(
            "the JVM process's CPU time over wall time and all of the machine's cores, 0 to 1,"
                + " over the window since the previous read (at least 250 ms); -1 where the"
                + " platform does not tell")
        .strongReference(true)
        .register(registry);
    errors("handler", () -> counterSum(CfnMetrics.HANDLER_FAILURES));
    errors(
        "delivery",
        () -> counterSum(CfnMetrics.DEAD_LETTERS) + counterSum(CfnMetrics.MAILBOX_REJECTIONS));
    errors("provider", () -> counterSum("cfn.model.failures"));
  }

  private void errors(String kind, DoubleSupplier count) {
    held.add(count);
    FunctionCounter.builder("cfn.errors", count, DoubleSupplier::getAsDouble)
        .tag("kind", kind)
        .description(
            "errors by kind: handler = a handler threw; delivery = a message was dead-lettered"
                + " or refused by a full mailbox; provider = a model call failed after retries;"
                + " http5xx = the API answered 5xx")
        .register(registry);
  }

  /** The journal: commit latency and batch size, WAL and file size, reliable dead letters. */
  public void bindJournal(SqliteJournal journal) {
    FunctionTimer.builder(
            "cfn.journal.commit",
            journal,
            SqliteJournal::commitCount,
            SqliteJournal::commitNanos,
            TimeUnit.NANOSECONDS)
        .description(
            "the journal's transactions, BEGIN to COMMIT with the WAL's fsync: _count commits,"
                + " _sum seconds; rate(_sum)/rate(_count) is the mean commit latency")
        .register(registry);
    FunctionCounter.builder("cfn.journal.writes", journal, SqliteJournal::committedWrites)
        .description(
            "write operations committed (appends, acknowledgements, failures, dead letters);"
                + " rate() over rate(cfn_journal_commit_seconds_count) is the mean batch size")
        .register(registry);
    Gauge.builder("cfn.journal.batch.size", journal, SqliteJournal::lastBatchSize)
        .description("write operations the last committed transaction carried (group commit)")
        .register(registry);
    Path file = journal.file();
    Path wal = file.resolveSibling(file.getFileName() + "-wal");
    Gauge.builder("cfn.journal.wal", () -> size(wal))
        .baseUnit("bytes")
        .description(
            "size of the journal's write-ahead log (cfn.db-wal), checkpointed into the file")
        .register(registry);
    Gauge.builder("cfn.journal.file", () -> size(file))
        .baseUnit("bytes")
        .description("size of the journal's database file (cfn.db)")
        .register(registry);
  }

  /**
   * The HTTP server: open connections, the thread pool's utilization, and the 5xx answers.
   *
   * @param connections open connections now
   * @param poolUtilization busy threads over the maximum, 0 to 1
   */
  public void bindHttp(LongSupplier connections, DoubleSupplier poolUtilization) {
    held.add(connections);
    held.add(poolUtilization);
    Gauge.builder("cfn.http.connections.active", connections, LongSupplier::getAsLong)
        .description(
            "TCP connections open to the node's HTTP API now (TLS or plain), idle keep-alive and"
                + " event streams included")
        .register(registry);
    Gauge.builder("cfn.pool.utilization.ratio", poolUtilization, DoubleSupplier::getAsDouble)
        .tag("pool", POOL_HTTP)
        .description(
            "share of capacity in use, 0 to 1: carriers = time the carrier threads spent running"
                + " agents over the elapsed time (since the previous read, at least a second);"
                + " http = busy threads of the HTTP server's pool over its maximum")
        .register(registry);
    errors("http5xx", http5xx::sum);
  }

  /** A counter the server keeps, such as {@code cfn.reliable.dead.letters}. */
  public Counter counter(String name, String description, String... tags) {
    return Counter.builder(name).tags(tags).description(description).register(registry);
  }

  private double gaugeValue(String name) {
    Gauge g = registry.find(name).gauge();
    return g == null ? 0 : g.value();
  }

  private double counterSum(String name) {
    double sum = 0;
    for (Counter c : registry.find(name).counters()) {
      sum += c.count();
    }
    for (FunctionCounter c : registry.find(name).functionCounters()) {
      sum += c.count();
    }
    return sum;
  }

  private static SummarySnapshot latencySummary(AgentRuntime rt) {
    Quantile[] q = new Quantile[QUANTILES.length];
    for (int i = 0; i < q.length; i++) {
      q[i] = new Quantile(QUANTILES[i], rt.waitPercentileSeconds(QUANTILES[i] * 100));
    }
    SummaryDataPointSnapshot.Builder point = SummaryDataPointSnapshot.builder();
    point.quantiles(Quantiles.of(q));
    point.count(rt.waitSampleCount());
    point.sum(rt.waitSumSeconds());
    return SummarySnapshot.builder()
        .name("cfn_message_latency_seconds")
        .help(
            "delivery latency in seconds: a message's creation (just before it is enqueued) to the"
                + " start of its handler, sampled (one message in "
                + rt.settings().latencySampleEvery()
                + "); quantiles over the latest interval of at least a second, _count and _sum"
                + " over the sampled messages since the start")
        .dataPoint(point.build())
        .build();
  }

  static double heapUsedRatio() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    long max = heap.getMax() > 0 ? heap.getMax() : heap.getCommitted();
    return max <= 0 ? 0 : Math.min(1, (double) heap.getUsed() / max);
  }

  /**
   * CPU use from the process's CPU time in nanoseconds, over a window of at least 250 ms.
   *
   * <p>Not {@code getProcessCpuLoad()}: that one keeps a single "since the previous call" mark for
   * the whole JVM, so two readers close together (Micrometer's own process gauge, the alert engine,
   * this gauge) leave the later one a window of a few clock ticks, which on Linux reads as 0 and
   * made the gauge look frozen between scrapes. This window is this gauge's own.
   */
  static final class CpuWindow {
    private static final long MIN_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private final int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
    private long lastWall = System.nanoTime();
    private long lastCpu = cpuNanos();
    private double ratio = -1;

    synchronized double ratio() {
      long cpu = cpuNanos();
      if (cpu < 0) {
        return -1;
      }
      long wall = System.nanoTime();
      long window = wall - lastWall;
      if (window >= MIN_WINDOW_NANOS || ratio < 0) {
        if (window > 0 && lastCpu >= 0) {
          ratio = Math.clamp((double) (cpu - lastCpu) / ((double) window * cores), 0.0, 1.0);
        }
        lastWall = wall;
        lastCpu = cpu;
      }
      return ratio;
    }

    private static long cpuNanos() {
      if (ManagementFactory.getOperatingSystemMXBean()
          instanceof com.sun.management.OperatingSystemMXBean os) {
        return os.getProcessCpuTime();
      }
      return -1;
    }
  }

  private static double size(Path p) {
    try {
      return Files.exists(p) ? Files.size(p) : 0;
    } catch (IOException e) {
      return Double.NaN;
    }
  }

  /** Every value of the registry now, as the alert rules see them. */
  public Samples samples() {
    return Samples.parse(scrape());
  }

  /** The labels map of nothing. */
  static Map<String, String> none() {
    return Map.of();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }

  /** Turns a cumulative busy time into utilization over the interval between reads (>= 1 s). */
  static final class BusyProbe {
    private final LongSupplier busyNanos;
    private final int workers;
    private long lastNanos;
    private long lastBusy;
    private double last;

    BusyProbe(LongSupplier busyNanos, int workers) {
      this.busyNanos = busyNanos;
      this.workers = Math.max(1, workers);
      this.lastNanos = System.nanoTime();
      this.lastBusy = busyNanos.getAsLong();
    }

    synchronized double read() {
      long now = System.nanoTime();
      long dt = now - lastNanos;
      if (dt < 1_000_000_000L) {
        return last; // scrapes and alert evaluations share one interval of at least a second
      }
      long busy = busyNanos.getAsLong();
      last = Math.max(0, Math.min(1, (double) (busy - lastBusy) / ((double) dt * workers)));
      lastNanos = now;
      lastBusy = busy;
      return last;
    }
  }
}
