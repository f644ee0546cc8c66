package dev.cfn.core;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Registers the runtime's gauges and function counters. Everything reads counters the message path
 * maintains anyway; nothing here adds work per message.
 */
final class RuntimeMeters {
  private static final Path PROC_STATUS = Path.of("/proc/self/status");

  private RuntimeMeters() {}

  static void bind(AgentRuntime rt, MeterRegistry registry, boolean jvm, LatencySampler latency) {
    for (double q : new double[] {0.5, 0.95, 0.99, 0.999}) {
      Gauge.builder(CfnMetrics.MESSAGE_LATENCY, latency, l -> l.percentileSeconds(q * 100))
          .tag("quantile", Double.toString(q))
          .baseUnit("seconds")
          .description("creation to handler completion, sampled; since the previous refresh")
          .register(registry);
    }
    Gauge.builder(CfnMetrics.MESSAGE_LATENCY_MAX, latency, LatencySampler::maxSeconds)
        .baseUnit("seconds")
        .description("largest sampled latency since the previous refresh")
        .register(registry);
    FunctionCounter.builder(CfnMetrics.MESSAGE_LATENCY_COUNT, latency, LatencySampler::count)
        .description("messages whose latency was sampled")
        .register(registry);
    FunctionCounter.builder(CfnMetrics.MESSAGES_SENT, rt, AgentRuntime::acceptedCount)
        .description("messages accepted into mailboxes")
        .register(registry);
    FunctionCounter.builder(CfnMetrics.MESSAGES_DELIVERED, rt, AgentRuntime::deliveredCount)
        .description("messages whose handler completed")
        .register(registry);
    Gauge.builder(CfnMetrics.MAILBOX_SIZE, rt, AgentRuntime::queuedCount)
        .description("messages waiting in all mailboxes")
        .register(registry);
    Gauge.builder(CfnMetrics.MAILBOX_UNBOUNDED, rt, AgentRuntime::unboundedMailboxAgents)
        .description("live agents with an unbounded mailbox (a risk: see AgentType.Builder)")
        .register(registry);
    Gauge.builder(CfnMetrics.AGENTS_LIVE, rt, AgentRuntime::liveAgents)
        .description("live agents")
        .register(registry);
    FunctionCounter.builder(CfnMetrics.CARRIER_PREEMPTIONS, rt, AgentRuntime::preemptionCount)
        .description("idle carriers preempted while spinning (an oversubscribed machine)")
        .register(registry);
    Gauge.builder(CfnMetrics.CONNECTIONS, () -> 0)
        .description("open remote connections; an in-process runtime has none")
        .register(registry);
    for (Carrier c : rt.carriers()) {
      Gauge.builder(
              CfnMetrics.DISPATCHER_UTILIZATION, new UtilizationProbe(c), UtilizationProbe::read)
          .tag("carrier", Integer.toString(c.index))
          .description("fraction of time the carrier ran agents since the previous read")
          .strongReference(true) // nothing else holds the probe: a weak one reads NaN after a GC
          .register(registry);
    }
    if (jvm) {
      new JvmMemoryMetrics().bindTo(registry);
      new ProcessorMetrics().bindTo(registry);
      Gauge.builder(CfnMetrics.PROCESS_MEMORY_RSS, RuntimeMeters::residentBytes)
          .baseUnit("bytes")
          .description("resident set size of the process")
          .register(registry);
    }
  }

  static void bindReliable(ReliableLedger r, MeterRegistry registry) {
    Gauge.builder(CfnMetrics.RECOVERY_SECONDS, r, x -> x.recoverySeconds)
        .baseUnit("seconds")
        .description("time the last journal recovery took")
        .register(registry);
    Gauge.builder(CfnMetrics.RECOVERY_MESSAGES, r, x -> x.recoveredCount)
        .description("unacknowledged reliable messages redelivered by the last recovery")
        .register(registry);
    FunctionCounter.builder(CfnMetrics.RELIABLE_ACKNOWLEDGED, r, x -> x.acknowledged.get())
        .description("reliable messages acknowledged")
        .register(registry);
    FunctionCounter.builder(CfnMetrics.RELIABLE_REDELIVERIES, r, x -> x.redeliveries.get())
        .description("reliable messages delivered again after a failure or a full mailbox")
        .register(registry);
  }

  /** The journal's quarantine counter ({@link CfnMetrics#RELIABLE_QUARANTINED}). */
  static void bindQuarantine(dev.cfn.core.spi.Journal journal, MeterRegistry registry) {
    FunctionCounter.builder(
            CfnMetrics.RELIABLE_QUARANTINED, journal, dev.cfn.core.spi.Journal::quarantinedCount)
        .description("damaged pending records set aside in the journal's quarantine")
        .register(registry);
  }

  /** VmRSS from /proc/self/status, or NaN where there is no such file. */
  static double residentBytes() {
    try {
      for (String line : Files.readAllLines(PROC_STATUS)) {
        if (line.startsWith("VmRSS:")) {
          String kb = line.substring(6).trim().split("\\s+")[0];
          return Long.parseLong(kb) * 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
    return Double.NaN;
  }

  /** Turns a carrier's cumulative busy time into utilization over the interval between reads. */
  static final class UtilizationProbe {
    private final Carrier carrier;
    private long lastNanos;
    private long lastBusy;

    UtilizationProbe(Carrier carrier) {
      this.carrier = carrier;
      this.lastNanos = carrier.startedNanos;
    }

    synchronized double read() {
      long now = System.nanoTime();
      long busy = carrier.busyNanos(now);
      long dt = now - lastNanos;
      double u = dt <= 0 ? 0 : (double) (busy - lastBusy) / dt;
      lastNanos = now;
      lastBusy = busy;
      return Math.max(0, Math.min(1, u));
    }
  }
}
