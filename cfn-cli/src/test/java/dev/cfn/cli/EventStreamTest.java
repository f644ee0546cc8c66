package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link EventStream} hands on a {@link EventStream.Resync} where the node signals a gap ({@code
 * event: gap}), and only there: a reconnection the node resumes inside its window hands on the next
 * event and no marker. The node is a scripted SSE endpoint: its first connection sends the position
 * and one event, then ends (a broken connection); the second answers the {@code Last-Event-ID} as
 * the test scripts it.
 */
class EventStreamTest {
  HttpServer server;
  final CountDownLatch done = new CountDownLatch(1);
  final List<String> lastEventIds = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    done.countDown();
    if (server != null) {
      server.stop(0);
    }
  }

  /** A node whose first stream ends after event 11, and whose next ones send {@code resumed}. */
  NodeClient node(String resumed) throws IOException {
    AtomicInteger connections = new AtomicInteger();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/v1/events",
        exchange -> {
          lastEventIds.add(String.valueOf(exchange.getRequestHeaders().getFirst("Last-Event-ID")));
          exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
          exchange.sendResponseHeaders(200, 0);
          try (OutputStream out = exchange.getResponseBody()) {
            if (connections.incrementAndGet() == 1) {
              write(out, ": cfn events\nid: 10\n\nid: 11\nevent: x\ndata: {\"n\":11}\n\n");
              return; // the connection breaks after event 11
            }
            write(out, resumed);
            done.await(30, TimeUnit.SECONDS); // held open until the test ends
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.start();
    return NodeClient.plain(
        URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "token");
  }

  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  static Object next(EventStream s) throws InterruptedException {
    Object o = s.next(Duration.ofSeconds(30).toNanos());
    assertThat(o).as("something within 30 s").isNotNull();
    return o;
  }

  static long id(Object event) {
    assertThat(event).isInstanceOf(EventStream.Event.class);
    return ((EventStream.Event) event).id();
  }

  @Test
  void aReconnectionInsideTheWindowHandsOnTheNextEventAndNoResync() throws Exception {
    NodeClient node = node(": cfn events\nid: 11\n\nid: 12\nevent: x\ndata: {\"n\":12}\n\n");
    try (EventStream events = EventStream.open(node)) {
      assertThat(id(next(events))).isEqualTo(11);
      assertThat(id(next(events))).as("the next event, no resync before it").isEqualTo(12);
      assertThat(events.resumedAfter).containsExactly(11L);
    }
    assertThat(lastEventIds).startsWith("null", "11");
  }

  @Test
  void aGapSignalIsHandedOnAsAResyncInItsPlace() throws Exception {
    NodeClient node =
        node(
            ": cfn events\nid: 19\n\n"
                + "id: 19\nevent: gap\ndata: {\"lastEventId\":11,\"firstAvailableId\":20}\n\n"
                + "id: 20\nevent: x\ndata: {\"n\":20}\n\n");
    try (EventStream events = EventStream.open(node)) {
      assertThat(id(next(events))).isEqualTo(11);
      assertThat(next(events)).isInstanceOf(EventStream.Resync.class);
      assertThat(id(next(events))).isEqualTo(20);
      assertThat(events.resumedAfter).containsExactly(11L);
    }
  }
}
