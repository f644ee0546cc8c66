package dev.cfn.server;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.DeadLetter;
import dev.cfn.core.Envelope;
import dev.cfn.core.LifecycleEvent;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/events}: the node's live events as Server-Sent Events ({@code id}, {@code event}
 * (the topic type, such as {@code cfn.agent.started}), {@code data} (JSON)). A client that sends
 * {@code Last-Event-ID} resumes after that event; without it, the stream starts with the next
 * event. The stream opens with its position: a comment and an {@code id:} line without data (the id
 * of the newest event, or the {@code Last-Event-ID} resumed after), which per the SSE specification
 * sets the client's last event id without dispatching an event; so a client whose connection breaks
 * before any event arrives still resumes exactly where it joined. A comment line every {@link
 * #KEEP_ALIVE_MILLIS} keeps idle connections open.
 *
 * <p>A {@code Last-Event-ID} inside the node's window ({@link EventFeed#CAPACITY} recent events)
 * resumes with the next event and nothing else: the client lost nothing. One older than the window
 * (events after it were dropped, or it is an id of an earlier run of the node), or newer than any
 * id the node issued, is answered after the position with {@code event: gap} whose data is {@code
 * {"lastEventId": L, "firstAvailableId": F}}, then the events from {@code F} on: the one signal on
 * which a client should read the state it follows again. A reader that falls a whole window behind
 * while connected gets the same signal before the events it can still have.
 *
 * <p>Lifecycle and flow events reach the feed through an agent subscribed to {@code cfn.agent.#}
 * and {@code cfn.flow.#}; dead letters through {@link #pollDeadLetters}, which reads the runtime's
 * dead-letter window.
 */
final class EventRoutes {
  static final long KEEP_ALIVE_MILLIS = 15_000;

  /** The name of the event that says events were missed: {@code gap}. */
  static final String GAP = "gap";

  private final EventFeed feed;

  EventRoutes(EventFeed feed) {
    this.feed = feed;
  }

  /** The agent that copies the publications it is subscribed to into {@code feed}. */
  static Agent recorder(EventFeed feed, io.micrometer.core.instrument.MeterRegistry meters) {
    return (Envelope m, AgentContext ctx) -> {
      if (m.topic() != null) {
        String type = m.topic().type();
        feed.append(type, data(m.payload()));
        if (type.startsWith("cfn.flow.")) {
          io.micrometer.core.instrument.Counter.builder("cfn.flow.events")
              .tag("event", type)
              .description(
                  "task-graph and CFN Loop events by topic (cfn.flow.run.succeeded,"
                      + " cfn.flow.run.failed, cfn.flow.task.*)")
              .register(meters)
              .increment();
        }
      }
    };
  }

  /** Appends the dead letters recorded since {@code seen} (a count); returns the new count. */
  static long pollDeadLetters(dev.cfn.core.DeadLetters letters, long seen, EventFeed feed) {
    long count = letters.count();
    if (count > seen) {
      List<DeadLetter> recent = letters.recent();
      int fresh = (int) Math.min(recent.size(), count - seen);
      for (DeadLetter d : recent.subList(recent.size() - fresh, recent.size())) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.envelope().id());
        m.put("to", String.valueOf(d.envelope().recipient()));
        m.put("reason", d.reason().name());
        m.put("detail", d.detail());
        m.put("at", d.at().toString());
        feed.append("cfn.deadletter", json(m));
      }
    }
    return count;
  }

  Object stream(Call call) throws InterruptedException {
    String resume = call.ctx.header("Last-Event-ID");
    long last;
    String gap = null;
    if (resume == null) {
      last = feed.last();
    } else {
      long asked;
      try {
        asked = Long.parseLong(resume.strip());
      } catch (NumberFormatException e) {
        throw Problem.badRequest(
            "Last-Event-ID '" + resume + "' is not an event id (fix: send the id: of an event)");
      }
      long oldest = feed.oldest();
      long newest = feed.last();
      if (asked < oldest - 1) { // events after it were dropped from the window, or an earlier run's
        gap = gap(asked, oldest);
        last = oldest - 1;
      } else if (asked > newest) { // not an id this node has issued: nothing to resume from
        gap = gap(asked, newest + 1);
        last = newest;
      } else {
        last = asked;
      }
    }
    call.ctx.status(200);
    call.ctx.res().setContentType("text/event-stream;charset=utf-8");
    call.ctx.res().setHeader("Cache-Control", "no-cache");
    call.ctx.res().setHeader("X-Accel-Buffering", "no");
    try {
      OutputStream out = call.ctx.res().getOutputStream();
      // the stream's position, before any event: an id without data sets the client's last event
      // id and dispatches nothing (WHATWG HTML, 9.2.6), so a client whose connection breaks before
      // the first event resumes from here rather than from wherever the feed is when it reconnects
      StringBuilder opening = new StringBuilder(": cfn events\nid: ").append(last).append("\n\n");
      if (gap != null) {
        opening.append(gap);
      }
      out.write(opening.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      while (!feed.isClosed()) {
        List<EventFeed.Event> events = feed.after(last, KEEP_ALIVE_MILLIS);
        StringBuilder b = new StringBuilder();
        if (events.isEmpty()) {
          b.append(": keep-alive\n\n");
        } else if (events.get(0).id() > last + 1) { // this reader fell a whole window behind
          b.append(gap(last, events.get(0).id()));
        }
        for (EventFeed.Event e : events) {
          b.append("id: ").append(e.id()).append('\n');
          b.append("event: ").append(e.name()).append('\n');
          b.append("data: ").append(e.data()).append("\n\n");
          last = e.id();
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException gone) {
      // the client went away: the stream ends
    }
    return Gate.STREAMED;
  }

  /**
   * The {@code gap} event: the events after {@code lastEventId} up to {@code firstAvailableId}
   * (excluded) are not in the node's window any more, so the client should read the state it
   * follows again; the events from {@code firstAvailableId} on follow. Its id is the one before
   * {@code firstAvailableId}, so a client that reconnects right after it gets no second signal.
   */
  static String gap(long lastEventId, long firstAvailableId) {
    return "id: "
        + (firstAvailableId - 1)
        + "\nevent: "
        + GAP
        + "\ndata: {\"lastEventId\":"
        + lastEventId
        + ",\"firstAvailableId\":"
        + firstAvailableId
        + "}\n\n";
  }

  private static String data(Object payload) {
    if (payload instanceof LifecycleEvent e) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("agent", e.agent().toString());
      m.put("kind", e.kind().name());
      m.put("detail", e.detail());
      m.put("at", e.at().toString());
      return json(m);
    }
    try {
      return Gate.JSON.writeValueAsString(payload);
    } catch (IOException | IllegalArgumentException e) {
      return json(Map.of("payload", String.valueOf(payload)));
    }
  }

  private static String json(Object o) {
    try {
      return Gate.JSON.writeValueAsString(o);
    } catch (IOException e) {
      return "{}";
    }
  }
}
