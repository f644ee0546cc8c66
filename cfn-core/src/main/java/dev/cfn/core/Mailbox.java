package dev.cfn.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jctools.queues.atomic.unpadded.MpscGrowableAtomicUnpaddedArrayQueue;

/**
 * One agent's mailbox: a bounded, growable multi-producer single-consumer queue per priority lane,
 * created only when the first message of that priority arrives. The NORMAL-only case, by far the
 * most common, costs one lane and no priority bookkeeping.
 *
 * <p>Lanes are JCTools {@code MpscGrowableAtomicUnpaddedArrayQueue}s: they start with room for two
 * messages and double up to the capacity, and they use {@code Atomic*} field updaters rather than
 * {@code sun.misc.Unsafe} (no warnings on JDK 24+). Unpadded, because a million padded queues would
 * cost hundreds of megabytes of padding.
 *
 * <p>Aging: each lower lane counts the messages served from higher lanes while it waited; when the
 * count reaches {@code agingLimit}, the lane is served next. So a waiting message is passed by at
 * most {@code agingLimit} higher-priority messages per lane above it, and never starves.
 *
 * <p>Only the owning agent's dispatcher polls (single consumer). Under {@link
 * OverflowPolicy#DROP_OLDEST} a producer must also remove the head, so for such mailboxes every
 * poll holds the lane's monitor, which keeps the queue single-consumer.
 */
final class Mailbox {
  private static final int LANES = Priority.values().length;
  private static final int NORMAL = Priority.NORMAL.ordinal();
  private static final VarHandle LANE_ARRAY = MethodHandles.arrayElementVarHandle(Lane[].class);

  static final class Lane extends MpscGrowableAtomicUnpaddedArrayQueue<Envelope> {
    Lane(int capacity) {
      super(2, capacity);
    }
  }

  private final Lane[] lanes = new Lane[LANES];
  private final int capacity;
  private final boolean lockedPolls;
  private final int agingLimit;
  // Consumer-only state: higher-priority messages served while each lane waited.
  private final int[] passed = new int[LANES];
  // Set by the producer that creates the first non-NORMAL lane; until then polls take the fast
  // path.
  private volatile boolean multiLane;

  Mailbox(AgentType type) {
    this.capacity = type.mailboxCapacity();
    this.lockedPolls = type.overflow() == OverflowPolicy.DROP_OLDEST;
    this.agingLimit = type.agingLimit();
  }

  int capacity() {
    return capacity;
  }

  Lane lane(Priority p) {
    int i = p.ordinal();
    Lane lane = (Lane) LANE_ARRAY.getAcquire(lanes, i);
    if (lane != null) {
      return lane;
    }
    Lane fresh = new Lane(capacity);
    Lane witness = (Lane) LANE_ARRAY.compareAndExchange(lanes, i, (Lane) null, fresh);
    if (i != NORMAL) {
      multiLane = true;
    }
    return witness == null ? fresh : witness;
  }

  /** Offers to the message's lane; false when the lane is full. */
  boolean offer(Envelope e) {
    return lane(e.priority()).offer(e);
  }

  /**
   * Removes the oldest message of {@code p}'s lane to make room (DROP_OLDEST only); returns it, or
   * null if the lane emptied meanwhile.
   */
  Envelope dropOldest(Priority p) {
    Lane lane = lane(p);
    synchronized (lane) {
      return lane.poll();
    }
  }

  /** The next message by priority and aging, or null. Consumer thread only. */
  Envelope poll() {
    if (!multiLane) {
      Lane normal = (Lane) LANE_ARRAY.getAcquire(lanes, NORMAL);
      return normal == null ? null : take(normal);
    }
    return pollByPriority();
  }

  private Envelope pollByPriority() {
    // Aged lanes first, lowest priority first, so the longest-waiting lane wins.
    for (int i = LANES - 1; i > 0; i--) {
      if (passed[i] >= agingLimit) {
        Lane lane = (Lane) LANE_ARRAY.getAcquire(lanes, i);
        Envelope e = lane == null ? null : take(lane);
        passed[i] = 0;
        if (e != null) {
          notePassed(i);
          return e;
        }
      }
    }
    for (int i = 0; i < LANES; i++) {
      Lane lane = (Lane) LANE_ARRAY.getAcquire(lanes, i);
      if (lane != null) {
        Envelope e = take(lane);
        if (e != null) {
          passed[i] = 0;
          notePassed(i);
          return e;
        }
      }
    }
    return null;
  }

  /** A message from lane {@code served} passed every non-empty lane below it. */
  private void notePassed(int served) {
    for (int j = served + 1; j < LANES; j++) {
      Lane lane = (Lane) LANE_ARRAY.getAcquire(lanes, j);
      if (lane != null && !lane.isEmpty()) {
        passed[j]++;
      }
    }
  }

  private Envelope take(Lane lane) {
    if (lockedPolls) {
      synchronized (lane) {
        return lane.poll();
      }
    }
    return lane.poll();
  }

  boolean isEmpty() {
    for (int i = 0; i < LANES; i++) {
      Lane lane = (Lane) LANE_ARRAY.getAcquire(lanes, i);
      if (lane != null && !lane.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  int size() {
    int n = 0;
    for (int i = 0; i < LANES; i++) {
      Lane lane = (Lane) LANE_ARRAY.getAcquire(lanes, i);
      if (lane != null) {
        n += lane.size();
      }
    }
    return n;
  }
}
