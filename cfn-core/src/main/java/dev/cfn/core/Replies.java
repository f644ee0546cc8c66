package dev.cfn.core;

import java.time.Duration;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;

/**
 * The requests waiting for a reply, by correlation id, each with its deadline. A reply completes
 * its future on the replier's thread; a timeout on this class's deadline thread.
 *
 * <p>No lock is shared by all requests: opening a request is a put into a concurrent map and an
 * offer to a lock-free multi-producer queue of deadlines (JCTools), and a reply is one map removal
 * (nothing to cancel). One daemon thread owns a heap of deadlines: it moves new deadlines from the
 * queue into the heap, completes the expired requests still waiting (a {@code remove(id, future)}
 * decides between a late timeout and a reply, so exactly one wins) and parks until the earliest
 * deadline. A producer that finds it parked with nothing to wait for, or for longer than the new
 * deadline, unparks it: it sets {@code sleepingUntil} before re-checking the queue, the producer
 * offers before reading it, so one of them sees the other and no deadline waits for a later one.
 *
 * <p>The bookkeeping is bounded by the requests in flight, not by how many were made within a
 * timeout: a request answered, failed or taken back leaves the map at once, and its deadline is
 * dropped by the sweeper, which wakes at least every {@link #CHECK_NANOS} while it holds deadlines.
 * It drops a queued deadline whose request is no longer waiting instead of moving it into the heap,
 * and purges the heap when more than half of it is such garbage (more deadlines than twice the
 * waiting requests), so each purge costs at most twice what it frees and it never holds more than
 * twice as many deadlines as waiting requests for long (none once none waits). A reply does no more
 * than its map removal.
 */
final class Replies {
  private static final long IDLE = Long.MAX_VALUE;
  // How long the sweeper sleeps at most while it holds deadlines: answered requests' deadlines are
  // dropped within about this long, whatever their timeout.
  private static final long CHECK_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100);

  private final ConcurrentHashMap<Long, CompletableFuture<Envelope>> pending =
      new ConcurrentHashMap<>();
  private final MpscUnboundedXaddArrayQueue<Deadline> incoming =
      new MpscUnboundedXaddArrayQueue<>(1024);
  private final Thread sweeper;
  private volatile long sleepingUntil; // nanoTime the sweeper parks until; IDLE: no deadline
  private volatile boolean running = true;
  private volatile int heapSize; // the sweeper's heap, as of its last pass (for deadlineCount)

  /** One request's deadline. */
  private record Deadline(
      long at, long id, CompletableFuture<Envelope> future, AgentId to, Duration timeout) {}

  Replies(String name) {
    this.sweeper = new Thread(this::sweep, name + "-request-deadlines");
    sweeper.setDaemon(true);
    sweeper.start();
  }

  /** Opens request {@code id}; its future fails with a timeout after {@code timeout}. */
  CompletableFuture<Envelope> open(long id, AgentId to, Duration timeout) {
    CompletableFuture<Envelope> future = new CompletableFuture<>();
    pending.put(id, future);
    long at = System.nanoTime() + timeout.toNanos();
    incoming.offer(new Deadline(at, id, future, to, timeout));
    long until = sleepingUntil;
    if (until - at > 0 || until == IDLE) {
      LockSupport.unpark(sweeper);
    }
    return future;
  }

  private void sweep() {
    PriorityQueue<Deadline> heap = new PriorityQueue<>((a, b) -> Long.compare(a.at() - b.at(), 0));
    while (running) {
      for (Deadline d; (d = incoming.poll()) != null; ) {
        if (waiting(d)) {
          heap.add(d);
        }
      }
      long now = System.nanoTime();
      for (Deadline d = heap.peek(); d != null && d.at() - now <= 0; d = heap.peek()) {
        heap.poll();
        if (pending.remove(d.id(), d.future())) {
          d.future()
              .completeExceptionally(
                  new TimeoutException(
                      (d.to() == null ? "no reply" : "no reply from " + d.to())
                          + " to request "
                          + d.id()
                          + " within "
                          + d.timeout()));
        }
      }
      if (heap.size() > 2 * pending.size()) {
        heap.removeIf(d -> !waiting(d)); // more than half answered: drop their deadlines
      }
      heapSize = heap.size();
      Deadline next = heap.peek();
      long wakeAt =
          next == null ? IDLE : next.at() - (now + CHECK_NANOS) < 0 ? next.at() : now + CHECK_NANOS;
      sleepingUntil = wakeAt;
      if (!incoming.isEmpty()) {
        continue; // arrived while we looked: take it in before sleeping
      }
      if (next == null) {
        LockSupport.park(this);
      } else {
        LockSupport.parkNanos(this, wakeAt - System.nanoTime());
      }
      sleepingUntil = System.nanoTime(); // awake: producers need not unpark
    }
  }

  /** True while {@code d}'s request is still waiting for its reply. */
  private boolean waiting(Deadline d) {
    return pending.get(d.id()) == d.future();
  }

  /**
   * Waits for the reply to request {@code id} a second time, or from a caller that did not open it
   * (re-attaching after a restart, or after a duplicate idempotency key). When the request is still
   * waiting, the returned future follows its future (with a deadline of its own); otherwise it is a
   * new waiting request. {@code to} names the replier in the timeout message (null: unknown).
   */
  CompletableFuture<Envelope> attach(long id, AgentId to, Duration timeout) {
    CompletableFuture<Envelope> existing = pending.get(id);
    if (existing != null) {
      return existing
          .copy()
          .orTimeout(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }
    return open(id, to, timeout);
  }

  /** Removes and returns the future waiting for request {@code id}, or null; completes nothing. */
  CompletableFuture<Envelope> take(long id) {
    return pending.remove(id);
  }

  /** Completes the request {@code reply} answers; false when it timed out or was answered. */
  boolean complete(Envelope reply) {
    CompletableFuture<Envelope> f = pending.remove(reply.correlationId());
    if (f == null) {
      return false;
    }
    f.complete(reply);
    return true;
  }

  /** Fails request {@code id}, if it is still waiting. */
  void fail(long id, Throwable cause) {
    CompletableFuture<Envelope> f = pending.remove(id);
    if (f != null) {
      f.completeExceptionally(cause);
    }
  }

  /** Fails every waiting request (the runtime shut down) and stops the deadline thread. */
  void failAll() {
    running = false;
    LockSupport.unpark(sweeper);
    for (CompletableFuture<Envelope> f : pending.values()) {
      f.completeExceptionally(new IllegalStateException("the runtime shut down before a reply"));
    }
    pending.clear();
  }

  /** Requests waiting for a reply (a test's view of the bookkeeping). */
  int waitingCount() {
    return pending.size();
  }

  /** Deadlines held, queued or in the sweeper's heap (a test's view of the bookkeeping). */
  int deadlineCount() {
    return heapSize + incoming.size();
  }
}
