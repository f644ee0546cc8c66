package dev.cfn.bench.jmh;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.swarm.Reduce;
import dev.cfn.flow.swarm.RoundResult;
import dev.cfn.flow.swarm.Swarm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One coordination round of a swarm through the real bus (issue 11's target: 10,000 members,
 * broadcast, every reply, majority, in at most 100 ms): the round's collector sends the task to
 * every member, each member answers its sender, the collector reduces the replies. Each operation
 * is a whole round, from start to the completed result; a round missing any reply fails the run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class RoundBenchmark {
  @Param({"10000"})
  int members;

  AgentRuntime runtime;
  Swarm swarm;

  @Setup(Level.Trial)
  public void setUp() {
    runtime = AgentRuntime.builder().jvmMetrics(false).build();
    runtime.register(
        AgentType.of(
            "voter",
            id -> (m, ctx) -> ctx.send(m.sender(), id.key().hashCode() % 3 == 0 ? "no" : "yes")));
    swarm = Swarm.builder("bench", runtime).build();
    for (int i = 0; i < members; i++) {
      swarm.join(AgentId.of("voter", Integer.toString(i)));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    runtime.close();
  }

  /** Time per round of every member, reduced by majority. */
  @Benchmark
  public Object majorityRound() {
    RoundResult r = swarm.round("ship it?").reduce(Reduce.majority()).start().join();
    if (!r.complete()) {
      throw new IllegalStateException(
          "round " + r.round() + " missed " + r.missing().size() + " of " + r.asked() + " replies");
    }
    return r.decision();
  }
}
