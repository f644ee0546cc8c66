package dev.cfn.bench;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Drives one {@link AgentsContender} at a fixed concurrency, closed loop: {@code c} virtual threads
 * each run a task, check its answer, and start the next, through a warm-up and then a measured
 * window (at least its time, and until as many tasks as threads have ended), then the measured
 * window (at least its time, and until a task has ended in it). Latency is each task's time from
 * start to checked answer (HdrHistogram, 3 digits); tasks per second count the tasks that ended
 * inside the window. CPU is the whole process's CPU time ({@code
 * OperatingSystemMXBean.getProcessCpuTime}) and allocation the heap allocated by every thread,
 * ended ones included ({@code com.sun.management.ThreadMXBean.getTotalThreadAllocatedBytes}; a
 * virtual thread's allocations count on its carrier), both over the window and divided by the tasks
 * in it: they include the driver's own small share, the same for every contender.
 */
final class AgentsDriver {
  private AgentsDriver() {}

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static final int WARMUP = 0;
  private static final int MEASURE = 1;
  private static final int STOP = 2;

  /**
   * One measured cell: a scenario at one concurrency.
   *
   * @param tasks tasks that ended in the measured window
   * @param allTasks every task that ended, warm-up and stragglers after the window included
   * @param failures tasks that threw or answered wrongly, warm-up included
   * @param firstFailure what the first failure was, or null
   * @param toolCalls tool calls made in the window (0 for a contender without tools)
   */
  record Cell(
      String scenario,
      int concurrency,
      long tasks,
      long allTasks,
      double seconds,
      double tasksPerSecond,
      double p50Us,
      double p99Us,
      double maxUs,
      double cpuUsPerTask,
      double allocBytesPerTask,
      long toolCalls,
      long failures,
      String firstFailure) {

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scenario", scenario);
      m.put("concurrency", concurrency);
      m.put("tasks", tasks);
      m.put("allTasks", allTasks);
      m.put("seconds", seconds);
      m.put("tasksPerSecond", tasksPerSecond);
      m.put("p50Us", p50Us);
      m.put("p99Us", p99Us);
      m.put("maxUs", maxUs);
      m.put("cpuUsPerTask", cpuUsPerTask);
      m.put("allocBytesPerTask", allocBytesPerTask);
      m.put("toolCalls", toolCalls);
      m.put("failures", failures);
      m.put("firstFailure", firstFailure);
      return m;
    }

    @SuppressWarnings("unchecked")
    static Cell of(Map<String, Object> m) {
      return new Cell(
          (String) m.get("scenario"),
          ((Number) m.get("concurrency")).intValue(),
          ((Number) m.get("tasks")).longValue(),
          ((Number) m.get("allTasks")).longValue(),
          ((Number) m.get("seconds")).doubleValue(),
          ((Number) m.get("tasksPerSecond")).doubleValue(),
          ((Number) m.get("p50Us")).doubleValue(),
          ((Number) m.get("p99Us")).doubleValue(),
          ((Number) m.get("maxUs")).doubleValue(),
          ((Number) m.get("cpuUsPerTask")).doubleValue(),
          ((Number) m.get("allocBytesPerTask")).doubleValue(),
          ((Number) m.get("toolCalls")).longValue(),
          ((Number) m.get("failures")).longValue(),
          (String) m.get("firstFailure"));
    }
  }

  /** One driver thread's counts; read by the main thread after it joined the thread. */
  private static final class Slot {
    final Histogram latency = new Histogram(3);
    long tasks;
    long allTasks;
    long failures;
    String firstFailure;
  }

  static Cell run(
      String scenario,
      AgentsContender contender,
      int concurrency,
      Duration warmup,
      Duration measure)
      throws InterruptedException {
    // read by every driver thread after each task (a volatile read publishes the phase change);
    // each thread's counts are read by this thread after joining it
    AtomicInteger phase = new AtomicInteger(WARMUP);
    LongAdder warmedUp = new LongAdder(); // tasks ended in the warm-up
    LongAdder measured = new LongAdder(); // tasks ended in the window
    Slot[] slots = new Slot[concurrency];
    List<Thread> threads = new ArrayList<>();
    String expected = contender.expected();
    for (int i = 0; i < concurrency; i++) {
      Slot slot = new Slot();
      slots[i] = slot;
      int n = i;
      threads.add(
          Thread.ofVirtual()
              .name("driver-" + i)
              .start(
                  () -> {
                    int now;
                    do {
                      long start = System.nanoTime();
                      String failure = null;
                      try {
                        String answer = contender.task(n);
                        if (!expected.equals(answer)) {
                          failure = "answer '" + answer + "', expected '" + expected + "'";
                        }
                      } catch (Exception | Error e) {
                        failure = e.getClass().getSimpleName() + ": " + e.getMessage();
                      }
                      long end = System.nanoTime();
                      now = phase.get();
                      slot.allTasks++;
                      if (now == WARMUP) {
                        warmedUp.increment();
                      } else if (now == MEASURE) {
                        measured.increment();
                      }
                      if (failure != null) {
                        slot.failures++;
                        if (slot.firstFailure == null) {
                          slot.firstFailure = failure;
                        }
                      } else if (now == MEASURE) {
                        slot.tasks++;
                        slot.latency.recordValue(end - start);
                      }
                    } while (now != STOP);
                  }));
    }
    // the warm-up lasts its time and until as many tasks as slots have ended (a cold first call,
    // class loading and all, can take longer than a short warm-up on a busy machine)
    Thread.sleep(warmup.toMillis());
    long waitUntil = System.nanoTime() + CfnContenders.TIMEOUT.toNanos();
    while (warmedUp.sum() < concurrency && System.nanoTime() < waitUntil) {
      Thread.sleep(10);
    }
    long tools0 = contender.toolCalls();
    long cpu0 = OS.getProcessCpuTime();
    long alloc0 = THREADS.getTotalThreadAllocatedBytes();
    long t0 = System.nanoTime();
    phase.set(MEASURE);
    Thread.sleep(measure.toMillis());
    waitUntil = System.nanoTime() + CfnContenders.TIMEOUT.toNanos();
    while (measured.sum() == 0 && System.nanoTime() < waitUntil) {
      Thread.sleep(10); // a window without a task ended in it measures nothing
    }
    phase.set(STOP);
    long t1 = System.nanoTime();
    long cpu1 = OS.getProcessCpuTime();
    long alloc1 = THREADS.getTotalThreadAllocatedBytes();
    long tools1 = contender.toolCalls();
    for (Thread t : threads) {
      t.join(CfnContenders.TIMEOUT.toMillis() * 2);
    }
    Histogram all = new Histogram(3);
    long tasks = 0;
    long allTasks = 0;
    long failures = 0;
    String firstFailure = null;
    for (Slot s : slots) {
      all.add(s.latency);
      tasks += s.tasks;
      allTasks += s.allTasks;
      failures += s.failures;
      if (firstFailure == null) {
        firstFailure = s.firstFailure;
      }
    }
    double seconds = (t1 - t0) / 1e9;
    long per = Math.max(1, tasks);
    return new Cell(
        scenario,
        concurrency,
        tasks,
        allTasks,
        round(seconds, 3),
        round(tasks / seconds, 1),
        us(all.getValueAtPercentile(50)),
        us(all.getValueAtPercentile(99)),
        us(all.getMaxValue()),
        round((cpu1 - cpu0) / 1e3 / per, 2),
        round((double) (alloc1 - alloc0) / per, 0),
        tools1 - tools0,
        failures,
        firstFailure);
  }

  private static double us(long nanos) {
    return round(nanos / 1e3, 2);
  }

  static double round(double v, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
