package dev.cfn.core;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the message path's latency sample costs: the runtime times one message in {@code
 * latencySampleEvery} (default 16) with two clock reads and two histogram records ({@link
 * LatencySampler}, package-private, so this benchmark lives in {@code dev.cfn.core}). Measured two
 * ways, each with the sample taken on every message ({@code 1}), on one in 16 (the default) and
 * practically never ({@code 1073741824}, 2^30: the path without the sample, its mask test aside):
 *
 * <ul>
 *   <li>{@link #path}: the whole path through the public API, as {@code DispatchBenchmark} drives
 *       it (a batch of sends to one agent, then a wait until its handler has run for each), so the
 *       difference between the parameters is the sample's share of a real delivery;
 *   <li>{@link #sampleStep}: the sampler's two calls per message alone (start and completion, as a
 *       carrier makes them), so the difference is the sample's own cost per message.
 * </ul>
 *
 * <p>Run: {@code ./cfn bench jmh LatencySampleBenchmark}. Compare the parameters within one run: on
 * a shared machine only the ratios side by side mean much.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class LatencySampleBenchmark {
  static final int BATCH = 1024;

  /** One message in this many is timed: every one, the default, practically none. */
  @Param({"1", "16", "1073741824"})
  int sampleEvery;

  AgentRuntime runtime;
  AgentRef ref;
  final AtomicLong received = new AtomicLong();
  long expected;

  LatencySampler sampler;
  long sequence;
  long created;

  @Setup(Level.Trial)
  public void setUp() {
    runtime =
        AgentRuntime.builder()
            .throughput(64)
            .latencySampleEvery(sampleEvery)
            .jvmMetrics(false)
            .build();
    Agent sink = (Envelope m, AgentContext ctx) -> received.lazySet(received.get() + 1);
    runtime.register(AgentType.builder("sink", id -> sink).mailboxCapacity(1 << 12).build());
    ref = runtime.spawn(AgentId.of("sink", "1"));
    sampler = new LatencySampler(sampleEvery, 1);
    created = System.nanoTime();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    runtime.close();
  }

  /** Time per message of a send-and-handle batch through the runtime. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long path() {
    for (int i = 0; i < BATCH; i++) {
      ref.tell("x");
    }
    expected += BATCH;
    while (received.get() < expected) {
      Thread.onSpinWait();
    }
    return expected;
  }

  /** Time per message of the sampler's two calls, as a carrier makes them for one delivery. */
  @Benchmark
  public long sampleStep() {
    long n = ++sequence;
    sampler.sampleStart(0, n, created);
    sampler.sample(0, n, created);
    return n;
  }
}
