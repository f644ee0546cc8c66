package dev.cfn.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One platform thread that runs turns of non-blocking agents. The carriers of a runtime form a
 * small work-stealing pool:
 *
 * <ul>
 *   <li>Locality: when a handler on carrier X sends to an idle agent, that agent is queued on X, so
 *       a conversation between agents stays on one core's cache instead of crossing cores on every
 *       message (the same choice a fork-join pool makes).
 *   <li>Home: a send from outside the pool queues the agent on its home carrier, assigned
 *       round-robin at spawn.
 *   <li>Stealing: a carrier with nothing queued takes agents from its peers' queues; a carrier that
 *       queues work behind a backlog wakes a parked peer to steal it. So locality never leaves a
 *       core idle while another is overloaded.
 * </ul>
 *
 * <p>Run queues are JDK {@link ConcurrentLinkedQueue}s (any thread may offer and poll), one entry
 * per turn, not per message. An agent is in at most one queue at a time and runs on one carrier at
 * a time: its schedule flag ({@link AgentCell}) guarantees that, wherever it is queued.
 *
 * <p>Idle strategy: spin (stealing as it goes), then yield, then park (see {@link IdleStrategy}),
 * within a {@link SpinBudget} that shrinks when the carrier finds itself preempted while spinning
 * (an oversubscribed machine) and grows back when spinning pays off. At most half the carriers (at
 * least one) spin at a time; the others park at once. On a small machine this leaves cores to the
 * threads that send, and a send from outside the pool does not wake a parked carrier while one is
 * spinning, since the spinner scans every queue. Wake-up: the carrier sets {@code parked},
 * re-checks the queues, then parks; a producer offers, then reads {@code parked} and, if it wins
 * the CAS that clears it, unparks the thread. Both sides write then read volatile locations, so one
 * of them sees the other and no wake-up is lost; the CAS keeps concurrent producers from issuing
 * redundant unpark system calls.
 *
 * <p>Counters are written by this thread only and published with release stores.
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

  /** Handler calls between two reads of the clock within a turn. */
  static final int CLOCK_EVERY = 8;

  /** A carrier's thread; lets a send find the carrier it is running on without a lookup. */
  static final class CarrierThread extends Thread {
    final Carrier carrier;
    long nextId;
    long idLimit;

    /** The agent whose turn this thread is running, or null between turns. */
    AgentCell running;

    /**
     * A recent {@link System#nanoTime()}: read at the start of every turn and after every {@link
     * #CLOCK_EVERY} handler calls in it. Messages sent by handlers on this thread are stamped with
     * it, which saves a clock read (about 25 ns here) per send at the price of stamping a message
     * at most {@code CLOCK_EVERY} handler calls early.
     */
    long clock;

    /**
     * This thread's running counts of messages handled and of messages its handlers sent, kept here
     * and not in {@link Carrier}: they change on every message, and the carrier object is read by
     * its peers (run queue, parked flag) whenever they steal or wake, so counters there would put a
     * line written on every message in the cache of every other core. Published through {@link
     * Carrier#delivered} and {@link Carrier#accepted}.
     */
    long deliveredCount;

    long acceptedCount;

    CarrierThread(Carrier carrier, String name) {
      super(null, carrier, name, 0, false);
      this.carrier = carrier;
      setDaemon(true);
    }
  }

  final int index;
  private final java.util.concurrent.atomic.AtomicInteger spinning;
  private final int maxSpinning;
  private final ConcurrentLinkedQueue<AgentCell> runQueue = new ConcurrentLinkedQueue<>();
  private final SpinBudget budget;
  private final LatencySampler sampler;
  private final CarrierThread thread;
  private Carrier[] peers = new Carrier[0];
  private volatile boolean running = true;

  @SuppressWarnings("unused") // accessed through PARKED
  private volatile boolean parked;

  // Single-writer counters, read by metrics and by the drain at shutdown.
  final AtomicLong delivered = new AtomicLong();

  /** Messages handled off the carrier threads (see {@link #delivered(long)}); none expected. */
  final java.util.concurrent.atomic.LongAdder deliveredElsewhere =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * Messages that handlers on this carrier's thread sent into this runtime's mailboxes (the
   * carrier's part of {@link Admit#accepted}): written by this thread only, with release stores, so
   * the hot path pays no atomic read-modify-write per message. See {@link #countAccepted}.
   */
  final AtomicLong accepted = new AtomicLong();

  /** A copy of the spin budget's preemption count, for the metrics thread. */
  private final AtomicLong preemptions = new AtomicLong();

  final AtomicLong idleNanos = new AtomicLong();
  final AtomicLong idleSince = new AtomicLong(); // 0 while busy
  final long startedNanos = System.nanoTime();

  Carrier(
      int index,
      IdleStrategy idle,
      LatencySampler sampler,
      String namePrefix,
      java.util.concurrent.atomic.AtomicInteger spinning,
      int maxSpinning) {
    this.index = index;
    this.spinning = spinning;
    this.maxSpinning = maxSpinning;
    this.budget = new SpinBudget(idle);
    this.sampler = sampler;
    this.thread = new CarrierThread(this, namePrefix + index);
  }

  /** Wires the pool (every carrier of the runtime, this one included) and starts the thread. */
  void start(Carrier[] pool) {
    this.peers = pool;
    thread.start();
  }

  @Override
  public void execute(AgentCell cell) {
    Thread t = Thread.currentThread();
    Carrier local = t instanceof CarrierThread ct && ct.carrier.peers == peers ? ct.carrier : null;
    if (local != null) {
      // A send from a handler queues the agent here (locality). It would wait for this carrier's
      // current turn to end: fine when the turn ends with this handler, but if other agents are
      // queued already (backlog) or the sending agent has more mail (its turn goes on for up to
      // `throughput` messages), an idle peer should take it now instead of waiting for its park
      // bound. With a spinner (it scans every queue) nobody needs waking; otherwise wake one parked
      // peer (a volatile read per peer when none is parked; the CAS in wake() elects one waker).
      boolean backlog = !local.runQueue.isEmpty();
      local.runQueue.offer(cell);
      if (spinning.get() == 0 && (backlog || turnGoesOn((CarrierThread) t))) {
        local.wakeIdlePeer();
      }
    } else {
      boolean backlog = !runQueue.isEmpty();
      runQueue.offer(cell);
      if (spinning.get() > 0) {
        return; // a spinning carrier scans every queue and will take it
      }
      if (!wake() && backlog) {
        wakeIdlePeer();
      }
    }
  }

  /** True when the agent whose turn {@code t} runs has more mail, so its turn goes on. */
  private static boolean turnGoesOn(CarrierThread t) {
    AgentCell running = t.running;
    return running != null && running.hasMail();
  }

  /** True when the calling thread is a carrier of the pool {@code pool}. */
  static CarrierThread current(Carrier[] pool) {
    return Thread.currentThread() instanceof CarrierThread ct && ct.carrier.peers == pool
        ? ct
        : null;
  }

  private boolean wake() {
    if ((boolean) PARKED.getVolatile(this) && PARKED.compareAndSet(this, true, false)) {
      LockSupport.unpark(thread);
      return true;
    }
    return false;
  }

  private void wakeIdlePeer() {
    for (Carrier peer : peers) {
      if (peer != this && peer.wake()) {
        return;
      }
    }
  }

  @Override
  public void delivered(long createdNanos) {
    // A turn runs on whichever carrier took the agent (its home or a thief), so count on the
    // carrier whose thread this is: each counter keeps its single writer.
    if (Thread.currentThread() instanceof CarrierThread ct) {
      long n = ++ct.deliveredCount;
      ct.carrier.delivered.lazySet(n);
      sampler.sample(ct.carrier.index, n, createdNanos);
    } else {
      // Not reached: a carrier's agents run their turns on the carrier threads. Counted anyway,
      // without disturbing the single-writer counters.
      deliveredElsewhere.increment();
      sampler.sampleShared(createdNanos);
    }
  }

  @Override
  public void started(long createdNanos) {
    // Times the message that delivered() will count next on this thread: the same sequence.
    if (Thread.currentThread() instanceof CarrierThread ct) {
      sampler.sampleStart(ct.carrier.index, ct.deliveredCount + 1, createdNanos);
    } else {
      sampler.sampleStartShared(createdNanos);
    }
  }

  /**
   * Counts one message accepted by a send on this carrier's own thread.
   *
   * <p>Memory ordering (the drain, see {@code AgentRuntime#isQuiet}): a handler's sends are counted
   * here before the handler's own message is counted finished in {@link #delivered}, by the same
   * thread, each with a release store. The drain reads the finished counts (acquire) before the
   * accepted counts, so if it sees a handler's message finished it also sees every message that
   * handler sent counted accepted; it can never see the two sums equal while a message sent by a
   * finished handler is still pending. Senders off the carriers count in {@link Admit#accepted} (a
   * full fence) as before.
   */
  static void countAccepted(CarrierThread ct) {
    ct.carrier.accepted.lazySet(++ct.acceptedCount);
  }

  /** True when this carrier has nothing queued and is not running a turn. */
  boolean isIdle() {
    return idleSince.get() != 0 && runQueue.isEmpty();
  }

  private AgentCell next() {
    AgentCell cell = runQueue.poll();
    if (cell != null) {
      return cell;
    }
    Carrier[] pool = peers;
    for (int i = 1; i < pool.length; i++) {
      cell = pool[(index + i) % pool.length].runQueue.poll();
      if (cell != null) {
        return cell;
      }
    }
    return null;
  }

  private boolean anyQueued() {
    for (Carrier peer : peers) {
      if (!peer.runQueue.isEmpty()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void run() {
    long idleStart = 0; // start of the current idle period, for utilization; 0 while busy
    long spinStart = 0; // start of the current spin-then-yield phase
    long lastPass = 0; // clock of the previous idle pass, to detect preemption (SpinBudget)
    boolean spinner = false;
    while (running) {
      AgentCell cell = next();
      if (cell != null) {
        if (idleStart != 0) {
          if (spinner) {
            spinning.decrementAndGet();
            spinner = false;
            budget.rewarded(lastPass); // spinning paid off without a preemption
          }
          idleNanos.lazySet(idleNanos.get() + (System.nanoTime() - idleStart));
          idleSince.lazySet(0);
          idleStart = 0;
        }
        thread.clock = System.nanoTime();
        cell.runTurn();
        continue;
      }
      long now = System.nanoTime();
      if (idleStart == 0) {
        idleStart = now;
        idleSince.lazySet(now);
        spinStart = now;
        lastPass = now;
        spinner = tryStartSpinning();
        if (spinner && budget.spin() > SpinBudget.OVERSUBSCRIBED_SPIN_NANOS) {
          budget.checkLoad(now); // a long spin is about to start: is the machine oversubscribed?
        }
      }
      long idleFor = now - spinStart;
      boolean preempted = spinner && budget.preempted(now - lastPass, now);
      if (preempted) {
        preemptions.lazySet(budget.preemptions()); // published for the metrics thread
      }
      lastPass = now;
      if (spinner && !preempted && idleFor < budget.spin()) {
        Thread.onSpinWait();
      } else if (spinner && !preempted && idleFor < budget.spinAndYield()) {
        Thread.yield();
      } else {
        if (spinner) {
          // Leave the spinner budget before re-checking the queues (see execute()).
          spinning.decrementAndGet();
          spinner = false;
        }
        PARKED.setVolatile(this, true);
        if (!anyQueued() && running) {
          LockSupport.parkNanos(this, MAX_PARK_NANOS);
        }
        PARKED.setVolatile(this, false);
        spinStart = System.nanoTime();
        lastPass = spinStart;
        spinner = tryStartSpinning();
      }
    }
    if (spinner) {
      spinning.decrementAndGet();
    }
  }

  /** At most {@code maxSpinning} carriers spin at once, so spinning never starves senders. */
  private boolean tryStartSpinning() {
    for (int n = spinning.get(); n < maxSpinning; n = spinning.get()) {
      if (spinning.compareAndSet(n, n + 1)) {
        return true;
      }
    }
    return false;
  }

  void stop() {
    running = false;
    LockSupport.unpark(thread);
  }

  void join(long millis) throws InterruptedException {
    thread.join(millis);
  }

  /** Times this carrier found itself preempted while spinning (an oversubscribed machine). */
  long preemptions() {
    return preemptions.get();
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
