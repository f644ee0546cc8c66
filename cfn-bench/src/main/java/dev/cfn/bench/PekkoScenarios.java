package dev.cfn.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The same scenarios as {@link CfnScenarios} on Apache Pekko typed actors, in the same JVM, with
 * the same payloads, pacing, windows and counting. Pekko runs its default dispatcher, with the
 * dispatcher throughput set to cfn's default (64 messages per actor per turn) so neither side gets
 * a batching advantage.
 */
final class PekkoScenarios {
  private PekkoScenarios() {}

  static final int THROUGHPUT = 64;

  static Config config() {
    return ConfigFactory.parseString(
            "pekko.actor.default-dispatcher.throughput = "
                + THROUGHPUT
                + "\npekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING"
                + "\npekko.log-dead-letters = off")
        .withFallback(ConfigFactory.load());
  }

  static ActorSystem<Void> system() {
    return ActorSystem.create(Behaviors.empty(), "bench", config());
  }

  record Stamp(long intended, boolean measured) {}

  record Ping(long intended, boolean measured, ActorRef<Ping> replyTo) {}

  static Results.Latency oneWay(int rate, Duration warmup, Duration measure) throws Exception {
    Histogram histogram = new Histogram(60_000_000_000L, 3);
    AtomicLong received = new AtomicLong();
    Behavior<Stamp> sinkBehavior =
        Behaviors.receiveMessage(
            s -> {
              if (s.measured()) {
                histogram.recordValue(Math.max(0, System.nanoTime() - s.intended()));
              }
              received.lazySet(received.get() + 1);
              return Behaviors.same();
            });
    ActorSystem<Void> system = system();
    try {
      ActorRef<Stamp> sink = system.systemActorOf(sinkBehavior, "sink", Props.empty());
      Pacer.Run run =
          Pacer.run(
              rate, warmup, measure, () -> {}, (t, measured) -> sink.tell(new Stamp(t, measured)));
      CfnScenarios.awaitCount(received, run.total());
      return Results.Latency.of(
          "one-way",
          "pekko",
          "default",
          rate,
          histogram,
          run.cpu().processCores(),
          run.cpu().othersCores());
    } finally {
      terminate(system);
    }
  }

  static Results.Latency requestReply(int rate, Duration warmup, Duration measure)
      throws Exception {
    Recorder recorder = new Recorder(60_000_000_000L, 3);
    LongAdder replies = new LongAdder();
    Behavior<Ping> echoBehavior =
        Behaviors.receiveMessage(
            p -> {
              p.replyTo().tell(p);
              return Behaviors.same();
            });
    ActorSystem<Void> system = system();
    try {
      ActorRef<Ping> echo = system.systemActorOf(echoBehavior, "echo", Props.empty());
      Duration timeout = Duration.ofSeconds(30);
      Pacer.Run run =
          Pacer.run(
              rate,
              warmup,
              measure,
              recorder::reset,
              (intended, measured) ->
                  AskPattern.<Ping, Ping>ask(
                          echo,
                          replyTo -> new Ping(intended, measured, replyTo),
                          timeout,
                          system.scheduler())
                      .thenAccept(
                          r -> {
                            if (measured) { // a warm-up reply may land after the reset
                              recorder.recordValue(Math.max(0, System.nanoTime() - intended));
                            }
                            replies.increment();
                          }));
      CfnScenarios.awaitCount(replies, run.total());
      return Results.Latency.of(
          "request-reply",
          "pekko",
          "default",
          rate,
          recorder.getIntervalHistogram(),
          run.cpu().processCores(),
          run.cpu().othersCores());
    } finally {
      terminate(system);
    }
  }

  static Results.Throughput oneToOne(Duration warmup, Duration measure, int window)
      throws Exception {
    AtomicLong received = new AtomicLong();
    Behavior<Object> sinkBehavior =
        Behaviors.receiveMessage(
            m -> {
              received.lazySet(received.get() + 1);
              return Behaviors.same();
            });
    ActorSystem<Void> system = system();
    try {
      ActorRef<Object> sink = system.systemActorOf(sinkBehavior, "sink", Props.empty());
      return Saturation.run(
          "1->1",
          "pekko",
          warmup,
          measure,
          window,
          received,
          () -> sink.tell(CfnScenarios.PAYLOAD));
    } finally {
      terminate(system);
    }
  }

  record Partner(ActorRef<Object> ref) {}

  static Behavior<Object> bouncer(LongAdder arrivals, AtomicBoolean running) {
    return Behaviors.receive(Object.class)
        .onMessage(Partner.class, p -> bouncing(p.ref(), arrivals, running))
        .build();
  }

  static Behavior<Object> bouncing(
      ActorRef<Object> partner, LongAdder arrivals, AtomicBoolean running) {
    return Behaviors.receiveMessage(
        m -> {
          arrivals.increment();
          if (running.get()) {
            partner.tell(m);
          }
          return Behaviors.same();
        });
  }

  static Results.Throughput pairs(int pairs, int inFlightPerPair, Duration warmup, Duration measure)
      throws Exception {
    LongAdder arrivals = new LongAdder();
    AtomicBoolean running = new AtomicBoolean(true);
    ActorSystem<Void> system = system();
    try {
      @SuppressWarnings("unchecked")
      ActorRef<Object>[] pings = new ActorRef[pairs];
      for (int p = 0; p < pairs; p++) {
        ActorRef<Object> ping =
            system.systemActorOf(bouncer(arrivals, running), "ping-" + p, Props.empty());
        ActorRef<Object> pong =
            system.systemActorOf(bouncer(arrivals, running), "pong-" + p, Props.empty());
        ping.tell(new Partner(pong));
        pong.tell(new Partner(ping));
        pings[p] = ping;
      }
      Thread.sleep(100);
      for (int k = 0; k < inFlightPerPair; k++) {
        for (ActorRef<Object> ping : pings) {
          ping.tell(CfnScenarios.PAYLOAD);
        }
      }
      Results.Throughput r =
          Saturation.measure(pairs + " pairs", "pekko", warmup, measure, arrivals::sum);
      running.set(false);
      return r;
    } finally {
      terminate(system);
    }
  }

  private static void terminate(ActorSystem<Void> system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
  }
}
