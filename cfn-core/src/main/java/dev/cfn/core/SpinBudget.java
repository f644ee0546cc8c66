package dev.cfn.core;

/**
 * How long one carrier may spin and yield when idle, adapted to the machine's load. The idle
 * strategy gives the budget for a machine with cores to spare; when the machine is oversubscribed,
 * spinning takes the CPU from the threads that have work (the senders, the other carriers), and
 * latency gets worse, not better.
 *
 * <p>Detection: a spinning carrier reads the clock on every pass; a gap of more than {@link
 * #PREEMPTED_NANOS} between two passes (a pass takes well under a microsecond) means the operating
 * system took the core away from it: the machine is oversubscribed. The carrier then cuts its
 * budget to at most the default profile's spin (20 µs) with no yielding, and parks at once. Each
 * time work arrives while it spins without being preempted, and no preemption was seen for {@link
 * #CALM_NANOS}, the budget grows back (doubling, plus a microsecond) up to the strategy's. The calm
 * period keeps the budget down while the machine stays oversubscribed: without it, the spins that
 * happen to pay off between two preemptions would grow it back at once, and the carrier would keep
 * taking cores from the threads with work. So under load the low-latency profile degrades to the
 * default one and below instead of fighting for cores, and it returns to spinning once the load is
 * gone. Parking never delays a wake-up: producers unpark a parked carrier (see {@link Carrier});
 * the park bound is only a safety net.
 *
 * <p>Owned by one carrier thread; no synchronization.
 */
final class SpinBudget {
  /** A gap between two spin passes longer than this means the thread was preempted. */
  static final long PREEMPTED_NANOS = 50_000;

  /** The most a carrier spins after a preemption: the default profile's spin. */
  static final long OVERSUBSCRIBED_SPIN_NANOS = 20_000;

  /** How long after the last preemption the budget stays down before it may grow again. */
  static final long CALM_NANOS = 100_000_000;

  private final long maxSpin;
  private final long maxYield;
  private long spin;
  private long yield;
  private long preemptions;
  private long lastPreemption;
  private boolean everPreempted;

  SpinBudget(IdleStrategy strategy) {
    this.maxSpin = strategy.spin().toNanos();
    this.maxYield = strategy.yield().toNanos();
    this.spin = maxSpin;
    this.yield = maxYield;
  }

  /** Nanoseconds to spin now. */
  long spin() {
    return spin;
  }

  /** Nanoseconds to spin and then yield now, from the start of the idle period. */
  long spinAndYield() {
    return spin + yield;
  }

  /**
   * One spin pass at {@code now} saw {@code gapNanos} since the previous one. Returns true when
   * that shows a preemption: the budget was cut and the carrier should park now.
   */
  boolean preempted(long gapNanos, long now) {
    if (gapNanos <= PREEMPTED_NANOS) {
      return false;
    }
    preemptions++;
    lastPreemption = now;
    everPreempted = true;
    // At once down to the default profile's spin or below, and no yielding: a spinner that the
    // operating system deschedules keeps the spinner's place (senders do not wake a parked carrier
    // while one spins), so every message that arrives meanwhile waits for the spinner's next time
    // slice. Measured beside two busy threads on 2 cores: with the budget only halved,
    // low-latency's
    // one-way P50 was 2.1 ms against default's 3.4 us.
    spin = Math.min(spin / 2, OVERSUBSCRIBED_SPIN_NANOS);
    yield = 0;
    return true;
  }

  /** How often at most {@link #checkLoad} reads the machine's runnable threads. */
  static final long LOAD_CHECK_NANOS = 10_000_000;

  private static final java.nio.file.Path LOADAVG = java.nio.file.Path.of("/proc/loadavg");
  private static final int CORES = Runtime.getRuntime().availableProcessors();
  private long lastLoadCheck = Long.MIN_VALUE / 2;

  /**
   * Before a spin longer than the default profile's: at most every {@link #LOAD_CHECK_NANOS}, reads
   * how many threads are runnable machine-wide (Linux {@code /proc/loadavg}); more than one beyond
   * the cores means spinning would take a core from a thread with work, so the budget is cut as for
   * a preemption (not counted as one). A preemption is only seen once the spinner runs again, and
   * every message that arrived meanwhile waited; this sees the load before the spin starts.
   * Elsewhere (no such file) only preemptions count.
   */
  void checkLoad(long now) {
    if (now - lastLoadCheck < LOAD_CHECK_NANOS) {
      return;
    }
    lastLoadCheck = now;
    // One runnable thread beyond the cores is tolerated: a compiler or GC thread, or another
    // process's, is often runnable for a moment; sustained oversubscription shows more.
    int runnable = runnableThreads();
    if (runnable > CORES + 1) {
      lastPreemption = now;
      everPreempted = true;
      spin = Math.min(spin / 2, OVERSUBSCRIBED_SPIN_NANOS);
      yield = 0;
    }
  }

  /** Threads runnable machine-wide now, the caller included; -1 when unknown. */
  static int runnableThreads() {
    try {
      String s = java.nio.file.Files.readString(LOADAVG); // "0.20 0.18 0.12 3/812 11206"
      int slash = s.indexOf('/');
      int space = s.lastIndexOf(' ', slash);
      return slash < 0 ? -1 : Integer.parseInt(s.substring(space + 1, slash));
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Work arrived at {@code now} while spinning without a preemption: grow back toward the
   * strategy's budget, once the last preemption is {@link #CALM_NANOS} old.
   */
  void rewarded(long now) {
    if (everPreempted && now - lastPreemption < CALM_NANOS) {
      return;
    }
    if (spin < maxSpin) {
      spin = Math.min(maxSpin, spin * 2 + 1_000);
    }
    if (yield < maxYield) {
      yield = Math.min(maxYield, yield * 2 + 1_000);
    }
  }

  /** Preemptions seen so far. */
  long preemptions() {
    return preemptions;
  }
}
