package dev.cfn.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A node's live events ({@code GET /v1/events}, Server-Sent Events) read by a virtual thread into a
 * queue, for a command that follows something on the node ({@code cfn loop run --server}).
 *
 * <p>The node opens each stream with its position: an {@code id:} line without data (the id of its
 * newest event), which sets the stream's last event id and hands nothing on, as the SSE
 * specification has it. {@link #open} returns only once that first block has arrived, so the
 * stream's position is known before the caller does anything that makes events: when the connection
 * breaks, even before the first event, the stream connects again with {@code Last-Event-ID} set to
 * the last event it handed on (or to that position), so no event of the node's window is lost or
 * seen twice. It tries for {@link #RECONNECT_WINDOW_MILLIS} before it reports the node as gone.
 * Events are missed across a break only when the node restarted or its window of recent events
 * moved past the last one seen; the node then says so with an {@code event: gap} (its data: {@code
 * {"lastEventId": L, "firstAvailableId": F}}), and the reader takes a {@link Resync} marker in its
 * place, on which it should read the state it follows once from the node. A reconnection the node
 * answers without a gap lost nothing, and hands on no marker.
 */
final class EventStream implements AutoCloseable {
  /** How long the stream tries to connect again after a break before it gives up. */
  static final long RECONNECT_WINDOW_MILLIS = 30_000;

  /** One event: its id, its name (the topic type, e.g. {@code cfn.flow.loop.answered}), data. */
  record Event(long id, String name, String data) {}

  /** Taken where the node said events were missed ({@code event: gap}): read the state again. */
  record Resync() {}

  /** The event by which the node says events were missed. */
  static final String GAP = "gap";

  private record Gone(CommandFailure failure) {}

  private final NodeClient node;
  private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final Thread reader;
  private volatile boolean closed;
  private volatile boolean drop;
  private volatile InputStream current;
  private final CountDownLatch started = new CountDownLatch(1); // the first block came, or gone
  private long lastId = -1; // the reader thread's

  /** The {@code Last-Event-ID} sent on each reconnection (null: none was known), in order. */
  final List<Long> resumedAfter = new CopyOnWriteArrayList<>();

  private EventStream(NodeClient node, InputStream first) {
    this.node = node;
    this.current = first;
    this.reader = Thread.ofVirtual().name("cfn-cli-events").start(this::read);
  }

  /**
   * Connects to the node's events: from the next event the node publishes on. Returns once the node
   * has sent the stream's first block (its position), so every event the caller causes from then on
   * is one this stream hands on, across breaks of the connection too.
   *
   * @throws CommandFailure when the node cannot be reached, refuses the stream, or sends nothing on
   *     it within {@link #RECONNECT_WINDOW_MILLIS}
   */
  static EventStream open(NodeClient node) throws InterruptedException {
    EventStream s = new EventStream(node, node.events(null));
    boolean ready;
    try {
      ready = s.started.await(RECONNECT_WINDOW_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      s.close();
      throw e;
    }
    if (s.queue.peek() instanceof Gone g) {
      s.close();
      throw g.failure();
    }
    if (!ready) {
      s.close();
      throw CommandFailure.failed(
          "the node at "
              + node.base()
              + " opened its live events (/v1/events) but sent nothing on them within "
              + TimeUnit.MILLISECONDS.toSeconds(RECONNECT_WINDOW_MILLIS)
              + " s",
          "check the network to the node (a proxy that buffers the stream?), then run it again");
    }
    return s;
  }

  /**
   * The next event or {@link Resync}, waiting up to {@code nanos}; null when none came in time.
   *
   * @throws CommandFailure when the node went away and could not be reached again
   */
  Object next(long nanos) throws InterruptedException {
    Object o = queue.poll(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    if (o instanceof Gone g) {
      queue.add(g); // stays gone
      throw g.failure();
    }
    return o;
  }

  /**
   * Breaks the connection as a network failure would, right after the next event is handed on: the
   * stream connects again with that event's id as {@code Last-Event-ID}.
   */
  void drop() {
    drop = true;
  }

  @Override
  public void close() {
    closed = true;
    reader.interrupt();
    closeQuietly(current);
  }

  private void read() {
    while (!closed) {
      try {
        readEvents(current);
      } catch (IOException | RuntimeException broken) {
        // the connection broke off: connect again below
      } finally {
        closeQuietly(current);
      }
      if (closed) {
        return;
      }
      InputStream again = reconnect();
      if (again == null) {
        return;
      }
      current = again; // a gap it missed events across, the node says first on it
    }
  }

  private void readEvents(InputStream in) throws IOException {
    BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String id = null;
    String name = "message";
    StringBuilder data = null;
    String line;
    while (!closed && (line = lines.readLine()) != null) {
      if (line.isEmpty()) {
        if (id != null) {
          try {
            long n = Long.parseLong(id.strip());
            lastId = n; // with data an event; without, the stream's position only
            if (data != null) {
              queue.add(name.equals(GAP) ? new Resync() : new Event(n, name, data.toString()));
            }
          } catch (NumberFormatException ignored) {
            // an event without a numeric id is not one of the node's
          }
        }
        started.countDown(); // the first block: the position, or a comment from an older node
        if (drop && id != null && data != null) {
          drop = false;
          return; // as if the connection had broken right after this event
        }
        id = null;
        name = "message";
        data = null;
      } else if (line.startsWith("id:")) {
        id = field(line, 3);
      } else if (line.startsWith("event:")) {
        name = field(line, 6);
      } else if (line.startsWith("data:")) {
        data = data == null ? new StringBuilder() : data.append('\n');
        data.append(field(line, 5));
      } // a comment (": keep-alive") or an unknown field
    }
  }

  private static String field(String line, int from) {
    String v = line.substring(from);
    return v.startsWith(" ") ? v.substring(1) : v;
  }

  /** Connects again after the last event handed on; null when closed or gone. */
  private InputStream reconnect() {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RECONNECT_WINDOW_MILLIS);
    long pause = 100;
    Long after = lastId >= 0 ? lastId : null;
    resumedAfter.add(after);
    while (!closed) {
      try {
        return node.events(after);
      } catch (CommandFailure f) {
        if (f.exitCode() != ExitCode.FAILED || System.nanoTime() > end) {
          queue.add(new Gone(f)); // refused (a revoked token), or not back in time
          started.countDown();
          return null;
        }
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        return null; // closed
      }
      pause = Math.min(2_000, pause * 2);
    }
    return null;
  }

  private static void closeQuietly(InputStream in) {
    if (in == null) {
      return;
    }
    try {
      in.close();
    } catch (IOException ignored) {
      // hanging up
    }
  }
}
