package dev.cfn.certify;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRef;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Check 1: inter-agent latency. A driver thread paces messages at a fixed rate to agent {@code a},
 * which sends each on to agent {@code b} through the bus; {@code b} records, in an HdrHistogram,
 * the time from the message's <em>intended</em> send time to its arrival. Measuring from the
 * intended time (fixed in advance, {@code start + i / rate}) rather than the actual one corrects
 * for coordinated omission: a stall of the sender, the bus or the receiver counts against every
 * message it delays. The figure is the P95 of the measured samples, after a warm-up; every message
 * must arrive (a lost message has no latency, so any loss fails the check).
 */
final class LatencyCheck implements Check {
  private final BusLink link;

  LatencyCheck(BusLink link) {
    this.link = link;
  }

  @Override
  public CheckId id() {
    return CheckId.LATENCY;
  }

  @Override
  public String method(Context ctx) {
    Profile p = ctx.profile();
    return "In-process bus, one runtime (cfn defaults). A driver thread paces "
        + Figures.format(p.latencyRate())
        + " msg/s to agent a, which sends each message on to agent b; b records arrival minus the"
        + " message's intended send time (coordinated-omission corrected, HdrHistogram, 3"
        + " significant digits). Warm-up "
        + p.latencyWarmup().toMillis()
        + " ms, then "
        + Figures.format(p.latencySamples())
        + " measured samples. Every message must arrive.";
  }

  /** A paced message: its intended send time and whether it is a measured sample. */
  record Stamp(long intended, boolean measured) {}

  /** Records one-way latency; one thread at a time by the runtime's guarantee. */
  static final class Sink implements Agent {
    final Histogram histogram = new Histogram(60_000_000_000L, 3);
    final AtomicLong received = new AtomicLong();

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      Stamp s = (Stamp) m.payload();
      if (s.measured()) {
        histogram.recordValue(Math.max(0, System.nanoTime() - s.intended()));
      }
      received.lazySet(received.get() + 1);
    }
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    Sink sink = new Sink();
    long interval = 1_000_000_000L / p.latencyRate();
    long warm = p.latencyWarmup().toNanos() / interval;
    long total = warm + p.latencySamples();
    long arrived;
    try (AgentRuntime rt =
        AgentRuntime.builder().name("certify-latency").jvmMetrics(false).build()) {
      rt.register(AgentType.builder("sink", id -> sink).mailboxCapacity(1 << 16).build());
      AgentRef b = rt.spawn(AgentId.of("sink", "b"));
      rt.register(AgentType.of("relay", id -> (m, c) -> link.send(c, b, m.payload())));
      AgentRef a = rt.spawn(AgentId.of("relay", "a"));
      long start = System.nanoTime() + 1_000_000;
      long tenth = Math.max(1, total / 10);
      for (long i = 0; i < total; i++) {
        long intended = start + i * interval;
        while (System.nanoTime() - intended < 0) {
          Thread.onSpinWait();
        }
        a.tell(new Stamp(intended, i >= warm));
        if (i % tenth == 0) {
          ctx.step(id(), "sent " + Figures.format(i) + " of " + Figures.format(total));
        }
      }
      arrived = Arrivals.await(sink.received::get, () -> total);
    }
    Histogram h = sink.histogram;
    long lost = total - arrived;
    double p95 = h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(95) / 1e6;
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("rateMsgPerSecond", p.latencyRate());
    f.put("sent", total);
    f.put("arrived", arrived);
    f.put("lost", lost);
    f.put("samples", h.getTotalCount());
    f.put("p50Ms", h.getValueAtPercentile(50) / 1e6);
    f.put("p95Ms", p95);
    f.put("p99Ms", h.getValueAtPercentile(99) / 1e6);
    f.put("p999Ms", h.getValueAtPercentile(99.9) / 1e6);
    f.put("maxMs", h.getMaxValue() / 1e6);
    f.put("meanMs", h.getMean() / 1e6);
    f.put("histogram", buckets(h));
    double target = ctx.target(id());
    String verdict =
        lost > 0
            ? Figures.format(lost)
                + " of "
                + Figures.format(total)
                + " messages never arrived (a lost message has no latency)"
            : "P95 "
                + Figures.format(p95)
                + " ms against "
                + id().describeTarget(target)
                + "; P99 "
                + Figures.format(h.getValueAtPercentile(99) / 1e6)
                + " ms";
    return CheckResult.measured(id(), p95, target, lost == 0, method(ctx), verdict, f);
  }

  /** The histogram in buckets doubling from 1 µs: [upper bound ms, count]. */
  static List<List<Double>> buckets(Histogram h) {
    List<List<Double>> out = new ArrayList<>();
    if (h.getTotalCount() == 0) {
      return out;
    }
    for (HistogramIterationValue v : h.logarithmicBucketValues(1_000, 2.0)) {
      out.add(List.of(v.getValueIteratedTo() / 1e6, (double) v.getCountAddedInThisIterationStep()));
    }
    return out;
  }
}
