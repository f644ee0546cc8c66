package dev.cfn.cluster.nats;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded waiting for a condition in tests: never sleep-and-hope. */
final class Await {
  private Await() {}

  static void until(Duration timeout, String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not true after " + timeout + ": " + what);
      }
      Thread.sleep(10);
    }
  }
}
