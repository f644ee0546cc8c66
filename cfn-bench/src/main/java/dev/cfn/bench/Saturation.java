package dev.cfn.bench;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Saturation throughput, the same way for every system: a producer sends as fast as it can while
 * keeping at most {@code window} messages in flight (so an unbounded mailbox cannot grow without
 * limit), and the rate is arrivals counted by the consumer over the measured window.
 */
final class Saturation {
  private Saturation() {}

  static final int BATCH = 256;

  static Results.Throughput run(
      String scenario,
      String system,
      Duration warmup,
      Duration measure,
      int window,
      AtomicLong received,
      Runnable sendOne)
      throws InterruptedException {
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread producer =
        Thread.ofPlatform()
            .name("bench-producer")
            .start(
                () -> {
                  long sent = 0;
                  while (!stop.get()) {
                    // Check the window once per batch, so the producer does not read the
                    // consumer's counter (and steal its cache line) on every message.
                    while (sent - received.get() > window - BATCH) {
                      Thread.onSpinWait();
                    }
                    for (int k = 0; k < BATCH; k++) {
                      sendOne.run();
                    }
                    sent += BATCH;
                  }
                });
    Results.Throughput r = measure(scenario, system, warmup, measure, received::get);
    stop.set(true);
    producer.join();
    return r;
  }

  static Results.Throughput measure(
      String scenario, String system, Duration warmup, Duration measure, LongSupplier arrivals)
      throws InterruptedException {
    Thread.sleep(warmup.toMillis());
    Cpu cpu = new Cpu();
    long n0 = arrivals.getAsLong();
    long t0 = System.nanoTime();
    Thread.sleep(measure.toMillis());
    long n1 = arrivals.getAsLong();
    long t1 = System.nanoTime();
    cpu.stop();
    double seconds = (t1 - t0) / 1e9;
    long messages = n1 - n0;
    return new Results.Throughput(
        scenario, system, messages, seconds, Math.round(messages / seconds), cpu.processCores());
  }
}
