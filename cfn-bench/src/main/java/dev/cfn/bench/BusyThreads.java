package dev.cfn.bench;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Platform threads that burn CPU until closed, to oversubscribe the machine beside a scenario (the
 * "oversubscribed" scenario runs the paced one-way run with two of them).
 */
final class BusyThreads implements AutoCloseable {
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread[] threads;

  /** The sum the loops compute, published so that the JIT cannot remove them. */
  static volatile long sink;

  BusyThreads(int count) {
    threads = new Thread[count];
    for (int i = 0; i < count; i++) {
      threads[i] =
          Thread.ofPlatform()
              .daemon()
              .name("bench-busy-" + i)
              .start(
                  () -> {
                    long x = 1;
                    while (running.get()) {
                      for (int k = 0; k < 1_000; k++) {
                        x = x * 6364136223846793005L + 1442695040888963407L;
                      }
                    }
                    sink = x;
                  });
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join();
    }
  }
}
