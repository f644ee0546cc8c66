package dev.cfn.ai.process;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs an action if it is not disarmed within a timeout: the handler arms one around a blocking
 * exchange with a long-lived process and the action kills the process tree, which ends the blocked
 * read or write. Exactly one of disarm and fire wins (a compare-and-set), so the handler always
 * knows whether the kill happened. It waits on a virtual thread, which costs next to nothing.
 */
final class Watchdog {
  private static final int ARMED = 0;
  private static final int DISARMED = 1;
  private static final int FIRED = 2;

  private final AtomicInteger state = new AtomicInteger(ARMED);
  private final CountDownLatch disarmed = new CountDownLatch(1);
  private final CountDownLatch actionDone = new CountDownLatch(1);

  private Watchdog() {}

  /** Starts waiting; runs {@code action} once {@code timeout} passes without {@link #disarm()}. */
  static Watchdog arm(Duration timeout, Runnable action) {
    Watchdog w = new Watchdog();
    Thread.ofVirtual()
        .name("cfn-process-watchdog")
        .start(
            () -> {
              try {
                if (w.disarmed.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                  return;
                }
              } catch (InterruptedException e) {
                return; // nobody interrupts this thread but the JVM at exit
              }
              if (w.state.compareAndSet(ARMED, FIRED)) {
                try {
                  action.run();
                } finally {
                  w.actionDone.countDown();
                }
              }
            });
    return w;
  }

  /**
   * Disarms the watchdog. Returns false if that stopped it in time; true if it fired, after its
   * action has finished.
   */
  boolean disarm() {
    if (state.compareAndSet(ARMED, DISARMED)) {
      disarmed.countDown();
      return false;
    }
    boolean interrupted = false;
    while (true) {
      try {
        actionDone.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return true;
  }
}
