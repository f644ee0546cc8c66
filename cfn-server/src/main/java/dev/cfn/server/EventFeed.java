package dev.cfn.server;

import java.util.ArrayList;
import java.util.List;

/**
 * The node's recent live events ({@code cfn.agent.*}, {@code cfn.flow.*} and dead letters), each
 * with an id one above the previous, kept in a ring of the last {@link #CAPACITY}, for the SSE
 * route: a client that reconnects with {@code Last-Event-ID} receives what it missed, as long as it
 * is still in the ring, and a signal that it missed some when it is not ({@link #oldest()}).
 * Appends and reads are under the feed's monitor; readers wait on it for the next event (readers
 * are virtual threads, which do not pin a carrier while waiting).
 *
 * <p>Ids rise across restarts of the node: the first is the feed's start time in microseconds since
 * the epoch, so a {@code Last-Event-ID} from an earlier run of the node is below every id of this
 * one and resumes with the oldest event still held (rather than with nothing until the new ids pass
 * it). Ids of two runs could only meet if a run published more than a thousand events a millisecond
 * on average over its life.
 */
final class EventFeed {
  static final int CAPACITY = 4096;

  /** One event: its id, its SSE event name (the topic type) and its JSON data. */
  record Event(long id, String name, String data) {}

  private final Event[] ring = new Event[CAPACITY];
  private final long first; // the id of the feed's first event
  private long next; // the id the next event gets
  private boolean closed;

  /** A feed whose first id is now, in microseconds since the epoch. */
  EventFeed() {
    this(System.currentTimeMillis() * 1_000);
  }

  /** A feed whose first event gets id {@code first} (at least 1). */
  EventFeed(long first) {
    this.first = Math.max(1, first);
    this.next = this.first;
  }

  /** Appends an event and wakes the readers. */
  synchronized void append(String name, String data) {
    if (closed) {
      return;
    }
    ring[(int) (next % CAPACITY)] = new Event(next, name, data);
    next++;
    notifyAll();
  }

  /** The id of the newest event (one below the first id when there is none). */
  synchronized long last() {
    return next - 1;
  }

  /**
   * The id of the oldest event still held (the id the next event gets when none is): a client that
   * last saw an id below one less than this has missed events.
   */
  synchronized long oldest() {
    return Math.max(first, next - CAPACITY);
  }

  /**
   * The retained events after {@code lastId}, oldest first; waits up to {@code millis} for one when
   * there is none yet. Empty when the wait ends without one or the feed is closed.
   */
  synchronized List<Event> after(long lastId, long millis) throws InterruptedException {
    long end = System.nanoTime() + millis * 1_000_000;
    long seen = Math.max(lastId, first - 1); // an id of an earlier run of the node: none seen here
    while (!closed && next - 1 <= seen) {
      long left = (end - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return List.of();
      }
      wait(left);
    }
    List<Event> out = new ArrayList<>();
    long from = Math.max(lastId + 1, Math.max(first, next - CAPACITY));
    for (long id = from; id < next; id++) {
      out.add(ring[(int) (id % CAPACITY)]);
    }
    return out;
  }

  /** True once closed. */
  synchronized boolean isClosed() {
    return closed;
  }

  /** Ends every wait; later appends are dropped. */
  synchronized void close() {
    closed = true;
    notifyAll();
  }
}
