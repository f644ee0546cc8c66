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
 * <p>Lifecycle and flow events reach the feed through an agent subscribed to {@code cfn.agent.#}
 * and {@code cfn.flow.#}; dead letters through {@link #pollDeadLetters}, which reads the runtime's
 * dead-letter window.
 */
final class EventRoutes {
  static final long KEEP_ALIVE_MILLIS = 15_000;

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
    long last = feed.last();
    String resume = call.ctx.header("Last-Event-ID");
    if (resume != null) {
      try {
        last = Long.parseLong(resume.strip());
      } catch (NumberFormatException e) {
        throw Problem.badRequest(
            "Last-Event-ID '" + resume + "' is not an event id (fix: send the id: of an event)");
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
      out.write((": cfn events\nid: " + last + "\n\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      while (!feed.isClosed()) {
        List<EventFeed.Event> events = feed.after(last, KEEP_ALIVE_MILLIS);
        StringBuilder b = new StringBuilder();
        if (events.isEmpty()) {
          b.append(": keep-alive\n\n");
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
