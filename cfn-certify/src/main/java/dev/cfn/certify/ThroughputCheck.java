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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Check 2: sustained throughput. Many pairs of agents bounce messages back and forth through the
 * bus, a fixed number in flight per pair; every message is counted when it is sent and when it
 * arrives. The figure is the arrivals in the measured window divided by its length, after a
 * warm-up. The rate must be sustained: the window is sampled every 250 ms, and a sample (of at
 * least {@value #MIN_SAMPLE_MS} ms) below the target fails the check, so a bus that stalls for a
 * while cannot pass on the average of the rest. At the end the bouncing stops and every message
 * sent must have arrived: a lost message fails the check, whatever the rate.
 */
final class ThroughputCheck implements Check {
  /** Samples shorter than this (the window's last, cut short) do not count as the lowest. */
  static final long MIN_SAMPLE_MS = 100;

  private final BusLink link;

  ThroughputCheck(BusLink link) {
    this.link = link;
  }

  @Override
  public CheckId id() {
    return CheckId.THROUGHPUT;
  }

  @Override
  public String method(Context ctx) {
    Profile p = ctx.profile();
    return "In-process bus, one runtime (cfn defaults). "
        + p.throughputPairs()
        + " agent pairs bounce messages, "
        + p.throughputInFlight()
        + " in flight per pair; each message counted when sent and on arrival. Warm-up "
        + p.throughputWarmup().toMillis()
        + " ms, then arrivals over "
        + p.throughputMeasure().toMillis()
        + " ms, sampled every 250 ms; the figure is the rate over the whole window, and the rate"
        + " must hold: every sample of at least "
        + MIN_SAMPLE_MS
        + " ms must meet the target too (a bus that stalls fails). Afterwards every message sent"
        + " must have arrived.";
  }

  /** Sends every message it receives back to its partner while the run lasts. */
  final class Bouncer implements Agent {
    private final AgentRef partner;
    private final LongAdder sent;
    private final LongAdder arrived;
    private final AtomicBoolean running;

    Bouncer(AgentRef partner, LongAdder sent, LongAdder arrived, AtomicBoolean running) {
      this.partner = partner;
      this.sent = sent;
      this.arrived = arrived;
      this.running = running;
    }

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      arrived.increment();
      if (running.get()) {
        sent.increment();
        link.send(ctx, partner, m.payload());
      }
    }
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    LongAdder sent = new LongAdder();
    LongAdder arrived = new LongAdder();
    AtomicBoolean running = new AtomicBoolean(true);
    List<List<Double>> series = new ArrayList<>();
    double perSecond;
    long finalArrived;
    double lowest = Double.NaN; // the lowest rate of a sample of at least MIN_SAMPLE_MS
    double lowestAt = Double.NaN; // seconds since the window opened, at that sample's end
    try (AgentRuntime rt =
        AgentRuntime.builder().name("certify-throughput").jvmMetrics(false).build()) {
      rt.register(
          AgentType.of(
              "ping",
              id -> new Bouncer(rt.ref(AgentId.of("pong", id.key())), sent, arrived, running)));
      rt.register(
          AgentType.of(
              "pong",
              id -> new Bouncer(rt.ref(AgentId.of("ping", id.key())), sent, arrived, running)));
      List<AgentRef> pings = new ArrayList<>();
      for (int i = 0; i < p.throughputPairs(); i++) {
        pings.add(rt.spawn(AgentId.of("ping", Integer.toString(i))));
        rt.spawn(AgentId.of("pong", Integer.toString(i)));
      }
      for (int k = 0; k < p.throughputInFlight(); k++) {
        for (AgentRef ping : pings) {
          sent.increment();
          ping.tell("m");
        }
      }
      ctx.step(id(), "warm-up " + p.throughputWarmup().toMillis() + " ms");
      Thread.sleep(p.throughputWarmup().toMillis());
      long t0 = System.nanoTime();
      long a0 = arrived.sum();
      long end = t0 + p.throughputMeasure().toNanos();
      long prevT = t0;
      long prevA = a0;
      while (System.nanoTime() < end) {
        Thread.sleep(Math.max(1, Math.min(250, (end - System.nanoTime()) / 1_000_000)));
        long t = System.nanoTime();
        long a = arrived.sum();
        double rate = (a - prevA) / ((t - prevT) / 1e9);
        series.add(List.of((t - t0) / 1e9, rate));
        if (t - prevT >= MIN_SAMPLE_MS * 1_000_000 && !(rate >= lowest)) {
          lowest = rate;
          lowestAt = (t - t0) / 1e9;
        }
        ctx.step(
            id(),
            String.format(
                java.util.Locale.ROOT,
                "%.1f s: %s msg/s",
                (t - t0) / 1e9,
                Figures.format(Math.round((a - prevA) / ((t - prevT) / 1e9)))));
        prevT = t;
        prevA = a;
      }
      long t1 = System.nanoTime();
      perSecond = (arrived.sum() - a0) / ((t1 - t0) / 1e9);
      running.set(false);
      finalArrived = Arrivals.await(arrived::sum, sent::sum);
    }
    long lost = sent.sum() - finalArrived;
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("pairs", p.throughputPairs());
    f.put("inFlightPerPair", p.throughputInFlight());
    f.put("measureSeconds", p.throughputMeasure().toMillis() / 1000.0);
    f.put("msgPerSecond", perSecond);
    f.put("lowestSampleMsgPerSecond", lowest);
    f.put("sent", sent.sum());
    f.put("arrived", finalArrived);
    f.put("lost", lost);
    f.put("series", series);
    double target = ctx.target(id());
    // no full sample at all (a window shorter than MIN_SAMPLE_MS) leaves only the whole window
    boolean sustained = Double.isNaN(lowest) || id().meets(lowest, target);
    String verdict =
        (lost > 0
                ? Figures.format(lost) + " of " + Figures.format(sent.sum()) + " messages lost; "
                : "every one of " + Figures.format(sent.sum()) + " messages arrived; ")
            + Figures.format(Math.round(perSecond))
            + " msg/s against "
            + id().describeTarget(target)
            + (Double.isNaN(lowest)
                ? ""
                : (sustained ? "; lowest sample " : "; NOT sustained: a sample fell to ")
                    + Figures.format(Math.round(lowest))
                    + " msg/s"
                    + (sustained ? "" : " (ending " + Figures.format(lowestAt) + " s in)"));
    return CheckResult.measured(
        id(), perSecond, target, lost == 0 && sustained, method(ctx), verdict, f);
  }
}
