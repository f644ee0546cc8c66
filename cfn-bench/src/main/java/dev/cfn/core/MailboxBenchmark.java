package dev.cfn.core;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The mailbox on its own (package-private, so this benchmark lives in {@code dev.cfn.core}): an
 * offer and a poll on one thread, the aging path with several lanes, and one producer with one
 * consumer on separate threads.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MailboxBenchmark {

  static final AgentType TYPE =
      AgentType.builder("bench", id -> (m, ctx) -> {}).mailboxCapacity(1 << 16).build();

  static Envelope envelope(Priority p) {
    return Envelope.to(AgentId.of("bench", "1"))
        .priority(p)
        .payload("x")
        .build(1, AgentRuntime.EXTERNAL);
  }

  /** One mailbox per trial. */
  @State(Scope.Thread)
  public static class Single {
    Mailbox mailbox;
    Envelope normal = envelope(Priority.NORMAL);
    Envelope low = envelope(Priority.LOW);
    Envelope high = envelope(Priority.HIGH);

    @Setup(Level.Trial)
    public void setUp() {
      mailbox = new Mailbox(TYPE);
    }
  }

  /** Offer then poll of one NORMAL message: the common fast path. */
  @Benchmark
  public Envelope offerPollNormal(Single s) {
    s.mailbox.offer(s.normal);
    return s.mailbox.poll();
  }

  /** Offer three lanes then poll three: the priority and aging path. */
  @Benchmark
  public void offerPollThreeLanes(Single s, Blackhole bh) {
    Mailbox mb = s.mailbox;
    mb.offer(s.low);
    mb.offer(s.normal);
    mb.offer(s.high);
    bh.consume(mb.poll());
    bh.consume(mb.poll());
    bh.consume(mb.poll());
  }

  /** A mailbox shared by a producer thread and a consumer thread. */
  @State(Scope.Group)
  public static class Shared {
    Mailbox mailbox;
    Envelope normal = envelope(Priority.NORMAL);

    @Setup(Level.Iteration)
    public void setUp() {
      mailbox = new Mailbox(TYPE);
    }
  }

  /** Producer side of the two-thread pair; spins while the lane is full. */
  @Benchmark
  @Group("spsc")
  @GroupThreads(1)
  public void produce(Shared s) {
    while (!s.mailbox.offer(s.normal)) {
      Thread.onSpinWait();
    }
  }

  /** Consumer side of the two-thread pair. */
  @Benchmark
  @Group("spsc")
  @GroupThreads(1)
  public Envelope consume(Shared s) {
    return s.mailbox.poll();
  }
}
