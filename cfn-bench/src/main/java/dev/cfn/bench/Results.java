package dev.cfn.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Result records of the bus scenarios, written as JSON and printed as a table. */
final class Results {
  private Results() {}

  /** Latency percentiles in microseconds, from an HdrHistogram of nanoseconds. */
  record Latency(
      String scenario,
      String system,
      String profile,
      int rate,
      long count,
      double p50Us,
      double p95Us,
      double p99Us,
      double p999Us,
      double maxUs,
      double processCpuCores,
      double runtimeCpuCores) {

    static Latency of(
        String scenario,
        String system,
        String profile,
        int rate,
        Histogram h,
        double processCpu,
        double runtimeCpu) {
      return new Latency(
          scenario,
          system,
          profile,
          rate,
          h.getTotalCount(),
          us(h.getValueAtPercentile(50)),
          us(h.getValueAtPercentile(95)),
          us(h.getValueAtPercentile(99)),
          us(h.getValueAtPercentile(99.9)),
          us(h.getMaxValue()),
          processCpu,
          runtimeCpu);
    }

    /** The same figures reported under another scenario name. */
    Latency as(String otherScenario) {
      return new Latency(
          otherScenario,
          system,
          profile,
          rate,
          count,
          p50Us,
          p95Us,
          p99Us,
          p999Us,
          maxUs,
          processCpuCores,
          runtimeCpuCores);
    }

    private static double us(long nanos) {
      return Math.round(nanos / 10.0) / 100.0;
    }
  }

  /** A saturation throughput figure. */
  record Throughput(
      String scenario,
      String system,
      long messages,
      double seconds,
      double messagesPerSecond,
      double processCpuCores) {}

  /** The million-agent scale figures. */
  record Scale(
      int agents,
      double spawnSeconds,
      double spawnP50Us,
      double spawnP99Us,
      long heapBeforeBytes,
      long heapAfterSpawnBytes,
      double heapBytesPerAgent,
      long heapAfterMessagesBytes,
      double heapBytesPerAgentAfterMessages,
      long repliesCounted,
      double messageRoundSeconds) {}

  /** A target beside its measured figure. */
  record Target(String name, String target, double measured, String unit, boolean met) {
    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("target", target);
      m.put("measured", measured);
      m.put("unit", unit);
      m.put("met", met);
      return m;
    }
  }
}
