package dev.cfn.bench.jmh;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRef;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
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
 * The dispatch hot path through the public API: a batch of sends to one agent, then a wait until
 * the agent has handled all of them, so each operation is a full send, schedule, turn and handler
 * call, never a send into a queue nobody drains.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class DispatchBenchmark {
  static final int BATCH = 1024;

  @Param({"1", "64"})
  int throughput;

  AgentRuntime runtime;
  AgentRef ref;
  final AtomicLong received = new AtomicLong();
  long expected;

  @Setup(Level.Trial)
  public void setUp() {
    runtime = AgentRuntime.builder().throughput(throughput).jvmMetrics(false).build();
    Agent sink = (Envelope m, AgentContext ctx) -> received.lazySet(received.get() + 1);
    runtime.register(AgentType.builder("sink", id -> sink).mailboxCapacity(1 << 12).build());
    ref = runtime.spawn(AgentId.of("sink", "1"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    runtime.close();
  }

  /** Time per message of a send-and-handle batch. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long sendAndHandle() {
    for (int i = 0; i < BATCH; i++) {
      ref.tell("x");
    }
    expected += BATCH;
    while (received.get() < expected) {
      Thread.onSpinWait();
    }
    return expected;
  }
}
