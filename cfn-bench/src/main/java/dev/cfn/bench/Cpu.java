package dev.cfn.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time over a measured window: the whole process, and the sender thread, so that the CPU the
 * runtime itself burns can be reported apart from the benchmark's spinning sender.
 */
final class Cpu {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final long wall0 = System.nanoTime();
  private final long process0 = OS.getProcessCpuTime();
  private final long thread0 = THREADS.getCurrentThreadCpuTime();
  private long wall;
  private long process;
  private long thread;

  /** Ends the window; call on the same thread that started it. */
  Cpu stop() {
    wall = System.nanoTime() - wall0;
    process = OS.getProcessCpuTime() - process0;
    thread = THREADS.getCurrentThreadCpuTime() - thread0;
    return this;
  }

  /** CPU time of the whole process over the window, in nanoseconds. */
  long processNanos() {
    return process;
  }

  /** CPU time of everything but the calling thread over the window, in nanoseconds. */
  long othersNanos() {
    return Math.max(0, process - thread);
  }

  /** Cores used by the whole process on average over the window. */
  double processCores() {
    return round((double) process / wall);
  }

  /** Cores used by everything but the calling (sender) thread. */
  double othersCores() {
    return round((double) Math.max(0, process - thread) / wall);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
