package dev.cfn.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

/**
 * One platform thread that runs turns of the non-blocking agents assigned to it. Agents are
 * assigned round-robin at spawn and stay on their carrier, which keeps their state in one core's
 * cache.
 *
 * <p>Idle strategy: spin, then yield, then park (see {@link IdleStrategy}). Wake-up: the carrier
 * sets {@code parked}, re-checks its run queue, then parks; a producer offers to the run queue,
 * then reads {@code parked} and, if it wins the CAS that clears it, unparks the thread. Both sides
 * write then read volatile locations (the queue's producer index is written by CAS), so one of them
 * sees the other and no wake-up is lost; the CAS keeps concurrent producers from issuing redundant
 * unpark system calls.
 *
 * <p>Counters are written by this thread only and published with release stores, which cost no
 * fence on x86.
 */
final class Carrier implements Dispatcher, Runnable {
  private static final VarHandle PARKED;

  static {
    try {
      PARKED = MethodHandles.lookup().findVarHandle(Carrier.class, "parked", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final long MAX_PARK_NANOS = 100_000_000L;

  final int index;
  private final MpscUnboundedAtomicArrayQueue<AgentCell> runQueue =
      new MpscUnboundedAtomicArrayQueue<>(1024);
  private final long spinNanos;
  private final long yieldUntilNanos;
  private final LatencySampler sampler;
  private final Thread thread;
  private volatile boolean running = true;

  @SuppressWarnings("unused") // accessed through PARKED
  private volatile boolean parked;

  // Single-writer counters, read by metrics.
  final AtomicLong delivered = new AtomicLong();
  final AtomicLong idleNanos = new AtomicLong();
  final AtomicLong idleSince = new AtomicLong(); // 0 when busy
  private long localDelivered;
  final long startedNanos = System.nanoTime();

  Carrier(int index, IdleStrategy idle, LatencySampler sampler, String namePrefix) {
    this.index = index;
    this.spinNanos = idle.spin().toNanos();
    this.yieldUntilNanos = spinNanos + idle.yield().toNanos();
    this.sampler = sampler;
    this.thread = Thread.ofPlatform().name(namePrefix + index).daemon(true).unstarted(this);
  }

  void start() {
    thread.start();
  }

  boolean isCurrentThread() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void execute(AgentCell cell) {
    runQueue.offer(cell);
    if ((boolean) PARKED.getVolatile(this) && PARKED.compareAndSet(this, true, false)) {
      LockSupport.unpark(thread);
    }
  }

  @Override
  public void delivered(long createdNanos) {
    long n = ++localDelivered;
    delivered.lazySet(n);
    sampler.sample(n, createdNanos);
  }

  /** True when this carrier has nothing queued and is not running a turn. */
  boolean isIdle() {
    return idleSince.get() != 0 && runQueue.isEmpty();
  }

  @Override
  public void run() {
    long idleStart = 0;
    while (running) {
      AgentCell cell = runQueue.relaxedPoll();
      if (cell != null) {
        if (idleStart != 0) {
          idleNanos.lazySet(idleNanos.get() + (System.nanoTime() - idleStart));
          idleSince.lazySet(0);
          idleStart = 0;
        }
        cell.runTurn();
        continue;
      }
      long now = System.nanoTime();
      if (idleStart == 0) {
        idleStart = now;
        idleSince.lazySet(now);
      }
      long idleFor = now - idleStart;
      if (idleFor < spinNanos) {
        Thread.onSpinWait();
      } else if (idleFor < yieldUntilNanos) {
        Thread.yield();
      } else {
        PARKED.setVolatile(this, true);
        if (runQueue.isEmpty() && running) {
          LockSupport.parkNanos(this, MAX_PARK_NANOS);
        }
        PARKED.setVolatile(this, false);
      }
    }
  }

  void stop() {
    running = false;
    LockSupport.unpark(thread);
  }

  void join(long millis) throws InterruptedException {
    thread.join(millis);
  }

  /** Busy nanoseconds since start, for the utilization gauge. */
  long busyNanos(long now) {
    long idle = idleNanos.get();
    long since = idleSince.get();
    if (since != 0) {
      idle += now - since;
    }
    return Math.max(0, (now - startedNanos) - idle);
  }
}
