package dev.cfn.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's record of one live agent: its instance, its mailbox (created on first message), its
 * scheduling state and its supervision bookkeeping. It is also the agent's {@link AgentContext},
 * which saves an object per agent.
 *
 * <p>Scheduling: {@code scheduled} is 0 (idle) or 1 (queued on or running in its dispatcher). A
 * producer enqueues, then moves 0→1 by CAS and hands the cell to its dispatcher; so a cell is in at
 * most one run queue, and only one thread ever polls its mailbox. After a turn the dispatcher
 * writes 0 and re-checks the mailbox. Both sides write one volatile location and then read the
 * other (the queue's producer index is written by CAS), so by sequential consistency of volatiles
 * either the producer sees 0 and schedules, or the dispatcher sees the message and reschedules: no
 * message is left behind.
 */
final class AgentCell extends Sender implements AgentContext {
  static final Logger log = LoggerFactory.getLogger(AgentCell.class);
  private static final VarHandle SCHEDULED;
  private static final VarHandle MAILBOX;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      SCHEDULED = l.findVarHandle(AgentCell.class, "scheduled", int.class);
      MAILBOX = l.findVarHandle(AgentCell.class, "mailbox", Mailbox.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final int ACTIVE = 0;
  private static final int SUSPENDED = 1;
  private static final int STOPPING = 2;
  private static final int STOPPED = 3;

  final AgentId id;
  final RegisteredType type;
  final Dispatcher dispatcher;
  // The swarm this agent belongs to, or null; changed by Directory.join/leave.
  volatile String swarm;
  // True when the agent was given to spawn(id, agent): a restart keeps it (there is no factory).
  private final boolean given;
  private Agent agent;
  private volatile Mailbox mailbox;

  @SuppressWarnings("unused") // accessed through SCHEDULED
  private volatile int scheduled;

  private volatile int lifecycle;
  private volatile String stopReason;
  private boolean started;
  private boolean turnParked; // guarded by this
  private boolean resumeRequested; // guarded by this
  // The message being handled and its effects: written by the invoke stage on the agent's thread.
  Envelope current;
  EffectsBuffer effects;
  // Messages taken from the mailbox but not handled yet, handled before it (a batch of RELIABLE
  // messages that is handled again one per turn, or the message that ended a batch): the agent's
  // own thread only. Created on first use.
  private java.util.ArrayDeque<Envelope> front;
  // Messages of a batch whose acknowledgement failed, handed over from the journal's completion
  // thread while the agent is suspended; moved to the front at the start of the next turn.
  private volatile List<Envelope> redo; // guarded by this
  // RELIABLE messages still to handle one per turn after a failed batch: agent thread only.
  int singles;
  // Messages at the front already counted as handled (a batch whose transaction failed), not
  // to be counted again when handled again: agent thread only.
  int counted;
  // Written only by the agent's own thread; read racily (as a snapshot) by metrics.
  long processed;
  long failures;
  private int restarts;
  private long[] restartTimes; // nanoTime of recent restarts, ring, created on first restart

  AgentCell(
      AgentId id,
      RegisteredType type,
      Agent agent,
      boolean given,
      Dispatcher dispatcher,
      String swarm) {
    super(id, true);
    this.id = id;
    this.type = type;
    this.agent = agent;
    this.given = given;
    this.dispatcher = dispatcher;
    this.swarm = swarm;
    this.started = !type.hasOnStart(agent);
  }

  boolean isStopped() {
    return lifecycle >= STOPPING;
  }

  /** True while the agent runs normally (not paused, not stopping). */
  boolean isActive() {
    return lifecycle == ACTIVE;
  }

  Mailbox mailbox() {
    Mailbox mb = mailbox;
    if (mb != null) {
      return mb;
    }
    Mailbox fresh = new Mailbox(type.spec);
    Mailbox witness = (Mailbox) MAILBOX.compareAndExchange(this, (Mailbox) null, fresh);
    return witness == null ? fresh : witness;
  }

  /** True when the mailbox holds a message (a racy snapshot). */
  boolean hasMail() {
    Mailbox mb = mailbox;
    return (mb != null && !mb.isEmpty()) || frontSize() > 0;
  }

  int queued() {
    Mailbox mb = mailbox;
    return (mb == null ? 0 : mb.size()) + frontSize();
  }

  private int frontSize() {
    java.util.ArrayDeque<Envelope> f = front;
    return f == null ? 0 : f.size(); // a racy snapshot off the agent's thread
  }

  /** The next message of this turn: the front's first, else the mailbox's (agent thread only). */
  Envelope nextMessage(Mailbox mb) {
    java.util.ArrayDeque<Envelope> f = front;
    if (f != null) {
      Envelope m = f.poll();
      if (m != null) {
        return m;
      }
    }
    return mb.poll();
  }

  /** Puts {@code m} back to be handled first (agent thread only). */
  void pushFront(Envelope m) {
    if (front == null) {
      front = new java.util.ArrayDeque<>();
    }
    front.addFirst(m);
  }

  /** Puts {@code ms} back, in order, to be handled first, one per turn (agent thread only). */
  void handleAgainOneByOne(List<Envelope> ms) {
    for (int i = ms.size() - 1; i >= 0; i--) {
      pushFront(ms.get(i));
    }
    singles += ms.size();
  }

  /**
   * Hands {@code ms} (a batch whose acknowledgement failed) to the agent's next turn, which handles
   * them again one per turn; called off the agent's thread while it is suspended, before resume.
   */
  void handleAgainLater(List<Envelope> ms) {
    synchronized (this) {
      List<Envelope> r = redo;
      if (r == null) {
        redo = new ArrayList<>(ms);
      } else {
        r.addAll(ms);
      }
    }
  }

  private void takeRedo() {
    List<Envelope> r;
    synchronized (this) {
      r = redo;
      redo = null;
    }
    if (r != null) {
      handleAgainOneByOne(r);
      counted += r.size(); // they were counted as handled when the batch ended
      replaceInstance();
    }
  }

  /**
   * After a failed batch: replaces the instance with a fresh one from the factory, whose memory
   * holds nothing the journal did not commit (an instance given to spawn is kept). Agent thread.
   */
  void replaceInstance() {
    if (given || lifecycle >= STOPPING) {
      return;
    }
    callOnStop();
    Agent fresh;
    try {
      fresh = type.spec.factory().create(id);
      if (fresh == null) {
        throw new IllegalStateException("the factory returned null");
      }
    } catch (Throwable t) {
      beginStop("factory failed replacing the instance after a failed batch: " + t);
      return;
    }
    agent = fresh;
    started = !type.hasOnStart(fresh);
  }

  /** Makes sure the cell will run a turn soon. */
  void schedule() {
    if ((int) SCHEDULED.getVolatile(this) == 0 && SCHEDULED.compareAndSet(this, 0, 1)) {
      dispatcher.execute(this);
    }
  }

  /**
   * The agent whose turn the calling thread is running, or null: lets an {@link AgentRef} send as
   * that agent. A carrier keeps it in a field of its thread; a virtual thread runs one turn of one
   * agent, so a thread-local costs nothing there.
   */
  static AgentCell running() {
    Thread t = Thread.currentThread();
    if (t instanceof Carrier.CarrierThread ct) {
      return ct.running;
    }
    return t.isVirtual() ? RUNNING_ON_VIRTUAL.get() : null;
  }

  private static final ThreadLocal<AgentCell> RUNNING_ON_VIRTUAL = new ThreadLocal<>();

  /**
   * The agent whose turn the calling carrier thread is running, or null (not a carrier, or between
   * turns): the agent to suspend when a send on this thread would otherwise park the carrier.
   */
  static AgentCell runningOnCarrier() {
    return Thread.currentThread() instanceof Carrier.CarrierThread ct ? ct.running : null;
  }

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  // ---- deferred sends: a carrier never parks on user work ----
  //
  // A send from a handler on a carrier that cannot finish at once (a full BLOCK mailbox, a
  // RELIABLE append waiting for its fsync) is not waited for on the carrier: it becomes a step of
  // this chain, and the handler goes on. Later sends of the same handler queue behind it, so this
  // agent's messages keep their order. When the handler returns, the agent is suspended until the
  // chain completes (Invoke), and the carrier runs other agents meanwhile. Written only during
  // the agent's turn, on its carrier.
  private CompletableFuture<Void> deferred;
  // The first failure of a deferred send; supervision handles it at the start of the next turn.
  private volatile Throwable deferredFailure;
  // Deferred sends of other agents waiting for room in this agent's mailbox, woken after a turn.
  private volatile ConcurrentLinkedQueue<Runnable> roomWaiters;

  boolean hasDeferred() {
    return deferred != null;
  }

  /**
   * Adds {@code step} to this turn's deferred sends; it starts once the earlier ones finished (at
   * once if there are none). The step returns a future that completes when its send is done, or
   * null when it finished at once; a failure is kept for supervision and never stops the chain.
   */
  void defer(Supplier<CompletableFuture<Void>> step) {
    CompletableFuture<Void> prev = deferred == null ? DONE : deferred;
    deferred = prev.thenCompose(x -> runStep(step));
  }

  private CompletableFuture<Void> runStep(Supplier<CompletableFuture<Void>> step) {
    CompletableFuture<Void> f;
    try {
      f = step.get(); // null: the send finished at once
    } catch (Throwable t) {
      f = CompletableFuture.failedFuture(t);
    }
    if (f == null) {
      return DONE;
    }
    return f.handle(
        (x, t) -> {
          if (t != null && deferredFailure == null) {
            deferredFailure = t instanceof CompletionException c ? c.getCause() : t;
          }
          return null;
        });
  }

  /** The deferred sends of the handler that just returned, or null; clears them. */
  CompletableFuture<Void> takeDeferred() {
    CompletableFuture<Void> f = deferred;
    deferred = null;
    return f;
  }

  /** The failure of a deferred send, or null, without clearing it. */
  Throwable peekDeferredFailure() {
    return deferredFailure;
  }

  /** The failure of a deferred send since the last call, or null; clears it. */
  Throwable takeDeferredFailure() {
    Throwable t = deferredFailure;
    if (t != null) {
      deferredFailure = null;
    }
    return t;
  }

  /** Registers {@code waiter} to run after this agent's next turn (which may make room). */
  void waitForRoom(Runnable waiter) {
    ConcurrentLinkedQueue<Runnable> q = roomWaiters;
    if (q == null) {
      synchronized (this) {
        q = roomWaiters;
        if (q == null) {
          q = new ConcurrentLinkedQueue<>();
          roomWaiters = q;
        }
      }
    }
    q.offer(waiter);
  }

  /**
   * Runs the waiters registered so far (each tries its send again, or registers again). Blocked
   * senders outside the runtime ({@link Enqueue.Unpark}) are woken only as many as there is room
   * now (at least one), oldest first; the others stay registered for the next turn, so hundreds of
   * them do not all wake to compete for a few free slots.
   */
  private void wakeRoomWaiters() {
    ConcurrentLinkedQueue<Runnable> q = roomWaiters;
    if (q == null || q.isEmpty()) {
      return;
    }
    Mailbox mb = mailbox;
    int room = mb == null ? Integer.MAX_VALUE : Math.max(1, mb.capacity() - mb.size());
    List<Runnable> later = null;
    for (int n = q.size(); n > 0; n--) {
      Runnable w = q.poll();
      if (w == null) {
        break;
      }
      if (w instanceof Enqueue.Unpark blocked) {
        if (blocked.done) {
          continue; // it got in (or gave up) meanwhile: nothing to wake
        }
        if (room == 0) {
          if (later == null) {
            later = new ArrayList<>();
          }
          later.add(w);
          continue;
        }
        room--;
      }
      w.run();
    }
    if (later != null) {
      q.addAll(later);
    }
  }

  /** The waiters still registered (at shutdown), removed. */
  List<Runnable> takeRoomWaiters() {
    ConcurrentLinkedQueue<Runnable> q = roomWaiters;
    List<Runnable> out = new ArrayList<>();
    if (q != null) {
      for (Runnable w; (w = q.poll()) != null; ) {
        out.add(w);
      }
    }
    return out;
  }

  /** Runs one turn: up to the throughput limit of messages. Only the dispatcher calls this. */
  void runTurn() {
    Thread t = Thread.currentThread();
    if (t instanceof Carrier.CarrierThread ct) {
      ct.running = this;
      try {
        turn();
      } finally {
        ct.running = null;
      }
    } else {
      RUNNING_ON_VIRTUAL.set(this);
      try {
        turn();
      } finally {
        RUNNING_ON_VIRTUAL.remove();
      }
    }
  }

  private void turn() {
    Invoke invoke = type.stages.invoke();
    if (redo != null) {
      takeRedo();
    }
    Throwable failedSend = deferredFailure == null ? null : takeDeferredFailure();
    if (failedSend != null && lifecycle == ACTIVE) {
      invoke.deferredSendFailed(this, failedSend);
    }
    if (lifecycle == ACTIVE && !started) {
      start(invoke);
    }
    Mailbox mb = mailbox;
    if (lifecycle == ACTIVE && mb != null) {
      Carrier.CarrierThread carrier =
          Thread.currentThread() instanceof Carrier.CarrierThread ct ? ct : null;
      for (int n = type.throughput; n > 0; n--) {
        if (!started) {
          // A restart without backoff replaced the instance during this turn: start the fresh
          // one before it sees any mail. If its onStart fails and it is replaced again, try
          // again on the next iteration; the restart budget bounds this.
          start(invoke);
          if (lifecycle != ACTIVE) {
            break;
          }
          if (!started) {
            continue;
          }
        }
        Envelope m = nextMessage(mb);
        if (m == null) {
          break;
        }
        if (carrier != null && (n & (Carrier.CLOCK_EVERY - 1)) == 0) {
          carrier.clock = System.nanoTime();
        }
        invoke.message(this, m);
        if (lifecycle != ACTIVE) {
          break;
        }
      }
    }
    if (roomWaiters != null) {
      wakeRoomWaiters(); // this turn may have made room for senders waiting on our mailbox
    }
    if (lifecycle == SUSPENDED) {
      // Paused (restart backoff, waiting for an acknowledgement to commit, or for its deferred
      // sends): keep the schedule flag; resume() runs us again, or already asked to meanwhile.
      if (parkSuspendedTurn()) {
        dispatcher.execute(this);
      }
      return;
    }
    if (lifecycle >= STOPPING) {
      finishStop();
    }
    release();
  }

  /**
   * Ends a turn that left the agent SUSPENDED. Returns true when {@link #resume()} already came
   * (the agent is ACTIVE again and should run on); otherwise records that the turn has ended, so
   * that resume() reschedules it. This handshake keeps a fast resume from running the agent on a
   * second thread while its turn is still finishing.
   */
  private boolean parkSuspendedTurn() {
    synchronized (this) {
      if (resumeRequested) {
        resumeRequested = false;
        if (lifecycle == SUSPENDED) {
          lifecycle = ACTIVE;
        }
        return true;
      }
      turnParked = true;
      return false;
    }
  }

  /** Pauses an ACTIVE agent (never overrides a stop requested meanwhile). */
  void suspend() {
    synchronized (this) {
      if (lifecycle == ACTIVE) {
        lifecycle = SUSPENDED;
      }
    }
  }

  /** Ends a pause: after a restart backoff, or once an awaited acknowledgement settled. */
  void resume() {
    synchronized (this) {
      if (!turnParked) {
        resumeRequested = true; // the turn that paused us is still running; it will see this
        return;
      }
      turnParked = false;
      if (lifecycle == SUSPENDED) {
        lifecycle = ACTIVE;
      }
    }
    dispatcher.execute(this); // we still hold the schedule flag
  }

  /** Clears the schedule flag, then reschedules if mail arrived meanwhile (see class comment). */
  private void release() {
    java.util.ArrayDeque<Envelope> f = front;
    if (f != null && !f.isEmpty() && lifecycle == ACTIVE) {
      dispatcher.execute(this); // taken from the mailbox, not handled yet: run on, keeping the flag
      return;
    }
    SCHEDULED.setVolatile(this, 0);
    Mailbox mb = mailbox;
    if (mb != null && !mb.isEmpty()) {
      schedule();
    }
  }

  /** True when the agent needs an onStart call before any mail, so spawn should schedule it. */
  boolean needsStart() {
    return !started;
  }

  private void start(Invoke invoke) {
    started = true;
    invoke.start(this);
    invoke.afterHandler(this);
  }

  /** The agent instance (replaced by a restart). */
  Agent agent() {
    return agent;
  }

  /** Applies the type's supervision strategy to a failure of the handler or of onStart. */
  void supervise(Throwable t) {
    switch (type.spec.supervision()) {
      case SupervisionStrategy.Resume r -> {}
      case SupervisionStrategy.Stop s -> beginStop("handler failed: " + t);
      case SupervisionStrategy.Restart r -> restart(r, t);
    }
  }

  private void restart(SupervisionStrategy.Restart policy, Throwable cause) {
    long now = System.nanoTime();
    int inWindow = recentRestarts(now, policy.window().toNanos());
    if (inWindow >= policy.maxRestarts()) {
      beginStop(
          "restart budget exhausted ("
              + policy.maxRestarts()
              + " restarts within "
              + policy.window()
              + "); last failure: "
              + cause);
      return;
    }
    callOnStop();
    Agent fresh;
    try {
      fresh = given ? agent : type.spec.factory().create(id);
      if (fresh == null) {
        throw new IllegalStateException("the factory returned null");
      }
    } catch (Throwable t) {
      beginStop("factory failed during restart: " + t);
      return;
    }
    agent = fresh;
    started = !type.hasOnStart(fresh);
    recordRestart(now, policy.maxRestarts());
    restarts++;
    type.stages.invoke().restarted(this, cause);
    Duration backoff = policy.backoff(inWindow + 1);
    if (!backoff.isZero()) {
      suspend();
      try {
        type.stages.timer().schedule(this::resume, backoff.toNanos(), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
        resume(); // the runtime is shutting down: no backoff, let the shutdown drain or stop it
      }
    }
  }

  private int recentRestarts(long now, long windowNanos) {
    if (restartTimes == null) {
      return 0;
    }
    int n = 0;
    for (long t : restartTimes) {
      if (t != 0 && now - t < windowNanos) {
        n++;
      }
    }
    return n;
  }

  private void recordRestart(long now, int max) {
    if (restartTimes == null) {
      restartTimes = new long[Math.max(1, max)];
    }
    int oldest = 0;
    for (int i = 1; i < restartTimes.length; i++) {
      if (restartTimes[i] - restartTimes[oldest] < 0) {
        oldest = i;
      }
    }
    restartTimes[oldest] = now == 0 ? 1 : now;
  }

  /** Marks the cell stopping; the dispatcher finishes the stop on its next turn. */
  void beginStop(String reason) {
    synchronized (this) {
      if (lifecycle >= STOPPING) {
        return;
      }
      stopReason = reason;
      lifecycle = STOPPING;
    }
    type.stages.directory().remove(this);
  }

  /** Requests a stop from outside the agent's thread. */
  void stop(String reason) {
    beginStop(reason);
    if (lifecycle == STOPPING) {
      schedule();
    }
  }

  private void finishStop() {
    Stages stages = type.stages;
    if (lifecycle == STOPPING) {
      lifecycle = STOPPED;
      if (started) {
        callOnStop();
      }
      stages.lifecycle().publish(id, LifecycleEvent.Kind.STOPPED, stopReason);
    }
    if (redo != null) {
      takeRedo();
    }
    Mailbox mb = mailbox;
    if (mb != null) {
      for (Envelope m; (m = nextMessage(mb)) != null; ) {
        if (m.delivery() == DeliveryMode.RELIABLE) {
          stages.journal().requeueLater(m); // still journaled: it reactivates the agent later
        } else {
          stages
              .deadLetters()
              .queued(m, DeadLetter.Reason.AGENT_STOPPED, "agent " + id + " stopped");
        }
      }
    }
  }

  private void callOnStop() {
    try {
      agent.onStop(this);
    } catch (Throwable t) {
      log.warn("agent {} failed in onStop: {}", id, t.toString());
    }
  }

  /** Moves every queued message to dead letters; used at a shutdown deadline. */
  long drainTo(DeadLetter.Reason reason) {
    Stages stages = type.stages;
    if (redo != null) {
      takeRedo();
    }
    Mailbox mb = mailbox;
    long n = 0;
    if (mb != null) {
      for (Envelope m; (m = nextMessage(mb)) != null; n++) {
        if (m.delivery() == DeliveryMode.RELIABLE) {
          stages.journal().leftInJournal(m); // redelivered when a runtime opens the journal again
        } else {
          stages.deadLetters().queued(m, reason, "still queued at the shutdown deadline");
        }
      }
    }
    return n;
  }

  /** Calls onStop after the dispatchers have stopped (graceful shutdown). */
  void shutdownStop() {
    if (lifecycle < STOPPING) {
      lifecycle = STOPPED;
      if (started) {
        callOnStop();
      }
    }
  }

  // ---- AgentContext ----

  @Override
  public AgentId self() {
    return id;
  }

  // send, publish, request, forward and the broadcasts are inherited from Sender.

  @Override
  Validate path() {
    return type.stages.validate();
  }

  @Override
  public void reply(Object payload) {
    Envelope m = current;
    if (m == null) {
      throw new IllegalStateException(
          "reply(payload) is only valid while handling a message; use reply(request, payload)");
    }
    reply(m, payload);
  }

  @Override
  public void reply(Envelope request, Object payload) {
    // The reply to the RELIABLE request this turn handles joins its outbox (committed with its
    // acknowledgement); only on the agent's own thread, where the effects buffer lives.
    EffectsBuffer outbox = running() == this && request == current ? effects : null;
    type.stages.validate().reply(id, request, payload, outbox);
  }

  @Override
  public AgentRef spawn(AgentId child) {
    return spawnRef(child, null);
  }

  @Override
  public AgentRef spawn(AgentId child, Agent behaviour) {
    return spawnRef(child, Objects.requireNonNull(behaviour, "agent"));
  }

  private AgentRef spawnRef(AgentId child, Agent behaviour) {
    Objects.requireNonNull(child, "id");
    Stages stages = type.stages;
    AgentCell cell = stages.directory().spawn(child, null, behaviour);
    return new AgentRef(stages.external(), stages.directory(), child, cell);
  }

  @Override
  public void stopSelf() {
    beginStop("stopped itself");
  }

  @Override
  public Effects effects() {
    EffectsBuffer fx = effects;
    if (fx == null) {
      throw new IllegalStateException(
          "effects() is only valid while handling a RELIABLE message; send with"
              + " Envelope.to(id).delivery(DeliveryMode.RELIABLE) to get transactional effects");
    }
    return fx;
  }

  @Override
  public AgentMetrics metrics() {
    return new AgentMetrics(processed, failures, restarts, queued());
  }
}
