package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Helpers shared by the tests. The waits here are safety nets: a test waits for a condition and
 * then asserts behaviour; the timeouts are generous so a busy machine never fails a correct run.
 */
final class TestSupport {
  /** How long any single wait may last before the test gives up. */
  static final Duration WAIT = Duration.ofSeconds(30);

  private TestSupport() {}

  /** A runtime with two carriers and no JVM meters, which keeps the tests light. */
  static AgentRuntime.Builder builder() {
    return AgentRuntime.builder().carriers(2).jvmMetrics(false);
  }

  static AgentRuntime runtime() {
    return builder().build();
  }

  /** Waits for {@code latch}; fails naming {@code what} if it does not open in time. */
  static void await(CountDownLatch latch, String what) {
    try {
      assertThat(latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
          .as("waiting for %s (%d still to count down)", what, latch.getCount())
          .isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted while waiting for " + what);
    }
  }

  /** Polls {@code condition} until it holds; fails naming {@code what} if it never does. */
  static void eventually(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("condition never held: " + what);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + what);
      }
    }
  }

  /** Waits for {@code latch} inside a handler, ignoring interrupts (as a blocked call might). */
  static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    long end = System.nanoTime() + WAIT.toNanos();
    while (latch.getCount() > 0 && System.nanoTime() - end < 0) {
      try {
        latch.await(end - System.nanoTime(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Awaits {@code latch} inside a handler; a handler must not hang forever if a test fails. */
  static void block(CountDownLatch latch) throws InterruptedException {
    if (!latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("test latch was never released");
    }
  }
}
