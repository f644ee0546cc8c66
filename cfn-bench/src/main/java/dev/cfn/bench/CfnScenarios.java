package dev.cfn.bench;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRef;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.CfnMetrics;
import dev.cfn.core.Envelope;
import dev.cfn.core.IdleStrategy;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The bus scenarios on cfn's real runtime: every message goes through {@code AgentRuntime}'s public
 * API, mailboxes and carrier threads, exactly as an application's would.
 */
final class CfnScenarios {
  private CfnScenarios() {}

  /** A paced message: its intended send time, and whether it falls in the measured window. */
  record Stamp(long intended, boolean measured) {}

  /** Sinks a stamp and records its one-way latency; single-threaded by the runtime's guarantee. */
  static final class LatencySink implements Agent {
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

  static AgentRuntime runtime(String profile) {
    return AgentRuntime.builder()
        .idleStrategy(IdleStrategy.named(profile))
        .name("bench")
        .jvmMetrics(false)
        .build();
  }

  static Results.Latency oneWay(String profile, int rate, Duration warmup, Duration measure)
      throws Exception {
    return oneWay("one-way", profile, rate, warmup, measure, n -> {});
  }

  /**
   * The paced one-way run, reported as {@code scenario}; {@code preemptions} receives how often the
   * runtime's idle carriers found themselves preempted while spinning ({@code
   * cfn.carrier.preemptions}).
   */
  static Results.Latency oneWay(
      String scenario,
      String profile,
      int rate,
      Duration warmup,
      Duration measure,
      java.util.function.LongConsumer preemptions)
      throws Exception {
    LatencySink sink = new LatencySink();
    try (AgentRuntime rt = runtime(profile)) {
      rt.register(AgentType.builder("sink", id -> sink).mailboxCapacity(1 << 16).build());
      AgentRef ref = rt.spawn(AgentId.of("sink", "1"));
      Pacer.Run run =
          Pacer.run(
              rate, warmup, measure, () -> {}, (t, measured) -> ref.tell(new Stamp(t, measured)));
      awaitCount(sink.received, run.total());
      preemptions.accept(
          (long) rt.meterRegistry().get(CfnMetrics.CARRIER_PREEMPTIONS).functionCounter().count());
      return Results.Latency.of(
          scenario,
          "cfn",
          profile,
          rate,
          sink.histogram,
          run.cpu().processCores(),
          run.cpu().othersCores());
    }
  }

  static Results.Latency requestReply(String profile, int rate, Duration warmup, Duration measure)
      throws Exception {
    Recorder recorder = new Recorder(60_000_000_000L, 3);
    LongAdder replies = new LongAdder();
    try (AgentRuntime rt = runtime(profile)) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply(m.payload())));
      AgentId echo = AgentId.of("echo", "1");
      rt.spawn(echo);
      Duration timeout = Duration.ofSeconds(30);
      Pacer.Run run =
          Pacer.run(
              rate,
              warmup,
              measure,
              recorder::reset,
              (intended, measured) ->
                  rt.request(echo, new Stamp(intended, measured), timeout)
                      .thenAccept(
                          r -> {
                            if (measured) { // a warm-up reply may land after the reset
                              recorder.recordValue(Math.max(0, System.nanoTime() - intended));
                            }
                            replies.increment();
                          }));
      awaitCount(replies, run.total());
      Histogram h = recorder.getIntervalHistogram();
      return Results.Latency.of(
          "request-reply",
          "cfn",
          profile,
          rate,
          h,
          run.cpu().processCores(),
          run.cpu().othersCores());
    }
  }

  /** Counts arrivals; publishes the count with a release store once per message. */
  static final class CountingSink implements Agent {
    final AtomicLong received = new AtomicLong();

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      received.lazySet(received.get() + 1);
    }
  }

  static final Object PAYLOAD = "x";

  static Results.Throughput oneToOne(Duration warmup, Duration measure, int window)
      throws Exception {
    return oneToOne(warmup, measure, window, false);
  }

  /**
   * One sender floods one agent. Bounded (scenario {@code 1->1}): a mailbox of twice the sender's
   * window. Unbounded (scenario {@code 1->1 unbounded}): {@code
   * AgentType.Builder.unboundedMailbox}, comparable with Pekko's default mailbox, which is
   * unbounded too.
   */
  static Results.Throughput oneToOne(
      Duration warmup, Duration measure, int window, boolean unbounded) throws Exception {
    CountingSink sink = new CountingSink();
    try (AgentRuntime rt = runtime("default")) {
      AgentType.Builder type = AgentType.builder("sink", id -> sink);
      rt.register(
          (unbounded
                  ? type.unboundedMailbox()
                  : type.mailboxCapacity(Integer.highestOneBit(window) << 1))
              .build());
      AgentRef ref = rt.spawn(AgentId.of("sink", "1"));
      return Saturation.run(
          unbounded ? "1->1 unbounded" : "1->1",
          "cfn",
          warmup,
          measure,
          window,
          sink.received,
          () -> ref.tell(PAYLOAD));
    }
  }

  /** The last agent of the forward chain: notes when the request reached it, then answers. */
  static final class ChainEnd implements Agent {
    volatile long arrivedAt;

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      arrivedAt = System.nanoTime();
      ctx.reply(m.payload());
    }
  }

  /**
   * A request passes three agents: the caller sends it to {@code a}, which forwards it ({@code
   * ctx.forward}, keeping the reply channel) to {@code b}, which forwards it to {@code c}, which
   * notes the time and answers the caller. One request at a time; the caller spins on the reply, so
   * no thread parks between requests. Recorded per request: (arrival at {@code c} - send) / 3, the
   * time of one step.
   */
  static Results.Latency forwardChain(Duration warmup, Duration measure) throws Exception {
    Histogram perStep = new Histogram(60_000_000_000L, 3);
    ChainEnd end = new ChainEnd();
    try (AgentRuntime rt = runtime("default")) {
      AgentId a = AgentId.of("chain-a", "1");
      AgentId b = AgentId.of("chain-b", "1");
      AgentId c = AgentId.of("chain-c", "1");
      rt.register(AgentType.of("chain-a", id -> (m, ctx) -> ctx.forward(m, b)));
      rt.register(AgentType.of("chain-b", id -> (m, ctx) -> ctx.forward(m, c)));
      rt.register(AgentType.of("chain-c", id -> end));
      AgentRef first = rt.spawn(a);
      rt.spawn(b);
      rt.spawn(c);
      Duration timeout = Duration.ofSeconds(30);
      Cpu cpu =
          closedLoop(
              warmup,
              measure,
              measured -> {
                long t0 = System.nanoTime();
                var reply = first.request(PAYLOAD, timeout);
                while (!reply.isDone()) {
                  Thread.onSpinWait();
                }
                reply.join();
                if (measured) {
                  perStep.recordValue(Math.max(0, (end.arrivedAt - t0) / 3));
                }
              });
      return Results.Latency.of(
          "forward-chain", "cfn", "default", 0, perStep, cpu.processCores(), cpu.othersCores());
    }
  }

  /** One iteration of a closed-loop scenario; {@code measured} is false during the warm-up. */
  interface Iteration {
    void run(boolean measured) throws Exception;
  }

  /** Runs {@code iteration} back to back: {@code warmup}, then {@code measure} (CPU measured). */
  static Cpu closedLoop(Duration warmup, Duration measure, Iteration iteration) throws Exception {
    long warmEnd = System.nanoTime() + warmup.toNanos();
    while (System.nanoTime() - warmEnd < 0) {
      iteration.run(false);
    }
    Cpu cpu = new Cpu();
    long end = System.nanoTime() + measure.toNanos();
    while (System.nanoTime() - end < 0) {
      iteration.run(true);
    }
    return cpu.stop();
  }

  static Results.Throughput pairs(int pairs, int inFlightPerPair, Duration warmup, Duration measure)
      throws Exception {
    LongAdder arrivals = new LongAdder();
    java.util.concurrent.atomic.AtomicBoolean running =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    try (AgentRuntime rt = runtime("default")) {
      rt.register(
          AgentType.of(
              "ping", id -> new Bouncer(rt.ref(AgentId.of("pong", id.key())), arrivals, running)));
      rt.register(
          AgentType.of(
              "pong", id -> new Bouncer(rt.ref(AgentId.of("ping", id.key())), arrivals, running)));
      AgentRef[] pings = new AgentRef[pairs];
      for (int p = 0; p < pairs; p++) {
        pings[p] = rt.spawn(AgentId.of("ping", Integer.toString(p)));
        rt.spawn(AgentId.of("pong", Integer.toString(p)));
      }
      Thread.sleep(100);
      for (int k = 0; k < inFlightPerPair; k++) {
        for (AgentRef ping : pings) {
          ping.tell(PAYLOAD);
        }
      }
      Results.Throughput r =
          Saturation.measure(pairs + " pairs", "cfn", warmup, measure, arrivals::sum);
      running.set(false);
      return r;
    }
  }

  /** Sends every message it receives back to its partner while the run lasts. */
  static final class Bouncer implements Agent {
    private final AgentRef partner;
    private final LongAdder arrivals;
    private final java.util.concurrent.atomic.AtomicBoolean running;

    Bouncer(
        AgentRef partner, LongAdder arrivals, java.util.concurrent.atomic.AtomicBoolean running) {
      this.partner = partner;
      this.arrivals = arrivals;
      this.running = running;
    }

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      arrivals.increment();
      if (running.get()) {
        partner.tell(m.payload(), ctx);
      }
    }
  }

  /** Counts replies arriving at one collector agent. */
  static final class Collector implements Agent {
    final AtomicLong replies = new AtomicLong();

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      replies.lazySet(replies.get() + 1);
    }
  }

  static Results.Scale scale(int agents) throws Exception {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    Collector collector = new Collector();
    AgentId collectorId = AgentId.of("collector", "1");
    Histogram spawnNanos = new Histogram(60_000_000_000L, 3);
    try (AgentRuntime rt = runtime("default")) {
      rt.register(AgentType.builder("collector", id -> collector).mailboxCapacity(1 << 21).build());
      rt.register(AgentType.of("cell", id -> new Cell(collectorId)));
      rt.spawn(collectorId);
      long before = usedHeap(memory);
      long t0 = System.nanoTime();
      for (int i = 0; i < agents; i++) {
        long s = System.nanoTime();
        rt.spawn(AgentId.of("cell", Integer.toString(i)));
        spawnNanos.recordValue(System.nanoTime() - s);
      }
      long spawnTook = System.nanoTime() - t0;
      long afterSpawn = usedHeap(memory);
      CountDownLatch done = new CountDownLatch(1);
      long m0 = System.nanoTime();
      for (int i = 0; i < agents; i++) {
        rt.send(AgentId.of("cell", Integer.toString(i)), PAYLOAD);
      }
      awaitCount(collector.replies, agents);
      long roundTook = System.nanoTime() - m0;
      done.countDown();
      long afterMessages = usedHeap(memory);
      return new Results.Scale(
          agents,
          spawnTook / 1e9,
          spawnNanos.getValueAtPercentile(50) / 1000.0,
          spawnNanos.getValueAtPercentile(99) / 1000.0,
          before,
          afterSpawn,
          (double) (afterSpawn - before) / agents,
          afterMessages,
          (double) (afterMessages - before) / agents,
          collector.replies.get(),
          roundTook / 1e9);
    }
  }

  /** A minimal agent: answers any message with one message to the collector. */
  static final class Cell implements Agent {
    private final AgentId collector;

    Cell(AgentId collector) {
      this.collector = collector;
    }

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      ctx.send(collector, PAYLOAD);
    }
  }

  static long usedHeap(MemoryMXBean memory) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  static void awaitCount(AtomicLong counter, long expected) throws InterruptedException {
    awaitCount(counter::get, expected);
  }

  static void awaitCount(LongAdder counter, long expected) throws InterruptedException {
    awaitCount(counter::sum, expected);
  }

  static void awaitCount(java.util.function.LongSupplier counter, long expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (counter.getAsLong() < expected) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "only " + counter.getAsLong() + " of " + expected + " messages arrived within 120 s");
      }
      Thread.sleep(1);
    }
  }
}
